"""`mpscan diff` and `mpscan prune`: what changed between scans, and retention."""

from __future__ import annotations

import io
import json

import click

from scanner.cli import render
from scanner.cli.options import CONTEXT, config_option, db_option, format_option, settings_from
from scanner.cli.render import print_table
from scanner.config import parse_duration
from scanner.errors import exit_codes_help

DIFF_EXIT_CODES = exit_codes_help(
    code_0="the changes (possibly none) are on stdout",
    code_1="the database is missing or unreachable",
    code_2="usage error (both --since and --days, an unknown scan)",
)
PRUNE_EXIT_CODES = exit_codes_help(
    code_0="pruned (or, with --dry-run, counted)",
    code_1="the database is missing or unreachable",
    code_2="usage error (a bad --older-than)",
)


@click.command(context_settings=CONTEXT, epilog=DIFF_EXIT_CODES)
@click.option("--since", "since_scan", type=int, metavar="SCAN_ID", help="Changes after this scan.")
@click.option("--days", type=float, metavar="N", help="Changes of the scans of the last N days.")
@format_option("table", "json", "csv")
@config_option
@db_option
def diff(since_scan, days, fmt, config_path, db_url):
    """What changed in the inventory: resources added, removed, or a field modified.

    By default, what the latest scan saw change since the scan before it. A modified
    field is a column (model_approval_status, security_config, ...), resource_policy, or
    one tag as tag:KEY, with its old and new value. Changes `mpscan listen` applied from
    registry events count with the scan whose inventory they amended ("by": event N,
    registry_events.id).

    \b
    Examples:
      mpscan diff
      mpscan diff --since 12 --format json | jq '.[] | select(.field == "model_approval_status")'
      mpscan diff --days 7 --format csv > week.csv
    """
    from scanner.app.inventory import changes
    from scanner.query import csv_writer, neutralise
    from scanner.store.history import DIFF_COLUMNS

    rows = changes(settings_from(config_path, db_url), since_scan=since_scan, days=days)
    if fmt == "json":
        render.data(json.dumps(rows, indent=2, default=str))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(DIFF_COLUMNS)
        for row in rows:
            writer.writerow([neutralise(_cell(row[c])) for c in DIFF_COLUMNS])
        render.data(out.getvalue(), nl=False)
    else:
        print_table(
            ["scan", "by", "change", "resource", "field", "old", "new"],
            [
                [
                    str(row["scan_id"]),
                    f"event {row['event_id']}" if row["event_id"] is not None else "scan",
                    row["change"],
                    row["resource_arn"],
                    row["field"] or "",
                    _cell(row["old"]),
                    _cell(row["new"]),
                ]
                for row in rows
            ],
            keep_whole=("resource",),
        )
        click.echo(f"{len(rows)} change{'s' if len(rows) != 1 else ''}", err=True)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


@click.command(context_settings=CONTEXT, epilog=PRUNE_EXIT_CODES)
@click.option(
    "--older-than", required=True, metavar="DURATION", help="Age to keep: 90d, 12w, 2160h."
)
@click.option("--dry-run", is_flag=True, help="Count what would go; delete nothing.")
@config_option
@db_option
def prune(older_than, dry_run, config_path, db_url):
    """Delete old scans, their history and archived removals.

    Never the current inventory, open findings, or a scan that a current row or finding
    still points to (when it was first seen, say). Resolved findings and removed resources
    older than the limit go too, and the registry events (`mpscan listen`) that no current
    row or kept change names.

    \b
    Examples:
      mpscan prune --older-than 90d --dry-run
      mpscan prune --older-than 90d
    """
    from scanner.app.inventory import prune as run_prune

    older = parse_duration(older_than, "--older-than")
    pruned = run_prune(settings_from(config_path, db_url), older, dry_run=dry_run)
    counts, cutoff = pruned.counts, pruned.cutoff
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb}: {counts.scans} scans, {counts.changes} changes, {counts.finding_events} "
        f"finding events, {counts.resolved_findings} resolved findings, "
        f"{counts.removed_resources} removed resources, {counts.events} registry events "
        f"(older than {cutoff.isoformat()})"
    )


COMMANDS = [diff, prune]
