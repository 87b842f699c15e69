"""Which accounts a scan covers, and a session in each.

With neither `[[accounts]]` nor `[organization]` in the config, the scan covers the account
of the base credentials. Otherwise exactly the configured accounts, or every ACTIVE account
of the organization (organizations:ListAccounts, every page, include/exclude applied), each
through STS AssumeRole from the base credentials. Assumed credentials refresh themselves
(botocore's RefreshableCredentials) so a long scan never runs on expired keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import botocore.exceptions
from botocore.credentials import RefreshableCredentials

from scanner import logs
from scanner.aws.errors import describe_error
from scanner.aws.session import ClientFactory
from scanner.config import Settings
from scanner.errors import AwsSetupError

ROLE_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class Target:
    """One account to scan: the base credentials' own (role_arn None), or a role in it."""

    account_id: str | None  # known before assuming (from the ARN or Organizations)
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = "mpscan"
    regions: tuple[str, ...] | str | None = None  # None: the scan's regions


def targets(settings: Settings, base: boto3.Session) -> list[Target]:
    if settings.accounts:
        return [
            Target(a.account_id, a.role_arn, a.external_id, a.session_name, a.regions)
            for a in settings.accounts
        ]
    org = settings.organization
    if org is None:
        return [Target(None)]
    partition = "aws"
    found = []
    for account in organization_accounts(base):
        if org.include and account["Id"] not in org.include:
            continue
        if account["Id"] in org.exclude or account.get("Status") != "ACTIVE":
            continue  # suspended or closing accounts cannot be assumed into
        role = f"arn:{partition}:iam::{account['Id']}:role/{org.role_name}"
        found.append(Target(account["Id"], role, org.external_id, org.session_name))
    return found


def organization_accounts(base: boto3.Session) -> list[dict]:
    try:
        client = base.client("organizations", region_name=base.region_name or "us-east-1")
        # 20 is ListAccounts' maximum page size (and its default on AWS)
        pages = client.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 20})
        return [a for page in pages for a in page.get("Accounts", [])]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise AwsSetupError(
            f"aws error: cannot list the organization's accounts "
            f"(organizations:ListAccounts, from the management or a delegated administrator "
            f"account): {describe_error(exc)}"
        ) from None


def assume(sts, target: Target) -> tuple[RefreshableCredentials, str]:
    """The target role's credentials, through `sts` (a client of the base credentials), and
    the account they act in as STS reports it (the account of AssumedRoleUser's ARN). They
    refresh themselves before they expire. Raises botocore's error if the role refuses."""
    role_arn = target.role_arn
    assert role_arn is not None  # only the base credentials' own account has no role
    request = {
        "RoleArn": role_arn,
        "RoleSessionName": target.session_name,
        "DurationSeconds": ROLE_SESSION_SECONDS,
    }
    if target.external_id:
        request["ExternalId"] = target.external_id

    def metadata(answer: dict) -> dict:
        credentials = answer["Credentials"]
        logs.register_secret(
            credentials["SecretAccessKey"], credentials["SessionToken"], owner=role_arn
        )
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    first = sts.assume_role(**request)
    credentials = RefreshableCredentials.create_from_metadata(
        metadata=metadata(first),
        refresh_using=lambda: metadata(sts.assume_role(**request)),
        method="sts-assume-role",
    )
    return credentials, first["AssumedRoleUser"]["Arn"].split(":")[4]


class AccountFactories:
    """A client factory for each account a scan covers, made when first asked for: the base
    credentials' own account (no [[accounts]] or [organization]), or the account's role,
    assumed once (its credentials refresh themselves). For calls about the resources of a
    known account, after a scan: the listener's refreshes, the Security Hub export."""

    def __init__(self, settings: Settings, base: ClientFactory):
        self.settings = settings
        self.base = base
        self._made: dict[str, ClientFactory] | None = None
        self._targets: dict[str, Target] = {}

    def get(self, account_id: str) -> ClientFactory:
        """The account's factory. LookupError: the config does not cover that account.
        botocore's error when its role refuses; AwsSetupError without credentials."""
        region = self.base.default_region() or "us-east-1"
        if self._made is None:
            self._made = {}
            plan = targets(self.settings, self.base.session)
            if plan == [Target(None)]:
                self._made[self.base.account_id(region)] = self.base
            else:
                self._targets = {t.account_id: t for t in plan if t.account_id}
        found = self._made.get(account_id)
        if found is not None:
            return found
        target = self._targets.get(account_id)
        if target is None:
            raise LookupError(f"account {account_id} is not one mpscan scans")
        credentials, _ = assume(self.base.client("sts", region), target)
        found = self._made[account_id] = self.base.for_account(credentials)
        return found
