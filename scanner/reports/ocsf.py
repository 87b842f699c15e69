"""OCSF: each finding as a Detection Finding (class 2004) of OCSF 1.5.0, a JSON array with
one object a line, written as the findings arrive (docs/reports.md).

As Prowler's OCSF output does (prowler/lib/outputs/ocsf/ocsf.py), with these differences:
times are OCSF timestamps, milliseconds since the epoch (Prowler writes seconds); the
finding's lifecycle is its status (New, Suppressed for a waiver, Resolved when it passes)
and its activity (Create when new in the report's scan, Close once resolved, Update
otherwise); mpscan's own fields are under `unmapped`. Every finding is written, resolved
ones too, so that a consumer sees them close. tests/test_exports_ocsf.py validates each
object with py-ocsf-models, the library Prowler builds its objects with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from scanner import __version__, kinds
from scanner.reports.data import ReportData, epoch_ms, fingerprint, partition

OCSF_VERSION = "1.5.0"
CLASS_UID, CLASS_NAME = 2004, "Detection Finding"
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
SEVERITY = {  # severity_id and its caption
    "info": (1, "Informational"),
    "low": (2, "Low"),
    "medium": (3, "Medium"),
    "high": (4, "High"),
    "critical": (5, "Critical"),
}
STATUS = {  # status_id and its caption: where the finding stands
    "fail": (1, "New"),
    "error": (1, "New"),  # the rule could not judge: still to be looked at
    "waived": (3, "Suppressed"),
    "pass": (4, "Resolved"),
}
ACTIVITY = {"create": (1, "Create"), "update": (2, "Update"), "close": (3, "Close")}
AWS_ACCOUNT = (10, "AWS Account")  # OCSF account.type_id


def _activity(finding: dict[str, Any]) -> tuple[int, str]:
    if finding["status"] == "pass":
        return ACTIVITY["close"]
    return ACTIVITY["create"] if finding["change"] == "new" else ACTIVITY["update"]


def _resource_name(arn: str) -> str:
    """`churn/3` of `...:model-package/churn/3`: the ARN's resource after its type."""
    resource = arn.split(":", 5)[-1]
    return resource.split("/", 1)[-1]


def _compact(value: Any) -> Any:
    """Without None members: OCSF leaves out an attribute it has no value for."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def detection_finding(
    finding: dict[str, Any], rule: dict[str, Any], scan_id: int
) -> dict[str, Any]:
    """One finding (a dict of data.COLUMNS) as an OCSF Detection Finding."""
    arn, account, region = finding["resource_arn"], finding["account_id"], finding["region"]
    severity_id, severity = SEVERITY.get(finding["severity"], (0, "Unknown"))
    status_id, status = STATUS.get(finding["status"], (0, "Unknown"))
    activity_id, activity = _activity(finding)
    kind = kinds.BY_NAME.get(finding["resource_type"])
    first_seen = epoch_ms(finding["first_seen_at"])
    last_seen = epoch_ms(finding["last_seen_at"])
    title = rule.get("title") or finding["rule_title"] or finding["rule_id"]
    waiver = None
    if finding["status"] == "waived":
        waiver = {
            "reason": finding["waiver_reason"],
            "owner": finding["waiver_owner"],
            "expires": finding["waiver_expires"],
        }
    remediation = None
    if rule.get("remediation"):
        remediation = {
            "desc": f"{rule['remediation']}\n\nAWS CLI: {rule['remediation_cli']}",
            "references": [],
        }
    return _compact(
        {
            "category_uid": CATEGORY_UID,
            "category_name": CATEGORY_NAME,
            "class_uid": CLASS_UID,
            "class_name": CLASS_NAME,
            "activity_id": activity_id,
            "activity_name": activity,
            "type_uid": CLASS_UID * 100 + activity_id,
            "type_name": f"{CLASS_NAME}: {activity}",
            "time": epoch_ms(finding["resolved_at"]) or last_seen,
            "severity_id": severity_id,
            "severity": severity,
            "status_id": status_id,
            "status": status,
            "status_code": finding["status"],
            "status_detail": finding["message"],
            "message": finding["message"] or title,
            "finding_info": {
                "uid": fingerprint(finding),
                "title": title,
                "desc": rule.get("rationale"),
                "created_time": first_seen,
                "first_seen_time": first_seen,
                "last_seen_time": last_seen,
                "modified_time": last_seen,
                "analytic": {
                    "uid": finding["rule_id"],
                    "name": title,
                    "type_id": 1,
                    "type": "Rule",
                },
            },
            "resources": [
                {
                    "uid": arn,
                    "name": _resource_name(arn),
                    "type": kind.aws_type if kind else finding["resource_type"],
                    "region": region,
                    "cloud_partition": partition(arn),
                }
            ],
            "cloud": {
                "provider": "AWS",
                "region": region,
                # mpscan knows accounts by id only: OCSF's account name is that id
                "account": {
                    "uid": account,
                    "name": account,
                    "type_id": AWS_ACCOUNT[0],
                    "type": AWS_ACCOUNT[1],
                },
            },
            "remediation": remediation,
            "metadata": {
                "version": OCSF_VERSION,
                "product": {
                    "name": "mpscan",
                    "uid": "mpscan",
                    "vendor_name": "mpscan",
                    "version": __version__,
                },
                "event_code": finding["rule_id"],
                "profiles": ["cloud"],
            },
            "unmapped": {
                "mpscan": {
                    "scan_id": scan_id,
                    "status": finding["status"],
                    "change": finding["change"],
                    "resource_type": finding["resource_type"],
                    "resolved_at": finding["resolved_at"],
                    "regressions": finding["regressions"],
                    "waiver": waiver,
                    "rule_source": rule.get("source"),
                }
            },
        }
    )


def write(out: TextIO, data: ReportData, findings: Iterable[dict[str, Any]]) -> int:
    rules = {r["id"]: r for r in data.rules}
    scan_id = data.scan["id"]
    out.write("[")
    n = 0
    for finding in findings:
        item = detection_finding(finding, rules.get(finding["rule_id"], {}), scan_id)
        out.write(("\n" if n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n
