"""`mpscan db ...`: the database's schema (Alembic migrations)."""

from __future__ import annotations

import click

from scanner.cli.options import CONTEXT, config_option, db_option, settings_from
from scanner.errors import exit_codes_help

DB_EXIT_CODES = exit_codes_help(
    code_0="done",
    code_1="the database is missing (db current), unreachable, not a database, or at a schema "
    "revision this mpscan does not know",
    code_2="usage error: a bad option or database URL, an unknown REVISION",
)


@click.group(context_settings=CONTEXT)
def db():
    """Database schema: migrations (Alembic).

    \b
    Examples:
      mpscan db current
      mpscan db upgrade --db postgresql://mpscan@localhost/mpscan
    """


@db.command("upgrade", epilog=DB_EXIT_CODES)
@click.argument("revision", default="head")
@config_option
@db_option
def db_upgrade(revision, config_path, db_url):
    """Migrate the database to REVISION (default: the latest).

    \b
    Example:
      mpscan db upgrade --db postgresql://mpscan@localhost/mpscan
    """
    from scanner.store.db import current_revision, make_engine, safe_url, upgrade

    settings = settings_from(config_path, db_url)
    engine = make_engine(settings.database.url)
    upgrade(engine, revision)
    click.echo(f"{safe_url(settings.database.url)} is at revision {current_revision(engine)}")


@db.command("current", epilog=DB_EXIT_CODES)
@config_option
@db_option
def db_current(config_path, db_url):
    """Print the database's schema revision and the latest one this mpscan knows.

    Only reads: a missing SQLite file is reported, not created.

    \b
    Example:
      mpscan db current --db sqlite:///mpscan.db
    """
    from scanner.store.db import check_connection, current_revision, head_revision, make_engine

    engine = make_engine(settings_from(config_path, db_url).database.url, read_only=True)
    check_connection(engine)
    click.echo(f"current: {current_revision(engine) or 'none'}  latest: {head_revision(engine)}")


COMMANDS = [db]
