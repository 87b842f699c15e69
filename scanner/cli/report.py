"""`mpscan report`: the findings as HTML, CSV, JSON, SARIF, OCSF or ASFF; the inventory as
CycloneDX."""

from __future__ import annotations

import click

from scanner.cli.options import CONTEXT, config_option, db_option, format_option, settings_from
from scanner.errors import exit_codes_help
from scanner.reports import FORMATS
from scanner.rules.frameworks import FRAMEWORKS

REPORT_EXIT_CODES = exit_codes_help(
    code_0="the report was written",
    code_1="the database is missing, unreachable or holds no scan; the output cannot be written",
    code_2="usage or configuration error (bad option, unknown scan id, bad waiver or template "
    "folder)",
)
DEFAULT_HTML = "mpscan-report.html"


@click.command(context_settings=CONTEXT, epilog=REPORT_EXIT_CODES)
@format_option(*FORMATS)
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
@click.option(
    "--framework",
    type=click.Choice(sorted(FRAMEWORKS)),
    help="Add a section per control of this framework: the rules that give evidence for it "
    "and their findings (docs/rules.md lists the mappings).",
)
@config_option
@db_option
def report(fmt, output, scan_id, framework, config_path, db_url):
    """Write a compliance report: counts, changes, coverage, waivers and every finding.

    Re-judges the stored inventory first, so the rules and waivers of the config apply.
    html is one self-contained file (no network) with a findings table that filters,
    sorts and pages in the browser; csv is one row per finding (docs/reports.md lists
    the columns); json has a summary and the findings (docs/report-json.md); sarif is
    SARIF 2.1.0 for code-scanning dashboards; ocsf is a JSON array of OCSF 1.5.0 Detection
    Findings (class 2004) and asff one of AWS Security Finding Format findings, as
    Security Hub's BatchImportFindings takes them (`mpscan export securityhub` sends
    them); cyclonedx is a CycloneDX 1.6 ML-BOM of the inventory (each package a
    machine-learning-model component, its images). A `[report] templates` folder in the
    config overrides any built-in HTML template.

    \b
    Examples:
      mpscan report                              # mpscan-report.html
      mpscan report --format csv --output findings.csv
      mpscan report --format sarif > mpscan.sarif
      mpscan report --format ocsf --output findings.ocsf.json
      mpscan report --format asff | jq '.[] | select(.RecordState == "ACTIVE") | .Title'
      mpscan report --format cyclonedx --output ml-bom.json
      mpscan report --format json --scan 12 | jq .summary.changes
      mpscan report --framework eu-ai-act --output eu-ai-act.html
    """
    from scanner.app.reporting import write_report
    from scanner.cli.judge import say_rule_errors
    from scanner.rules import catalog

    settings = settings_from(config_path, db_url)
    if output is None:
        output = DEFAULT_HTML if fmt == "html" else "-"
    written = write_report(settings, catalog.load(settings), fmt, output, scan_id, framework)
    say_rule_errors(written.evaluation)
    if output != "-":
        click.echo(
            f"mpscan: wrote {fmt} report of scan {written.scan_id} ({written.findings} "
            f"{'model packages' if fmt == 'cyclonedx' else 'findings'}) to {output}",
            err=True,
        )


COMMANDS = [report]
