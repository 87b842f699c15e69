"""Render docs/schema.md from the models: `python -m scanner.store.docs > docs/schema.md`."""

from __future__ import annotations

import inspect
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Mapper

from scanner.store.schema import VIEWS, Base

HEADER = """# Schema

Generated from `scanner/store/schema.py` by `python -m scanner.store.docs`; a test keeps it
current. JSON columns hold AWS's own structures and keys (JSONB on PostgreSQL). Timestamps
are UTC. Column names of `model_packages` follow the StackQL resource
`awscc.sagemaker.model_packages` and botocore's `DescribeModelPackageOutput`.

Records are read one of two ways (`mpscan scan --collect`, `[scan] collect`). `search`, the
default, reads them from SageMaker Search, 100 a call, and describes only what Search has
not caught up with. `describe` describes every resource and lists its tags. A region where
Search fails is described instead. Both ways store the same facts: Search's records carry
the describe responses' members and the tags. The one exception is a column marked
*describe-only* below: it is filled when a package is described, and kept from that
describe when Search reads the package later. `record_source` says which call answered a
row. In `scan_regions`, `collect` says how a region was read and `collect_note` why Search
was not used; `searched` and `described` count the resources read each way.
"""


def _type(column) -> str:
    name = type(column.type).__name__
    return {"JSON": "json", "DateTime": "timestamp", "UtcDateTime": "timestamp"}.get(
        name, name.lower()
    )


def _table(mapper: Mapper) -> Table:
    # A declarative model's local_table is its Table; SQLAlchemy's stubs say FromClause.
    return cast(Table, mapper.local_table)


def render() -> str:
    parts = [HEADER]
    declared = [(_table(m), inspect.getdoc(m.class_) or "", "") for m in Base.registry.mappers]
    views = [(t, t.info["doc"], " (view)") for t in VIEWS.tables.values()]
    for table, doc, what in sorted(declared, key=lambda d: d[0].name) + views:
        parts.append(f"\n## `{table.name}`{what}\n")
        if doc and not doc.startswith(("Base", "DeclarativeBase")):
            parts.append(f"\n{doc}\n")
        parts.append("\n| column | type | null | notes |\n|---|---|---|---|\n")
        for column in table.columns:
            notes = column.comment or ""
            if column.primary_key:
                notes = ("primary key. " + notes).strip()
            for fk in column.foreign_keys:
                notes = (notes + f" → `{fk.target_fullname}`").strip()
            null = "yes" if column.nullable else "no"
            parts.append(f"| `{column.name}` | {_type(column)} | {null} | {notes} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
