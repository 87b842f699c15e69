"""`mpscan iam-policy`: the least-privilege IAM policy a scan needs, from the kinds'
declarations (scanner.kinds), so it always names exactly the calls a scan makes."""

from __future__ import annotations

import json

import click

from scanner.cli.options import CONTEXT
from scanner.errors import exit_codes_help

IAM_POLICY_EXIT_CODES = exit_codes_help(code_0="the policy is on stdout")


@click.command("iam-policy", context_settings=CONTEXT, epilog=IAM_POLICY_EXIT_CODES)
def iam_policy():
    """Print the least-privilege IAM policy for the role mpscan scans with (JSON).

    Read-only SageMaker actions for every resource kind mpscan inventories, the region
    listing `--regions all` needs, and KMS decryption through SageMaker for packages
    encrypted with a customer managed key. With [[accounts]] or [organization], attach it
    to the role assumed in each account; the base credentials also need sts:AssumeRole on
    those roles (and organizations:ListAccounts for [organization]). The last statement,
    securityhub:BatchImportFindings on each account's default product, is for
    `mpscan export securityhub` only.

    \b
    Examples:
      mpscan iam-policy > mpscan-policy.json
      aws iam create-policy --policy-name mpscan-reader --policy-document file://mpscan-policy.json
    """
    from scanner import kinds

    click.echo(json.dumps(kinds.iam_policy(), indent=2))


COMMANDS = [iam_policy]
