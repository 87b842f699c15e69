"""The `mpscan` command line. Each command's docstring is its --help; the README repeats them."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from scanner import __version__
from scanner.config import load_settings, override, parse_regions
from scanner.errors import EXIT_CODES_HELP, MpscanError, UsageError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Cli(click.Group):
    """Turns every MpscanError into one line on stderr and its documented exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MpscanError as exc:
            click.echo(f"mpscan: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=Cli, context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="mpscan")
def cli() -> None:
    """Inventory and compliance scanner for the Amazon SageMaker model registry.

    \b
    Quick start:
      mpscan demo                          # a local stand-in registry, scanned into SQLite
      mpscan scan --regions us-east-1,eu-west-1
      mpscan query "SELECT model_package_arn FROM model_packages WHERE kms_key_id IS NULL"

    Settings come from options, then environment variables (MPSCAN_DATABASE_URL,
    MPSCAN_CONFIG, the standard AWS_* variables), then the config file (--config,
    default ./mpscan.toml; see config.example.toml), then defaults.
    """


def config_option(f):
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="Config file (default: $MPSCAN_CONFIG or ./mpscan.toml if present).",
    )(f)


def db_option(f):
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        help="Database URL (default: $MPSCAN_DATABASE_URL, the config, sqlite:///mpscan.db).",
    )(f)


def _settings(config_path, db_url):
    settings = load_settings(config_path)
    return override(settings, "database", url=db_url)


@cli.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--regions",
    metavar="LIST",
    help="Comma-separated regions, or 'all' for every region enabled for the account "
    "(default: aws.regions in the config, else the profile's region).",
)
@click.option("--profile", help="AWS profile to use (default: the standard credential chain).")
@click.option("--concurrency", type=int, help="Describe/tag workers per region [4].")
@click.option(
    "--retry-mode", type=click.Choice(["adaptive", "standard", "legacy"]), help="botocore retries."
)
@click.option("--max-attempts", type=int, help="Attempts per call, first included [10].")
@click.option(
    "--max-rate", type=float, help="Client-side cap, calls/s per operation and region [0 = none]."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary; errors only.")
@config_option
@db_option
def scan(
    regions, profile, concurrency, retry_mode, max_attempts, max_rate, quiet, config_path, db_url
):
    """Inventory every model package and group of the account into the database.

    Lists versioned and unversioned model packages and every model package group
    (own and shared), describes each, reads tags and group policies, and stores them.
    A region that fails is recorded (stderr and the scans tables) and keeps its
    previous inventory; the others are stored. A new database is created and migrated.

    \b
    Examples:
      mpscan scan                                   # profile region, ./mpscan.db
      mpscan scan --regions us-east-1,eu-west-1 --profile audit
      mpscan scan --regions all --db postgresql://mpscan@db/mpscan
      AWS_ENDPOINT_URL_SAGEMAKER=http://localhost:5000 mpscan scan --regions us-east-1
    """
    from scanner.scan import run_scan

    settings = _settings(config_path, db_url)
    settings = override(
        settings,
        "aws",
        regions=parse_regions(regions) if regions is not None else None,
        profile=profile,
        concurrency=concurrency,
        retry_mode=retry_mode,
        max_attempts=max_attempts,
        max_rate=max_rate,
    )
    result = _run_with_progress(run_scan, settings, quiet)
    _report_scan(result, quiet)
    sys.exit(result.exit_code)


def _run_with_progress(run_scan, settings, quiet):
    err = Console(stderr=True)
    if quiet or not err.is_terminal:
        return run_scan(settings)
    from scanner.progress import RichProgress

    with RichProgress(err) as progress:
        return run_scan(settings, progress=progress)


def _report_scan(result, quiet) -> None:
    for o in result.failed:
        click.echo(
            f"mpscan: region {o.region} (account {o.account_id}) failed, previous inventory "
            f"kept: {o.error_kind}: {o.error_message}",
            err=True,
        )
    if quiet:
        return
    done = [o for o in result.outcomes if o.status == "complete"]
    packages = sum(o.packages for o in done)
    groups = sum(o.groups for o in done)
    click.echo(
        f"scan {result.scan_id} {result.status}: account {result.account_id}, "
        f"{len(done)}/{len(result.outcomes)} regions, {packages} model packages, "
        f"{groups} model package groups stored"
    )


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("sql")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format (json: an array of objects).",
)
@config_option
@db_option
def query(sql, fmt, config_path, db_url):
    """Run read-only SQL against the inventory. SQL '-' reads it from stdin.

    Write statements are refused and change nothing. Tables: model_packages,
    model_package_containers, model_package_tags, model_package_validation_statuses,
    model_package_metric_sources, model_package_groups, model_package_group_tags,
    removed_resources, scans, scan_regions (see docs/schema.md).

    \b
    Examples:
      mpscan query "SELECT model_package_arn FROM model_packages WHERE kms_key_id IS NULL"
      mpscan query "SELECT image FROM model_package_containers
                    WHERE image NOT LIKE '%@sha256:%'" --format csv
      echo "SELECT * FROM scans" | mpscan query - --format json
    """
    from scanner import query as q

    if sql == "-":
        sql = sys.stdin.read()
    if not sql.strip():
        raise UsageError("usage error: empty SQL")
    settings = _settings(config_path, db_url)
    columns, rows = q.run_query(settings.database.url, sql)
    if fmt == "json":
        click.echo(q.as_json(columns, rows))
    elif fmt == "csv":
        click.echo(q.as_csv(columns, rows), nl=False)
    else:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*q.table_cells(columns, row))
        Console(markup=False).print(table)
        click.echo(f"{len(rows)} row{'s' if len(rows) != 1 else ''}", err=True)


