"""`mpscan db ...`: the database's schema (Alembic migrations)."""

from __future__ import annotations

import click

from scanner.cli.options import CONTEXT, config_option, db_option, settings_from


@click.group(context_settings=CONTEXT)
def db():
    """Database schema: migrations (Alembic)."""


@db.command("upgrade")
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


@db.command("current")
@config_option
@db_option
def db_current(config_path, db_url):
    """Print the database's schema revision and the latest one this mpscan knows."""
    from scanner.store.db import check_connection, current_revision, head_revision, make_engine

    engine = make_engine(settings_from(config_path, db_url).database.url)
    check_connection(engine)
    click.echo(f"current: {current_revision(engine) or 'none'}  latest: {head_revision(engine)}")


COMMANDS = [db]
