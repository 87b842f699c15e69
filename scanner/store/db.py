"""Engines per database URL: SQLite pragmas, read-only connections, migrations, clear errors."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import DatabaseError as DBAPIDatabaseError

from scanner.errors import DatabaseError, UsageError, one_line

if TYPE_CHECKING:
    from alembic.config import Config

READ_ONLY_PG = "-c default_transaction_read_only=on"

# URL scheme -> the SQLAlchemy driver mpscan uses. psycopg 3 is the one PostgreSQL driver
# installed (mpscan[postgres]); "postgres://" is how Heroku and others spell PostgreSQL.
DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
SUPPORTED_URLS = "supported: sqlite:///PATH, postgresql://... (psycopg 3)"

# The revision migrations/versions ends at: a database whose alembic_version holds exactly
# this needs no Alembic (which takes longer to import than a small scan takes to run).
# tests/test_migrations.py checks that it is Alembic's head.
HEAD_REVISION = "0010"


def safe_url(url: str) -> str:
    """The URL as it may be printed: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid database URL>"


def shown(engine: Engine) -> str:
    """The database as messages name it: a SQLite file's path, else its URL sans password."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        if url.query.get("uri"):  # read-only: file:PATH?mode=ro, PATH quoted
            return unquote(url.database.removeprefix("file:").rpartition("?")[0])
        return url.database
    return safe_url(url.render_as_string())


# What a read-only SQLite connection may do: read, call functions, and look at the schema.
# mode=ro and query_only stop writes to the database, but ATTACH and VACUUM INTO would still
# create files; an authorizer allow-list refuses everything else at prepare time.
_SQLITE_READS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
_SQLITE_READ_PRAGMAS = {
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "database_list",
    "function_list",
    "pragma_list",
    "compile_options",
}


# Functions a read may not call: these hand out raw pointers (fts3_tokenizer with one
# argument returns a tokenizer's address, with two it installs one: a known path from SQL to
# code execution) or reach outside the database.
_SQLITE_REFUSED_FUNCTIONS = {"fts3_tokenizer", "fts5", "load_extension", "readfile", "writefile"}


def _sqlite_read_only_authorizer(action, arg1, arg2, _db, _trigger) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _SQLITE_REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action in _SQLITE_READS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg1 in _SQLITE_READ_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _sqlite_read_only(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA query_only=ON")
    dbapi_connection.set_authorizer(_sqlite_read_only_authorizer)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_wal(dbapi_connection, _record) -> None:
    """Write-ahead logging: readers (a report, a long query) and the scan's writer never
    wait for each other; writers wait for each other up to the busy timeout (60 s). The
    mode is stored in the file, so read-only connections use it too. synchronous=NORMAL is
    WAL's documented pairing: a commit survives a crash of mpscan, and the database stays
    consistent after a power loss."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError:
        pass  # not a database: the first statement of the command says so, in one line
    finally:
        cursor.close()


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a bad port only raises when read
    except (ArgumentError, ValueError):
        # Never echo the URL: a malformed one may still hold a password.
        raise UsageError(
            "usage error: invalid database URL (expected e.g. sqlite:///mpscan.db or "
            "postgresql://user@host/dbname)"
        ) from None
    driver = DRIVERS.get(parsed.drivername)
    if driver is None:
        raise UsageError(
            f"usage error: unsupported database URL scheme '{parsed.drivername}://' "
            f"({SUPPORTED_URLS})"
        )
    parsed = parsed.set(drivername=driver)
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if read_only and database and database != ":memory:":
            _require_file(database)
            # mode=ro opens the file read-only at the OS level; query_only guards the rest.
            uri = f"file:{quote(database, safe='/')}?mode=ro"  # '#' or '?' in a name stays a name
            parsed = parsed.set(database=uri, query={"uri": "true"})
        kwargs["connect_args"] = {"timeout": 60}
    elif parsed.get_backend_name() == "postgresql" and read_only:
        # Keep the user's own libpq options (e.g. a search_path) and add read-only.
        given = parsed.normalized_query.get("options", ())
        options = " ".join(filter(None, [*given, READ_ONLY_PG]))
        parsed = parsed.difference_update_query(["options"])
        kwargs["connect_args"] = {"options": options}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise UsageError(
            f"usage error: no driver for {safe_url(url)} ({exc}); "
            "for PostgreSQL install mpscan[postgres]"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if read_only:
            event.listen(engine, "connect", _sqlite_read_only)
        elif (parsed.database or ":memory:") != ":memory:":
            event.listen(engine, "connect", _sqlite_wal)
    return engine


@contextmanager
def driver_errors(conn: Connection, statement: str, params: Any = None, *, many: bool = False):
    """Around work on the driver's own cursor (conn.connection.driver_connection): its
    errors raised as SQLAlchemy raises them from conn.execute (OperationalError,
    IntegrityError, ...: a DBAPIError with the driver's as .orig), so that what catches
    SQLAlchemyError catches them too."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        raise DBAPIError.instance(
            statement,
            params,
            exc,
            dbapi_error,
            hide_parameters=conn.engine.hide_parameters,
            dialect=conn.dialect,
            ismulti=many,
        ) from exc


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = one_line(exc)
        raise DatabaseError(
            f"database error: cannot connect to {shown(engine)}: {reason}"
        ) from None


def type_processor(type_: Any, dialect: Any, kind: str) -> Any:
    """SQLAlchemy's conversion of a parameter ("bind") or a value ("result") of this type
    on this dialect, or None: what work on the driver's own cursor applies by hand."""
    impl = type_.dialect_impl(dialect)
    return impl.bind_processor(dialect) if kind == "bind" else impl.result_processor(dialect, None)


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection under `conn` (psycopg's or sqlite3's), for what
    SQLAlchemy does not offer; SQLAlchemy has none once the connection is invalidated."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise DatabaseError("database error: the connection to the database was invalidated")
    return raw


def migrations_dir() -> Path:
    """Migrations travel inside the wheel; in a checkout they sit at the top level."""
    packaged = resources.files("scanner") / "_data" / "migrations"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, None for a database without mpscan's schema yet.

    A file that is not a database, or a revision this mpscan does not know (a newer mpscan
    migrated it, or another Alembic project owns it), is one line, not Alembic's traceback.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = shown(engine)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except DBAPIDatabaseError as exc:  # e.g. SQLite's "file is not a database"
        reason = one_line(exc)
        raise DatabaseError(f"database error: cannot read {url}: {reason}") from None
    script = ScriptDirectory.from_config(alembic_config(engine))
    if revision is not None and revision not in {r.revision for r in script.walk_revisions()}:
        raise DatabaseError(
            f"database error: {url} is at schema revision {revision!r}, unknown to this mpscan "
            f"(latest: {script.get_current_head()}): a newer mpscan migrated it, "
            "or it is not an mpscan database"
        )
    return revision


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config(engine))
    try:  # before connecting: an unknown revision must not leave a new database behind
        script.get_revisions(revision)
    except CommandError as exc:
        known = [r.revision for r in script.walk_revisions()]
        raise UsageError(
            f"usage error: cannot upgrade to {revision!r}: {one_line(exc)} "
            f"(known revisions: {', '.join(known)}, head)"
        ) from None
    check_connection(engine)
    current_revision(engine)  # unreadable or unknown: stop before Alembic does
    config = alembic_config(engine)
    try:
        command.upgrade(config, revision)
    except CommandError as exc:  # an unknown or unreachable target revision
        known = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]
        raise UsageError(
            f"usage error: cannot upgrade to {revision!r}: {one_line(exc)} "
            f"(known revisions: {', '.join(known)}, head)"
        ) from None


