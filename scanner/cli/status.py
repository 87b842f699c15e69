"""`mpscan status`: is the inventory complete and fresh? For people, scripts and monitoring."""

from __future__ import annotations

import json
import sys

import click

from scanner.cli.options import CONTEXT, config_option, db_option, format_option, settings_from
from scanner.cli.render import print_table
from scanner.config import parse_duration
from scanner.errors import exit_codes_help

STATUS_EXIT_CODES = exit_codes_help(
    code_0="every account and region's last scan completed (and is younger than --max-age)",
    code_1="the database is missing or unreachable",
    code_2="usage or configuration error",
    code_3="an account and region's last scan failed or was interrupted (partial inventory)",
    code_6=True,
)


@click.command(context_settings=CONTEXT, epilog=STATUS_EXIT_CODES)
@click.option(
    "--max-age",
    metavar="DURATION",
    help="Exit 6 when a last scan is older than this (90min, 26h, 2d). Default: no limit.",
)
@format_option(
    "table",
    "json",
    "prometheus",
    help="prometheus: the text format, for node-exporter's textfile collector.",
)
@config_option
@db_option
def status(max_age, fmt, config_path, db_url):
    """The last scan of every account and region, its age and outcome, and open findings.

    "last event" is how long ago `mpscan listen` last applied a registry event there.

    Regions listed in the config (aws.regions) that were never scanned count as stale.

    \b
    Examples:
      mpscan status
      mpscan status --max-age 26h || alert "mpscan inventory is stale"
      mpscan status --format prometheus > /var/lib/node_exporter/textfile/mpscan.prom
    """
    from scanner.app.inventory import inventory_status
    from scanner.metrics import status_registry, text
    from scanner.rules import catalog

    limit = parse_duration(max_age, "--max-age") if max_age else None
    settings = settings_from(config_path, db_url)
    verdict = inventory_status(settings, catalog.load(settings), limit)
    statuses, findings, now, stale = (
        verdict.statuses,
        verdict.findings,
        verdict.now,
        verdict.stale,
    )
    code = verdict.exit_code

    if fmt == "prometheus":
        click.echo(text(status_registry(statuses, findings, now)), nl=False)
    elif fmt == "json":
        click.echo(
            json.dumps(
                {
                    "regions": [
                        {
                            "account_id": s.account_id,
                            "region": s.region,
                            "scan_id": s.scan_id,
                            "status": s.status,
                            "finished_at": s.finished_at.isoformat() if s.finished_at else None,
                            "age_seconds": s.age_seconds(now),
                            "stale": s in stale,
                            "packages": s.packages,
                            "groups": s.groups,
                            "error": s.error,
                            "last_event_at": s.last_event_at.isoformat()
                            if s.last_event_at
                            else None,
                        }
                        for s in statuses
                    ],
                    "open_findings": findings,
                    "max_age_seconds": limit,
                    "exit_code": code,
                },
                indent=2,
            )
        )
    else:
        table = []
        for s in statuses:
            age = s.age_seconds(now)
            table.append(
                [
                    s.account_id,
                    s.region,
                    str(s.scan_id or "-"),
                    s.status + (" (stale)" if s in stale else ""),
                    _human(age) if age is not None else "-",
                    str(s.packages),
                    str(s.groups),
                    _human((now - s.last_event_at).total_seconds()) if s.last_event_at else "-",
                ]
            )
        print_table(
            ["account", "region", "last scan", "status", "age", "packages", "groups", "last event"],
            table,
            keep_whole=("account", "region"),
        )
        open_ = ", ".join(f"{n} {sev}" for sev, n in findings.items())
        click.echo(f"open findings: {open_}")
        if not statuses:
            click.echo("mpscan: no scan has finished yet (run mpscan scan)", err=True)
    sys.exit(code)


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


COMMANDS = [status]
