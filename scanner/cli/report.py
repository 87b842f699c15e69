"""`mpscan report`: the findings as HTML, CSV, JSON or SARIF."""

from __future__ import annotations

import sys

import click

from scanner.cli.options import CONTEXT, config_option, db_option, settings_from
from scanner.errors import exit_codes_help
from scanner.reports import FORMATS

REPORT_EXIT_CODES = exit_codes_help(
    code_0="the report was written",
    code_1="the database is missing, unreachable or holds no scan; the output cannot be written",
    code_2="usage or configuration error (bad option, unknown scan id, bad waiver or template "
    "folder)",
)
DEFAULT_HTML = "mpscan-report.html"


@click.command(context_settings=CONTEXT, epilog=REPORT_EXIT_CODES)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help=f"File to write ('-' for stdout). Default: {DEFAULT_HTML} for html, stdout otherwise.",
)
@click.option(
    "--scan",
    "scan_id",
    type=click.IntRange(min=1),
    help="Report as of this scan (its state and its changes). Default: the latest scan.",
)
@config_option
@db_option
def report(fmt, output, scan_id, config_path, db_url):
    """Write a compliance report: counts, changes, coverage, waivers and every finding.

    Re-judges the stored inventory first, so the rules and waivers of the config apply.
    html is one self-contained file (no network) with a findings table that filters,
    sorts and pages in the browser; csv is one row per finding (docs/reports.md lists
    the columns); json has a summary and the findings (docs/report-json.md); sarif is
    SARIF 2.1.0 for code-scanning dashboards. A `[report] templates` folder in the config
    overrides any built-in HTML template.

    \b
    Examples:
      mpscan report                              # mpscan-report.html
      mpscan report --format csv --output findings.csv
      mpscan report --format sarif > mpscan.sarif
      mpscan report --format json --scan 12 | jq .summary.changes
    """
    settings = settings_from(config_path, db_url)
    if output is None:
        output = DEFAULT_HTML if fmt == "html" else "-"
    as_of, n = write_report(settings, fmt, output, scan_id)
    if output != "-":
        click.echo(
            f"mpscan: wrote {fmt} report of scan {as_of} ({n} findings) to {output}", err=True
        )


def write_report(settings, fmt: str, output: str, scan_id: int | None = None) -> tuple[int, int]:
    """Re-judge the stored inventory, then write the report of `scan_id` (default: the latest)
    to `output` ('-' for stdout). Returns (the scan reported on, its findings). Used by
    `mpscan report` and the scheduler's report jobs."""
    from scanner.cli.judge import judge_stored
    from scanner.errors import DatabaseError, UsageError
    from scanner.reports import data as report_data
    from scanner.rules import catalog
    from scanner.rules.evaluate import latest_scan, scan_exists
    from scanner.store.db import make_engine

    evaluation = judge_stored(settings)
    rules = catalog.load(settings)
    engine = make_engine(settings.database.url)
    try:
        with engine.connect() as conn:
            latest = latest_scan(conn)
            if scan_id is not None and not scan_exists(conn, scan_id):
                raise UsageError(f"usage error: no scan {scan_id} in the database")
        as_of = scan_id if scan_id is not None else latest
        is_latest = as_of == latest
        data = report_data.load(
            engine, as_of, latest=is_latest, catalog=rules, evaluation=evaluation
        )
        findings = report_data.iter_findings(
            engine,
            as_of,
            latest=is_latest,
            rule_ids=[r["id"] for r in data.rules],
            titles=data.rule_titles(),
        )
        try:
            out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise DatabaseError(f"output error: cannot write {output}: {exc.strerror}") from None
        try:
            n = _write(fmt, out, data, findings, settings)
        finally:
            if out is not sys.stdout:
                out.close()
            else:
                out.flush()
    finally:
        engine.dispose()
    return as_of, n


def _write(fmt, out, data, findings, settings) -> int:
    if fmt == "html":
        from scanner.reports import html

        return html.write(out, data, findings, templates=settings.report.templates)
    if fmt == "csv":
        from scanner.reports import csv_

        return csv_.write(out, data, findings)
    if fmt == "json":
        from scanner.reports import json_

        return json_.write(out, data, findings)
    from scanner.reports import sarif

    return sarif.write(out, data, findings)


COMMANDS = [report]