def at_head(engine: Engine) -> bool:
    """Whether the database's alembic_version holds exactly HEAD_REVISION, read with one
    SELECT and no Alembic. Anything else (no such table yet, not a database, another
    revision, several) is False: Alembic judges it, as before."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        return False
    return [tuple(row) for row in rows] == [(HEAD_REVISION,)]


def ensure_schema(engine: Engine) -> None:
    """`scan` brings a new or older database to the current schema itself."""
    check_connection(engine)
    if not at_head(engine) and current_revision(engine) != head_revision(engine):
        upgrade(engine)


def ensure_readable(engine: Engine) -> None:
    """For commands that read a scanned inventory (status, report, check, evaluate, diff,
    prune): the database must be mpscan's, at this mpscan's schema. They never create or
    migrate one (a wrong --db must not gain mpscan's tables): only `scan` and `db upgrade`
    do."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        if database and database != ":memory:":
            _require_file(database)
    check_connection(engine)
    if at_head(engine):
        return
    revision = require_mpscan(engine)
    head = head_revision(engine)
    if revision != head:
        raise DatabaseError(
            f"database error: {shown(engine)} is at schema revision {revision}, older than "
            f"this mpscan's ({head}): run `mpscan db upgrade`"
        )


def require_mpscan(engine: Engine) -> str:
    """The database's schema revision; DatabaseError (exit 1) when it has no mpscan schema
    or is not a database at all."""
    revision = current_revision(engine)
    if revision is None:
        raise DatabaseError(
            f"database error: {shown(engine)} is not an mpscan database (it has no mpscan "
            "schema; `mpscan scan` creates one)"
        )
    return revision


def _require_file(database: str) -> None:
    """Commands that read an inventory never create a SQLite file by opening it."""
    if not Path(database).exists():
        raise DatabaseError(
            f"database error: no database at {database} (the file does not exist; "
            "run `mpscan scan` first)"
        )
