"""SQL a user wrote (`mpscan query`, custom SQL rules): exactly one statement, in a read-only
transaction, within a time limit. Each bound is enforced by the database or the driver,
never by reading the SQL text:

- one statement: PostgreSQL parses it as a prepared statement (the extended protocol admits
  exactly one; psycopg's simple protocol would run "...; COMMIT; DELETE ..." whole); Python's
  sqlite3 refuses a second statement itself.
- read-only: the connection comes from a read-only engine (`make_engine(read_only=True)`:
  PostgreSQL's default_transaction_read_only, SQLite's mode=ro, query_only and an
  authoriser); on PostgreSQL the transaction is also declared READ ONLY first.
- time: PostgreSQL's statement_timeout and lock_timeout for this transaction; on SQLite a
  progress handler that interrupts the statement at its deadline.
- the server's shell and files: a PostgreSQL role that may run server programs or read and
  write server files (a superuser, pg_execute_server_program, ...) runs the statement as
  pg_read_all_data (SET LOCAL ROLE), which may read every table and nothing more, so
  COPY ... TO PROGRAM and pg_read_file are the database's refusal; a role with those powers
  that cannot drop them does not run user SQL at all.

The caller rolls the transaction back: nothing the statement did is ever committed.
"""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import Connection

from scanner.errors import QueryError, QueryTimeout, Terminated
from scanner.store.db import driver_connection

# Powers over the server itself, beyond reading tables; and the predefined role without them.
_SERVER_POWERS = ("pg_execute_server_program", "pg_write_server_files", "pg_read_server_files")
_POWERS_SQL = (
    "SELECT r.rolsuper OR "
    + " OR ".join(
        f"(EXISTS (SELECT FROM pg_roles WHERE rolname = '{p}') "
        f"AND pg_has_role(r.oid, '{p}', 'USAGE'))"
        for p in _SERVER_POWERS
    )
    + ", EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_read_all_data') "
    "AND pg_has_role(r.oid, 'pg_read_all_data', 'MEMBER') "
    "FROM pg_roles r WHERE r.rolname = current_user"
)

# SQLite calls the progress handler every this many virtual machine instructions
# (about a millisecond of work each time on this kind of machine).
_SQLITE_STEPS = 10_000


def run(conn: Connection, sql: str, timeout: float) -> tuple[list[str], list[tuple]]:
    """Run `sql` as one statement; its column names and rows. QueryTimeout past `timeout`
    seconds; the driver's error for anything else (more than one statement included)."""
    if conn.dialect.name == "postgresql":
        return _postgresql(conn, sql, timeout)
    return _sqlite(conn, sql, timeout)


def _postgresql(conn: Connection, sql: str, timeout: float):
    import psycopg

    ms = max(1, int(timeout * 1000))
    cursor = driver_connection(conn).cursor()
    try:
        # The first statements of the transaction: later ones cannot undo them, and a
        # statement of the user's can only be one (prepared) statement.
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SET LOCAL statement_timeout = {ms}")
        cursor.execute(f"SET LOCAL lock_timeout = {ms}")
        _drop_server_powers(cursor)
        try:
            cursor.execute(sql, prepare=True)
        except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable):
            raise QueryTimeout(_timed_out(timeout)) from None
        if cursor.description is None:
            return [], []
        return [d.name for d in cursor.description], [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def _drop_server_powers(cursor) -> None:
    cursor.execute(_POWERS_SQL)
    powerful, can_read_only = cursor.fetchone()
    if not powerful:
        return
    if not can_read_only:
        raise QueryError(
            "query refused: this database role may run programs or read and write files on "
            "the PostgreSQL server and cannot drop that for user SQL (it is not a member of "
            "pg_read_all_data): connect as a role without those powers, such as the reader "
            "role in the README"
        )
    cursor.execute("SET LOCAL ROLE pg_read_all_data")


def _sqlite(conn: Connection, sql: str, timeout: float):
    raw = driver_connection(conn)
    deadline = time.monotonic() + timeout

    def past_deadline() -> int:
        return 1 if time.monotonic() > deadline else 0  # non-zero interrupts the statement

    raw.set_progress_handler(past_deadline, _SQLITE_STEPS)
    cursor = raw.cursor()
    try:
        try:
            cursor.execute(sql)
            rows = [tuple(r) for r in cursor.fetchall()]
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                if time.monotonic() > deadline:
                    raise QueryTimeout(_timed_out(timeout)) from None
                # Interrupted before its deadline: by a signal whose handler raised inside
                # the progress handler, where sqlite3 swallows the exception. Raised again,
                # the command ends as on Ctrl-C (or SIGTERM).
                raise Terminated() if Terminated.received else KeyboardInterrupt() from None
            raise
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], rows
    finally:
        cursor.close()
        raw.set_progress_handler(None, 0)


def _timed_out(timeout: float) -> str:
    return (
        f"query timed out: the statement ran longer than {timeout:g} s and was cancelled "
        "(raise --timeout, or [query] timeout in the config)"
    )
