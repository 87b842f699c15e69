"""`mpscan query`: read-only SQL against the store, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from scanner.errors import QueryError
from scanner.store.db import check_connection, make_engine
from scanner.store.schema import Base

# SQLite hands JSON columns back as text; these names say which values to decode.
JSON_COLUMNS = {
    c.name for t in Base.metadata.tables.values() for c in t.columns if isinstance(c.type, JSON)
}

READ_ONLY_MARKERS = (
    "readonly database",
    "read-only transaction",
    "query_only",
    "read only",
    "not authorized",
    "authorization denied",
)
COPY = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*copy\b", re.IGNORECASE | re.DOTALL)
# A cell starting with one of these is a formula to spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def run_query(url: str, sql: str) -> tuple[list[str], list[tuple]]:
    engine = make_engine(url, read_only=True)
    check_connection(engine)
    try:
        with engine.connect() as conn:
            try:
                return _execute(conn, sql)
            finally:
                conn.rollback()  # whatever the statement did, it is never committed
    except DBAPIError as exc:
        raise _query_error(str(exc.orig) if exc.orig else str(exc)) from None
    except engine.dialect.loaded_dbapi.Error as exc:
        raise _query_error(str(exc)) from None
    except SQLAlchemyError as exc:
        raise QueryError(f"query error: {' '.join(str(exc).split())}") from None
    finally:
        engine.dispose()


def _execute(conn, sql: str) -> tuple[list[str], list[tuple]]:
    if conn.dialect.name == "postgresql":
        if COPY.match(sql):  # COPY ... TO PROGRAM/FILE reads, yet reaches the server's shell
            raise QueryError("query refused: COPY is not allowed by mpscan query")
        # psycopg sends a parameterless string by the simple protocol, which runs
        # "...; COMMIT; DELETE ..." whole. A prepared statement admits exactly one.
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, prepare=True)
            if cursor.description is None:
                return [], []
            return [d.name for d in cursor.description], [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()
    # exec_driver_sql: ':word' in the user's SQL is text, not a bind parameter.
    result = conn.exec_driver_sql(sql)  # sqlite3 itself refuses more than one statement
    if not result.returns_rows:
        return [], []
    return list(result.keys()), [tuple(r) for r in result]


def _query_error(text_: str) -> QueryError:
    message = " ".join(text_.split())
    lowered = message.lower()
    if any(marker in lowered for marker in READ_ONLY_MARKERS):
        return QueryError(f"query refused: mpscan query is read-only ({message})")
    if "multiple commands" in lowered or "one statement at a time" in lowered:
        return QueryError(f"query refused: one statement at a time ({message})")
    return QueryError(f"query error: {message}")


def _plain(column: str, value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if column in JSON_COLUMNS and isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def as_json(columns: list[str], rows: list[tuple]) -> str:
    records = [{c: _plain(c, v) for c, v in zip(columns, row, strict=True)} for row in rows]
    return json.dumps(records, indent=2, default=str)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def neutralise(cell: str) -> str:
    """Text from AWS is data: never let a spreadsheet run it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def as_csv(columns: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = table_cells(columns, row)
        writer.writerow(
            [
                neutralise(cell) if isinstance(v, str) else cell
                for cell, v in zip(cells, row, strict=True)
            ]
        )
    return out.getvalue()


def table_cells(columns: list[str], row: tuple) -> list[str]:
    return [_cell(_plain(c, v)) for c, v in zip(columns, row, strict=True)]
