"""Give query results the same types and text on SQLite as on PostgreSQL.

PostgreSQL's driver returns bool, aware datetime and parsed JSON. SQLite returns 0/1, naive
text and JSON text, and says nothing of a result column's type, except through the declared
type of the table column it reads (`sqlite3.PARSE_DECLTYPES`), aliases included. A computed
value (max(creation_time), json_extract(...)) has no declared type; it is typed only when it
is named after a schema column of that kind (AS creation_time) and has that kind's shape.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event

from scanner.store import catalog

# How SQLAlchemy stores a DateTime in SQLite (UTC here, without a zone).
SQLITE_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")
NAME_KINDS = catalog.kinds_by_name()


def _timestamp(text: str) -> datetime | str:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _boolean(value: int | str) -> bool | int | str:
    try:
        number = int(value)
    except ValueError:
        return value
    return bool(number) if number in (0, 1) else number


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


_PARSE: dict[str, Callable[[str], Any]] = {
    "boolean": _boolean,
    "timestamp": _timestamp,
    "json": _json,
}


def _converter(parse: Callable[[str], Any]) -> Callable[[bytes], Any]:
    return lambda raw: parse(raw.decode())


def sqlite_types(engine: Engine) -> None:
    """Have this engine's connections convert values by their column's declared type."""
    # Converters are process-wide in sqlite3, but apply only to connections opened with
    # detect_types; only mpscan query's connections are.
    for decltype, kind in catalog.kinds_by_sqlite_decltype().items():
        sqlite3.register_converter(decltype, _converter(_PARSE[kind]))

    @event.listens_for(engine, "do_connect")
    def _detect_types(_dialect, _record, _cargs, cparams):
        cparams["detect_types"] = sqlite3.PARSE_DECLTYPES


def _by_name(column: str, value: Any) -> Any:
    kind = NAME_KINDS.get(column)
    if kind == "timestamp" and isinstance(value, str) and SQLITE_TIMESTAMP.fullmatch(value):
        return _timestamp(value)
    if kind == "boolean" and type(value) is int and value in (0, 1):
        return bool(value)
    if kind == "json" and isinstance(value, str) and value[:1] in "[{":
        return _json(value)
    return value


def _sorted(value: Any) -> Any:
    """jsonb reorders object keys and SQLite keeps AWS's order: sorting makes them agree."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def plain(column: str, value: Any) -> Any:
    """A value as JSON would hold it, the same whichever database it came from."""
    value = _by_name(column, value)
    if isinstance(value, datetime):
        # PostgreSQL answers in its session's time zone; stored times are UTC.
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return _sorted(value)
    if isinstance(value, Decimal):  # numeric on PostgreSQL, where SQLite gives int or float
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value
