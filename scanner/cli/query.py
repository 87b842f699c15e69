"""`mpscan query`: read-only SQL."""

from __future__ import annotations

import sys

import click

from scanner.cli import render
from scanner.cli.options import CONTEXT, config_option, db_option, format_option, settings_from
from scanner.cli.render import print_table
from scanner.errors import UsageError, exit_codes_help

QUERY_EXIT_CODES = exit_codes_help(
    code_0="the query ran (its rows, possibly none, are on stdout)",
    code_1="the database is missing, unreachable or not an mpscan database",
    code_2="usage error, or SQL that is invalid or refused (mpscan query is read-only, "
    "one statement)",
    code_7="the statement ran longer than --timeout and was cancelled",
    code_130="interrupted (Ctrl-C or SIGINT); nothing was written",
)


@click.command(context_settings=CONTEXT, epilog=QUERY_EXIT_CODES)
@click.argument("sql")
@format_option("table", "csv", "json", help="Output format (json: an array of objects).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Cancel the statement after this long (default: [query] timeout, 300).",
)
@config_option
@db_option
def query(sql, fmt, timeout, config_path, db_url):
    """Run read-only SQL against the inventory. SQL '-' reads it from stdin.

    Exactly one statement runs, in a read-only transaction, for at most --timeout seconds;
    write statements are refused and change nothing. `mpscan tables` lists the tables and
    `mpscan schema TABLE` their columns. Output is the same on SQLite and PostgreSQL:
    booleans true/false, timestamps ISO 8601 in UTC, JSON columns as JSON (on SQLite, a
    computed value is typed only when named after a column, e.g. AS creation_time). The
    table format cuts nothing when piped.

    \b
    Examples:
      mpscan query "SELECT model_package_arn FROM model_packages WHERE kms_key_id IS NULL"
      mpscan query "SELECT image FROM model_package_containers
                    WHERE image NOT LIKE '%@sha256:%'" --format csv
      echo "SELECT * FROM scans" | mpscan query - --format json
      mpscan query --timeout 30 "SELECT COUNT(*) FROM resource_changes"
    """
    from scanner import query as q

    if sql == "-":
        sql = sys.stdin.read()
    if not sql.strip():
        raise UsageError("usage error: empty SQL")
    settings = settings_from(config_path, db_url)
    columns, rows = q.run_query(settings.database.url, sql, timeout or settings.query.timeout)
    if fmt == "json":
        render.data(q.as_json(columns, rows))
    elif fmt == "csv":
        render.data(q.as_csv(columns, rows), nl=False)
    else:
        print_table(columns, [q.table_cells(columns, row) for row in rows])
        click.echo(f"{len(rows)} row{'s' if len(rows) != 1 else ''}", err=True)


COMMANDS = [query]
