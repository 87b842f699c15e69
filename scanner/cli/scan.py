"""`mpscan scan`."""

from __future__ import annotations

import functools
import json
import logging
import math
import sys

import click

from scanner import logs
from scanner.cli.options import CONTEXT, config_option, db_option, format_option, settings_from
from scanner.config import override, parse_regions
from scanner.errors import EXIT_CODES_HELP
from scanner.stages import Status

log = logging.getLogger(__name__)


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "--regions",
    metavar="LIST",
    help="Comma-separated regions, or 'all' for every region enabled for the account "
    "(default: aws.regions in the config, else the profile's region).",
)
@click.option("--profile", help="AWS profile to use (default: the standard credential chain).")
@click.option(
    "--collect",
    type=click.Choice(["search", "describe"]),
    help="How records are read: search (Search's records, 100 a call; what it lags on is "
    "described) or describe (each resource described, its tags listed) [search].",
)
@click.option("--concurrency", type=int, help="Describe/tag workers per region [4].")
@click.option(
    "--retry-mode", type=click.Choice(["adaptive", "standard", "legacy"]), help="botocore retries."
)
@click.option("--max-attempts", type=int, help="Attempts per call, first included [10].")
@click.option(
    "--max-rate", type=float, help="Client-side cap, calls/s per operation and region [0 = none]."
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    is_flag=False,
    flag_value=math.inf,
    default=None,
    metavar="[SECONDS]",
    help="If another scan of the database is running, wait for it (up to SECONDS; no limit "
    "when none is given) instead of exiting 5.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary; errors only.")
@format_option(
    "text",
    "json",
    help="The summary on stdout: text, or json (scan id, status, each region's counts).",
)
@config_option
@db_option
def scan(
    regions,
    profile,
    collect,
    concurrency,
    retry_mode,
    max_attempts,
    max_rate,
    wait,
    quiet,
    fmt,
    config_path,
    db_url,
):
    """Inventory every model package and group of the account into the database.

    Lists versioned and unversioned model packages and every model package group
    (own and shared), reads their records through Search (100 a call; what Search has
    not caught up with is described) or, with --collect describe, describes each and
    lists its tags; reads group policies, and stores it all. A region where Search is
    denied is described instead, and says so.
    A region that fails is recorded (stderr and the scans tables) and keeps its
    previous inventory; the others are stored. A new database is created and migrated.
    One scan runs against a database at a time: while another runs, this one exits 5
    naming it, or waits for it with --wait.

    \b
    Examples:
      mpscan scan                                   # profile region, ./mpscan.db
      mpscan scan --regions us-east-1,eu-west-1 --profile audit
      mpscan scan --regions all --db postgresql://mpscan@db/mpscan
      AWS_ENDPOINT_URL=http://localhost:5000 mpscan scan --regions us-east-1
      mpscan scan --format json -q | jq '.totals'
      mpscan scan --wait 600                        # another scan running: wait up to 10 min
      mpscan scan --collect describe                # no sagemaker:Search: describe each
    """
    from scanner.app.scan import run_scan
    from scanner.rules import catalog

    settings = settings_from(config_path, db_url)
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
    settings = override(settings, "scan", collect=collect)
    # --format json draws no progress; a wait is still said on stderr unless -q.
    notify = (lambda text: click.echo(f"mpscan: {text}", err=True)) if fmt == "json" else None
    result = run_with_progress(
        functools.partial(
            run_scan, wait=wait, notify=None if quiet else notify, rules=catalog.load(settings)
        ),
        settings,
        quiet or fmt == "json",
    )
    report_scan(result, quiet, fmt)
    sys.exit(result.exit_code)


def run_with_progress(run_scan, settings, quiet):
    if quiet:
        return run_scan(settings)
    from scanner.progress import RichProgress, StatusLines, surely_not_a_terminal

    if surely_not_a_terminal():  # a pipe or a file: rich only if a wait is to be said
        return run_scan(settings, progress=StatusLines())
    from rich.console import Console

    err = Console(stderr=True)
    if not err.is_terminal:
        return run_scan(settings, progress=StatusLines(err))

    with RichProgress(err) as progress:
        return run_scan(settings, progress=progress)


def report_scan(result, quiet: bool, fmt: str = "text") -> None:
    for o in result.failed:
        text = (
            f"region {o.region} (account {o.account_id}) failed, previous inventory "
            f"kept: {o.error_kind}: {o.error_message}"
        )
        if logs.structured():  # a service's stderr stays one JSON object a line
            log.warning(text, extra={"account_id": o.account_id, "region": o.region})
        else:
            click.echo(f"mpscan: {text}", err=True)
    described = result.described_instead()  # one line however many regions
    if described is not None:
        first, text = described
        if logs.structured():
            log.warning(text, extra={"account_id": first.account_id, "region": first.region})
        else:
            click.echo(f"mpscan: {text}", err=True)
    summary = result.summary()
    rule_errors = (summary["findings"] or {}).get("rule_errors", {})
    for rule_id, reason in rule_errors.items():  # stderr, even with -q or --format json
        click.echo(f"mpscan: rule {rule_id} could not run: {reason}", err=True)
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    if quiet:
        return
    totals = summary["totals"]
    done = len([o for o in result.outcomes if o.status == Status.COMPLETE])
    who = (
        f"account {result.account_id}" if result.account_id else f"{len(result.accounts)} accounts"
    )
    click.echo(
        f"scan {result.scan_id} {result.status}: {who}, "
        f"{done}/{len(result.outcomes)} regions, {totals['packages']} model packages, "
        f"{totals['groups']} model package groups"
        + (f", {totals['endpoints']} endpoints" if totals.get("endpoints") else "")
        + " stored "
        f"({totals['added']} new, {totals['removed']} removed"
        + (f", {totals['vanished']} deleted while scanned" if totals["vanished"] else "")
        + ")"
    )
    findings = summary["findings"]
    if findings:
        open_ = findings["open_by_status"]
        click.echo(
            f"findings: {open_.get('fail', 0)} failing, {open_.get('error', 0)} unjudged, "
            f"{open_.get('waived', 0)} waived ({findings['new']} new, {findings['regressed']} "
            f"regressed, {findings['resolved']} resolved); see: mpscan check, mpscan report"
        )


COMMANDS = [scan]
