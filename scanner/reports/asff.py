"""ASFF: each finding in the AWS Security Finding Format (2018-10-08), as Security Hub's
BatchImportFindings takes it; `--format asff` writes them as a JSON array, one a line, and
`mpscan export securityhub` sends them (scanner/app/securityhub.py).

What Security Hub asks of a finding (botocore's `securityhub` model, `AwsSecurityFinding`,
the members' documented limits in LIMITS; tests/test_exports_asff.py checks both):
- `Id` stable for a rule, resource and account, so each import updates the one finding;
  `ProductArn` the account's default product in the finding's region, where the account
  itself must import it.
- the lifecycle: `Compliance.Status` (FAILED, WARNING when the rule could not judge,
  PASSED once resolved), `RecordState` ARCHIVED once resolved, `Workflow.Status` NEW,
  SUPPRESSED for a waived finding, RESOLVED. Security Hub takes `Workflow` only when it
  creates a finding; on later imports the record state and compliance status carry the
  change (and a finding ACTIVE and FAILED again has a RESOLVED workflow reset to NEW).
- Title, Description and the recommendation one line each (text from AWS with its line
  breaks and control characters as spaces: the members' pattern is one line), cut at
  their limits with an ellipsis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, TextIO

from scanner import __version__, kinds
from scanner.reports.data import ReportData, fingerprint, partition

SCHEMA_VERSION = "2018-10-08"
MAX_FINDING_BYTES = 240 * 1024  # BatchImportFindings refuses a larger finding
# Maximum lengths in characters, from the members' documentation in botocore's model.
LIMITS = {
    "Id": 512,
    "GeneratorId": 512,
    "Title": 256,
    "Description": 1024,
    "Recommendation.Text": 512,
    "Resource.Type": 256,
    "Severity.Original": 64,
    "ProductFields.key": 128,
    "ProductFields.value": 2048,
}
LABELS = {
    "info": "INFORMATIONAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "critical": "CRITICAL",
}
COMPLIANCE = {"fail": "FAILED", "error": "WARNING", "waived": "FAILED", "pass": "PASSED"}
WORKFLOW = {"fail": "NEW", "error": "NEW", "waived": "SUPPRESSED", "pass": "RESOLVED"}
TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-us-iso", "aws-us-iso-b")  # the enum's
# Line breaks, tabs and every other control character: one line, whatever AWS returned.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\s]+")


def one_line(text: str | None, limit: int) -> str | None:
    """Text on one line, at most `limit` characters (cut with an ellipsis); None if blank."""
    folded = _BREAKS.sub(" ", text or "").strip()
    if not folded:
        return None
    return folded if len(folded) <= limit else folded[: limit - 1].rstrip() + "…"


def product_arn(region: str, account: str, arn_partition: str = "aws") -> str:
    """The account's own product, which takes the findings it imports about itself."""
    return f"arn:{arn_partition}:securityhub:{region}:{account}:product/{account}/default"


def finding_id(finding: dict[str, Any]) -> str:
    return f"mpscan/{finding['account_id']}/{finding['rule_id']}/{fingerprint(finding)}"


def _product_fields(finding: dict[str, Any], scan_id: int) -> dict[str, str]:
    fields = {
        "ProviderName": "mpscan",
        "ProviderVersion": __version__,
        "mpscan/Status": finding["status"],
        "mpscan/Change": finding["change"],
        "mpscan/ScanId": str(scan_id),
        "mpscan/ResourceType": finding["resource_type"],
        "mpscan/Regressions": str(finding["regressions"] or 0),
        "mpscan/WaiverReason": finding["waiver_reason"],
        "mpscan/WaiverOwner": finding["waiver_owner"],
        "mpscan/WaiverExpires": finding["waiver_expires"],
    }
    limit = LIMITS["ProductFields.value"]
    folded = {k: one_line(v, limit) for k, v in fields.items()}
    return {k: v for k, v in folded.items() if v is not None}


def security_finding(finding: dict[str, Any], rule: dict[str, Any], scan_id: int) -> dict:
    """One finding (a dict of data.COLUMNS) as an AwsSecurityFinding."""
    arn, account, region = finding["resource_arn"], finding["account_id"], finding["region"]
    arn_partition = partition(arn)
    status = finding["status"]
    kind = kinds.BY_NAME.get(finding["resource_type"])
    title = one_line(rule.get("title") or finding["rule_title"], LIMITS["Title"])
    seen, why = finding["message"], rule.get("rationale")
    description = one_line(f"{seen}. {why}" if seen and why else seen or why, LIMITS["Description"])
    severity = {
        "Label": LABELS.get(finding["severity"], "INFORMATIONAL"),
        "Original": finding["severity"],
    }
    resource: dict[str, Any] = {
        "Type": "Other",  # Security Hub has no type of its own for SageMaker's registry
        "Id": arn,
        "Region": region,
        "Details": {
            "Other": {
                "CloudFormationType": kind.aws_type if kind else finding["resource_type"],
            }
        },
    }
    if arn_partition in PARTITIONS:
        resource["Partition"] = arn_partition
    item: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(finding),
        "ProductArn": product_arn(region, account, arn_partition),
        "ProductName": "mpscan",
        "CompanyName": "mpscan",
        "GeneratorId": finding["rule_id"],
        "AwsAccountId": account,
        "Types": TYPES,
        "CreatedAt": finding["first_seen_at"],
        "UpdatedAt": finding["resolved_at"] or finding["last_seen_at"],
        "FirstObservedAt": finding["first_seen_at"],
        "LastObservedAt": finding["last_seen_at"],
        "Severity": severity,
        "FindingProviderFields": {"Severity": severity, "Types": TYPES},
        "Title": title or finding["rule_id"],
        "Description": description or finding["rule_id"],
        "Resources": [resource],
        "Compliance": {"Status": COMPLIANCE.get(status, "NOT_AVAILABLE")},
        "Workflow": {"Status": WORKFLOW.get(status, "NEW")},
        "RecordState": "ARCHIVED" if status == "pass" else "ACTIVE",
        "ProductFields": _product_fields(finding, scan_id),
    }
    if rule.get("remediation"):
        text = f"{rule['remediation']} AWS CLI: {rule['remediation_cli']}"
        item["Remediation"] = {
            "Recommendation": {"Text": one_line(text, LIMITS["Recommendation.Text"])}
        }
    return item


def security_findings(data: ReportData, findings: Iterable[dict[str, Any]]):
    """Each finding as an AwsSecurityFinding, in the order they come."""
    rules = {r["id"]: r for r in data.rules}
    scan_id = data.scan["id"]
    for finding in findings:
        yield security_finding(finding, rules.get(finding["rule_id"], {}), scan_id)


def write(out: TextIO, data: ReportData, findings: Iterable[dict[str, Any]]) -> int:
    out.write("[")
    n = 0
    for item in security_findings(data, findings):
        out.write(("\n" if n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n
