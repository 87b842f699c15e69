"""What the databases answer about a JSON column without handing over its text.

`holds(column)` is true where the column holds a value Python reads as true: not SQL NULL,
JSON null, false, 0, "", {} or []. A rule that only asks whether a package has, say,
ModelMetrics (scanner.rules.base.Rule.present) reads this instead of the document: on
PostgreSQL the server turns JSONB into text for every row the judge reads (about 1 s of
its CPU per 100,000 packages for the ValidationSpecification alone), and mpscan parses
that text again. tests/test_rules.py checks each case against Python's truth on both
backends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class holds(FunctionElement[bool]):  # noqa: N801 (a SQL function, named as one)
    type = Boolean()
    name = "holds"
    inherit_cache = True


@compiles(holds, "postgresql")
def _postgresql(element: holds, compiler: Any, **kw: Any) -> str:
    c = compiler.process(element.clauses, **kw)
    [column] = element.clauses.clauses
    if not isinstance(column.type.dialect_impl(compiler.dialect), JSONB):
        c = f"CAST({c} AS JSONB)"  # `json` has no equality: compared as `jsonb`
    return (
        f"COALESCE(CASE jsonb_typeof({c}) "
        f"WHEN 'object' THEN {c} <> '{{}}'::jsonb "
        f"WHEN 'array' THEN {c} <> '[]'::jsonb "
        f"WHEN 'string' THEN {c} <> '\"\"'::jsonb "
        f"WHEN 'number' THEN {c} <> '0'::jsonb "  # jsonb compares numbers by value: 0.0 too
        f"WHEN 'boolean' THEN {c} = 'true'::jsonb "
        f"ELSE false END, false)"
    )


@compiles(holds, "sqlite")
def _sqlite(element: holds, compiler: Any, **kw: Any) -> str:
    c = compiler.process(element.clauses, **kw)
    # SQLite's JSON is text: its own functions read it, whatever its spacing. What they
    # refuse but Python reads (NaN, Infinity) is never empty: true, as in Python.
    return (
        f"COALESCE(CASE WHEN {c} IS NULL THEN 0 WHEN NOT json_valid({c}) THEN 1 "
        f"ELSE CASE json_type({c}) "
        f"WHEN 'object' THEN EXISTS (SELECT 1 FROM json_each({c})) "
        f"WHEN 'array' THEN json_array_length({c}) > 0 "
        f"WHEN 'text' THEN json_extract({c}, '$') <> '' "
        f"WHEN 'integer' THEN json_extract({c}, '$') <> 0 "
        f"WHEN 'real' THEN json_extract({c}, '$') <> 0 "
        f"WHEN 'true' THEN 1 "
        f"ELSE 0 END END, 0)"
    )
