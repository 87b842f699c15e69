"""`mpscan demo`: a local stand-in registry, scanned."""

from __future__ import annotations

import sys

import click

from scanner.cli import startup
from scanner.cli.options import CONTEXT
from scanner.cli.scan import report_scan, run_with_progress
from scanner.errors import exit_codes_help

DEMO_EXIT_CODES = exit_codes_help(
    code_0="the demo registry was scanned (with --serve: the stand-in stopped on Ctrl-C)",
    code_1="the stand-in could not start, or the database could not be written",
    code_2="usage error (a bad option, --scale out of range)",
    code_130="interrupted (Ctrl-C) before the demo scan finished",
)


@click.command(context_settings=CONTEXT, epilog=DEMO_EXIT_CODES)
@click.option(
    "--db",
    "db_url",
    default="sqlite:///mpscan-demo.db",
    show_default=True,
    metavar="URL",
    help="Where the demo inventory is written.",
)
@click.option(
    "--scale",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Multiply the sample registry (1 = about 280 model packages).",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Keep the stand-in running on 127.0.0.1 after the scan, to scan it again (Ctrl-C stops).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def demo(db_url, scale, serve, quiet):
    """Scan a local AWS stand-in seeded with a sample registry into a database.

    Starts moto's server on 127.0.0.1 with mpscan's extensions (needs the `demo` extra:
    pip install 'mpscan[demo]'), seeds two regions (a group of more than 100 versions,
    unversioned packages, groups with and without policies, packages without a KMS key),
    points the standard AWS_ENDPOINT_URL at it and runs `mpscan scan`. The stand-in stops when
    the demo ends (with --serve: on Ctrl-C).

    \b
    Examples:
      mpscan demo && mpscan query "SELECT region, count(*) FROM model_packages GROUP BY region" \\
        --db sqlite:///mpscan-demo.db
      mpscan demo --scale 4 --serve --db postgresql+psycopg://mpscan@localhost/mpscan
    """
    from scanner.demo import run_demo

    startup.resume()  # the demo reads no settings, and may serve until Ctrl-C
    result = run_demo(
        db_url,
        scale=scale,
        serve=serve,
        quiet=quiet,
        runner=run_with_progress,
        report=lambda r: report_scan(r, quiet=False),
    )
    sys.exit(result.exit_code)


COMMANDS = [demo]
