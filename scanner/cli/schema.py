"""`mpscan tables` and `mpscan schema`: what there is to query, without opening docs."""

from __future__ import annotations

import json

import click

from scanner.cli.options import CONTEXT, config_option, db_option, format_option, settings_from
from scanner.cli.render import print_table
from scanner.errors import DatabaseError, UsageError, exit_codes_help, one_line

TABLES_EXIT_CODES = exit_codes_help(
    code_0="listed (without row counts, said on stderr, when the database cannot be read)",
    code_2="usage error (bad option or config, invalid database URL)",
)
SCHEMA_EXIT_CODES = exit_codes_help(code_0="listed", code_2="usage error (unknown table)")


def _row_counts(url: str) -> dict[str, int] | None:
    from sqlalchemy.exc import SQLAlchemyError

    from scanner.store.catalog import row_counts
    from scanner.store.db import check_connection, make_engine

    engine = None
    try:
        engine = make_engine(url, read_only=True)  # an invalid URL stays a usage error
        check_connection(engine)
        return row_counts(engine)
    except (DatabaseError, SQLAlchemyError) as exc:
        reason = one_line(exc)
        click.echo(f"mpscan: no row counts ({reason})", err=True)
        return None
    finally:
        if engine is not None:
            engine.dispose()


@click.command(context_settings=CONTEXT, epilog=TABLES_EXIT_CODES)
@format_option("table", "json", help="Output format (json: an array of objects).")
@config_option
@db_option
def tables(fmt, config_path, db_url):
    """List the tables `mpscan query` reads, what each holds and, once scanned, its rows.

    \b
    Examples:
      mpscan tables
      mpscan tables --format json --db postgresql://reader@db/inventory
    """
    from scanner.store import catalog

    counts = _row_counts(settings_from(config_path, db_url).database.url)
    records = [
        {
            "table": t.name,
            "description": catalog.description(t),
            "rows": None if counts is None else counts.get(t.name),
        }
        for t in catalog.tables()
    ]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2))
        return
    columns = ["table", "description"] + (["rows"] if counts is not None else [])
    print_table(columns, [[_text(r[c]) for c in columns] for r in records])


@click.command(context_settings=CONTEXT, epilog=SCHEMA_EXIT_CODES)
@click.argument("table_name", metavar="[TABLE]", required=False)
@format_option("table", "json", help="Output format (json: an array of objects).")
def schema(table_name, fmt):
    """Show the columns of TABLE, or of every table: type, null or not, and what each holds.

    Types are mpscan's: json is JSONB on PostgreSQL and JSON text on SQLite; timestamps
    are UTC.

    \b
    Examples:
      mpscan schema model_packages
      mpscan schema model_package_groups --format json
      mpscan schema                                  # every table
    """
    from scanner.store import catalog

    if table_name is None:
        chosen = catalog.tables()
    elif (found := catalog.table(table_name)) is not None:
        chosen = [found]
    else:
        raise UsageError(
            f"usage error: no table {table_name!r} to query (list them with: mpscan tables)"
        )
    if fmt == "json":
        columns = [c.as_dict() for t in chosen for c in catalog.columns(t)]
        click.echo(json.dumps(columns, indent=2))
        return
    for i, t in enumerate(chosen):
        rows = [
            [c.column, c.type, "yes" if c.nullable else "no", _notes(c)] for c in catalog.columns(t)
        ]
        click.echo(("\n" if i else "") + f"{t.name}: {catalog.description(t)}".rstrip(": "))
        print_table(["column", "type", "null", "notes"], rows)


def _notes(column) -> str:
    parts = ["primary key"] if column.primary_key else []
    parts += [column.comment] if column.comment else []
    parts += [f"→ {column.references}"] if column.references else []
    return "; ".join(parts)


def _text(value) -> str:
    return "" if value is None else str(value)


COMMANDS = [tables, schema]
