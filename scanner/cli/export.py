"""`mpscan export ...`: findings sent where teams already look (AWS Security Hub)."""

from __future__ import annotations

import sys

import click

from scanner.cli.options import CONTEXT, config_option, db_option, settings_from
from scanner.errors import EXIT_NOT_IMPORTED, exit_codes_help

SECURITYHUB_EXIT_CODES = exit_codes_help(
    code_0="every finding was imported",
    code_1="the database is missing, unreachable or holds no scan; no AWS credentials",
    code_2="usage or configuration error (bad option, bad config value or waiver)",
    code_8=True,
)
SHOWN_PER_BATCH = 5  # refused findings named for each failed batch; the rest are counted


@click.group(context_settings=CONTEXT)
def export():
    """Send findings to another service.

    \b
    Examples:
      mpscan export securityhub
      mpscan export securityhub --profile security
    """


@export.command("securityhub", context_settings=CONTEXT, epilog=SECURITYHUB_EXIT_CODES)
@click.option("--profile", help="AWS profile to use (default: the standard credential chain).")
@config_option
@db_option
def securityhub(profile, config_path, db_url):
    """Import the findings into AWS Security Hub (BatchImportFindings).

    Re-judges the stored inventory first, as `mpscan report` does, then sends every
    finding of the latest scan as ASFF (what `mpscan report --format asff` writes) to the
    Security Hub of its own account and region, at most 100 a call. Each finding keeps
    its Id, so an export updates the findings of the one before; resolved findings are
    sent ARCHIVED with compliance PASSED, waived ones SUPPRESSED when first imported. In
    each account the call is made with that account's credentials, as a scan makes its
    calls ([[accounts]] and [organization] roles), which need
    securityhub:BatchImportFindings (see `mpscan iam-policy`). Throttling is retried by
    botocore ([aws] retry_mode, max_attempts); a batch that still fails, and each finding
    Security Hub refuses, is listed on stderr, and the export goes on.

    \b
    Examples:
      mpscan export securityhub
      mpscan export securityhub --profile security --config team.toml
      AWS_ENDPOINT_URL=http://localhost:5000 mpscan export securityhub   # LocalStack, moto
    """
    from scanner.app.securityhub import export_securityhub
    from scanner.aws.session import ClientFactory
    from scanner.cli.judge import say_rule_errors
    from scanner.config import override
    from scanner.reports import asff
    from scanner.rules import catalog

    settings = override(settings_from(config_path, db_url), "aws", profile=profile)

    def failed(number, batch):
        where = f"batch {number} (account {batch.account_id}, {batch.region})"
        if batch.error:
            line = f"{batch.sent} findings not imported: {batch.error}"
            click.echo(f"mpscan: {where}: {_one_line(line)}", err=True)
            return
        click.echo(
            f"mpscan: {where}: Security Hub refused {len(batch.failed)} of {batch.sent} findings:",
            err=True,
        )
        for refused in batch.failed[:SHOWN_PER_BATCH]:
            line = f"{refused.get('Id')}: {refused.get('ErrorCode')}: {refused.get('ErrorMessage')}"
            click.echo(f"  {_one_line(line)}", err=True)
        if len(batch.failed) > SHOWN_PER_BATCH:
            click.echo(f"  and {len(batch.failed) - SHOWN_PER_BATCH} more", err=True)

    result = export_securityhub(
        settings, catalog.load(settings), ClientFactory(settings.aws), on_failure=failed
    )
    say_rule_errors(result.evaluation)
    for finding_id in result.too_large:
        click.echo(
            f"mpscan: finding {finding_id}: larger than Security Hub takes "
            f"({asff.MAX_FINDING_BYTES // 1024} KB), not sent",
            err=True,
        )
    accounts = {account for account, _ in result.places}
    regions = {region for _, region in result.places}
    click.echo(
        f"mpscan: imported {result.imported} of {result.findings} findings of scan "
        f"{result.scan_id} into Security Hub in {_count(result.calls, 'call')} "
        f"({_count(len(accounts), 'account')}, {_count(len(regions), 'region')})"
        + (f"; {result.not_imported} not imported" if result.not_imported else ""),
        err=True,
    )
    if result.not_imported:
        sys.exit(EXIT_NOT_IMPORTED)


def _one_line(text: str) -> str:
    """AWS's text as a terminal may print it, on one line."""
    from scanner.cli.render import visible

    return visible(" ".join(text.split()))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


COMMANDS = [export]
