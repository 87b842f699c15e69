"""Security Hub's BatchImportFindings, in the credentials of the account each finding is
about: with the account's default product ARN, Security Hub takes a finding only from the
account it names (`AwsAccountId`). The accounts are the scan's ([[accounts]],
[organization], or the base credentials' own), assumed as a scan assumes them.

Throttling and 5xx answers are retried by botocore (the factory's retry mode and
attempts); what still fails fails that batch, and the caller goes on with the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import botocore.exceptions

from scanner.aws import accounts
from scanner.aws.errors import describe_error
from scanner.aws.session import ClientFactory
from scanner.config import Settings

MAX_BATCH = 100  # findings per BatchImportFindings call, Security Hub's limit


@dataclass
class Imported:
    """What one BatchImportFindings call answered, or why it could not be made."""

    account_id: str
    region: str
    sent: int
    succeeded: int = 0
    failed: list[dict] = field(default_factory=list)  # FailedFindings: Id, ErrorCode, ...
    error: str | None = None  # the call itself failed: every finding of the batch


class Importer:
    """One client per account and region, each account's credentials made once."""

    def __init__(self, settings: Settings, factory: ClientFactory):
        self.accounts = accounts.AccountFactories(settings, factory)

    def send(self, account_id: str, region: str, findings: list[dict]) -> Imported:
        result = Imported(account_id, region, len(findings))
        try:
            client = self.accounts.get(account_id).client("securityhub", region)
            answer = client.batch_import_findings(Findings=findings)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            result.error = describe_error(exc)
            return result
        except LookupError as exc:  # Security Hub takes its findings from it alone
            result.error = f"{exc}: its findings can only be imported with its own credentials"
            return result
        result.succeeded = answer.get("SuccessCount", 0)
        result.failed = list(answer.get("FailedFindings") or [])
        return result
