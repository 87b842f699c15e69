"""`mpscan query`: read-only SQL against the store, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from scanner import result_types
from scanner.errors import QueryError
from scanner.store import catalog, user_sql
from scanner.store.db import check_connection, make_engine, require_mpscan

READ_ONLY_TRANSACTION, INSUFFICIENT_PRIVILEGE = "25006", "42501"  # PostgreSQL SQLSTATEs
# SQLite's words for the same refusals (its errors carry no code through sqlite3 here).
READ_ONLY_MARKERS = (
    "readonly database",
    "read-only transaction",
    "query_only",
    "read only",
    "not authorized",
    "authorization denied",
)
UNKNOWN_COLUMN = re.compile(r"no such column|column \S+ does not exist", re.IGNORECASE)
UNKNOWN_TABLE = re.compile(r"no such table|relation \S+ does not exist", re.IGNORECASE)
# A cell starting with one of these is a formula to spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def run_query(url: str, sql: str, timeout: float) -> tuple[list[str], list[tuple]]:
    engine = make_engine(url, read_only=True)
    if engine.dialect.name == "sqlite":
        result_types.sqlite_types(engine)
    check_connection(engine)
    require_mpscan(engine)
    try:
        with engine.connect() as conn:
            try:
                return user_sql.run(conn, sql, timeout)
            finally:
                conn.rollback()  # whatever the statement did, it is never committed
    except DBAPIError as exc:
        text_ = str(exc.orig) if exc.orig else str(exc)
        raise _query_error(text_, sql, _position(exc.orig), _sqlstate(exc.orig)) from None
    except engine.dialect.loaded_dbapi.Error as exc:
        raise _query_error(str(exc), sql, _position(exc), _sqlstate(exc)) from None
    except SQLAlchemyError as exc:
        raise QueryError(f"query error: {' '.join(str(exc).split())}") from None
    finally:
        engine.dispose()


def _sqlstate(exc: BaseException | None) -> str | None:
    return getattr(exc, "sqlstate", None)


def _query_error(
    text_: str, sql: str, position: int | None = None, sqlstate: str | None = None
) -> QueryError:
    message = " ".join(text_.split())
    lowered = message.lower()
    if sqlstate == INSUFFICIENT_PRIVILEGE:
        first = " ".join((text_.strip().splitlines() or [""])[0].split())
        return QueryError(f"query refused: mpscan query may only read tables ({first})")
    if sqlstate == READ_ONLY_TRANSACTION or any(m in lowered for m in READ_ONLY_MARKERS):
        return QueryError(f"query refused: mpscan query is read-only ({message})")
    if "multiple commands" in lowered or "one statement at a time" in lowered:
        return QueryError(f"query refused: one statement at a time ({message})")
    # PostgreSQL follows its message with "LINE n: ..." and a caret under the culprit: one
    # line says where instead, as the text from there on.
    first = " ".join((text_.strip().splitlines() or [""])[0].split())
    return QueryError(f"query error: {first}{_at(position, sql)}{_where_to_look(first, sql)}")


def _at(position: int | None, sql: str) -> str:
    """(at character 27: "foo FROM ...") for PostgreSQL's 1-based statement position."""
    if not position or position > len(sql):
        return ""
    rest = " ".join(sql[position - 1 :].split())
    return f' (at character {position}: "{rest[:40]}{"…" if len(rest) > 40 else ""}")'


def _position(exc: BaseException | None) -> int | None:
    diag = getattr(exc, "diag", None)
    value = getattr(diag, "statement_position", None)
    return int(value) if value and str(value).isdigit() else None


def _where_to_look(message: str, sql: str) -> str:
    if UNKNOWN_TABLE.search(message):
        return " (see the tables with: mpscan tables)"
    if UNKNOWN_COLUMN.search(message):
        named = [w for w in dict.fromkeys(re.findall(r"\w+", sql)) if catalog.table(w) is not None]
        where = [f"mpscan schema {t}" for t in named] or ["mpscan schema"]
        return f" (see the columns with: {', '.join(where)})"
    return ""


def as_json(columns: list[str], rows: list[tuple]) -> str:
    records = [
        {c: result_types.plain(c, v) for c, v in zip(columns, row, strict=True)} for row in rows
    ]
    return json.dumps(records, indent=2, default=str)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def neutralise(cell: str) -> str:
    """Text from AWS is data: never let a spreadsheet run it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


# A control character (ESC, BEL, C1...) is data, but kept inside quotes: a reader sees where
# the value starts and ends, and no tool mistakes it for the end of a field.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class _CsvWriter:
    """RFC 4180 rows (CRLF). The csv module quotes a field holding a CR or LF, so a value never
    starts a row; a row holding any control character is written with every field quoted."""

    def __init__(self, out):
        self._minimal = csv.writer(out, lineterminator="\r\n")
        self._quoted = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row) -> None:
        controlled = any(isinstance(v, str) and _CONTROL.search(v) for v in row)
        (self._quoted if controlled else self._minimal).writerow(row)


def csv_writer(out) -> _CsvWriter:
    return _CsvWriter(out)


def as_csv(columns: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
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
    return [_cell(result_types.plain(c, v)) for c, v in zip(columns, row, strict=True)]