@cli.group(context_settings=CONTEXT)
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

    settings = _settings(config_path, db_url)
    engine = make_engine(settings.database.url)
    upgrade(engine, revision)
    click.echo(f"{safe_url(settings.database.url)} is at revision {current_revision(engine)}")


@db.command("current")
@config_option
@db_option
def db_current(config_path, db_url):
    """Print the database's schema revision and the latest one this mpscan knows."""
    from scanner.store.db import check_connection, current_revision, head_revision, make_engine

    engine = make_engine(_settings(config_path, db_url).database.url)
    check_connection(engine)
    click.echo(f"current: {current_revision(engine) or 'none'}  latest: {head_revision(engine)}")


@cli.command()
@click.option(
    "--db",
    "db_url",
    default="sqlite:///mpscan-demo.db",
    show_default=True,
    metavar="URL",
    help="Where the demo inventory is written.",
)
@click.option("--scale", type=int, default=1, show_default=True, help="Multiply the registry.")
@click.option("--serve", is_flag=True, help="Keep the stand-in running after the scan.")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def demo(db_url, scale, serve, quiet):
    """Scan a local AWS stand-in seeded with a sample registry into SQLite.

    Starts moto's server on 127.0.0.1 with mpscan's extensions (needs the `demo` extra:
    pip install 'mpscan[demo]'), seeds two regions (a group of more than 100 versions,
    unversioned packages, groups with and without policies, packages without a KMS key),
    points the standard AWS_ENDPOINT_URL at it and runs `mpscan scan`.

    \b
    Example:
      mpscan demo && mpscan query "SELECT region, count(*) FROM model_packages GROUP BY region" \\
        --db sqlite:///mpscan-demo.db
    """
    from scanner.demo import run_demo

    result = run_demo(
        db_url,
        scale=scale,
        serve=serve,
        quiet=quiet,
        runner=_run_with_progress,
        report=lambda r: _report_scan(r, quiet=False),
    )
    sys.exit(result.exit_code)


def main() -> None:
    cli(prog_name="mpscan")
