"""SARIF 2.1.0 for code-scanning dashboards: one run, the rules in force with their help,
one result per open finding (fail, error, waived), written as a stream.

What GitHub code scanning accepts (docs.github.com, "SARIF support for code scanning"):
- an artifact URI relative to a base (`uriBaseId` AWS_RESOURCES): the account, region and
  the ARN's resource part, `123456789012/us-east-1/model-package/name/3`; GitHub refuses
  absolute URIs outside the repository, which an `arn:` URI is. The ARN itself is the
  logical location's fullyQualifiedName.
- `partialFingerprints.primaryLocationLineHash`, the fingerprint GitHub tracks a result
  by (with no source file to hash, it is the rule, resource and account's hash).
- a `security-severity` above 0 for every rule; at most 25,000 results a run (the worst
  first: the stream comes worst first), the rest counted in the run's properties.
A result whose kind is not `fail` (an `error` finding is `review`) has level `none`
(SARIF 2.1.0 §3.27.10). A waived finding carries an external suppression with the
waiver's reason; resolved findings (pass) are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import quote

from scanner import __version__
from scanner.reports.data import ReportData, fingerprint

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub's security-severity: a CVSS-like score that sorts and labels results.
# GitHub's bands: critical above 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
URI_BASE = "AWS_RESOURCES"
MAX_RESULTS = 25_000  # GitHub's hard limit of results per run
PROBLEM_SEVERITY = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "recommendation",
    "info": "recommendation",
}


def rule_descriptor(rule: dict[str, Any]) -> dict[str, Any]:
    help_text = f"{rule['remediation']}\n\nAWS CLI: {rule['remediation_cli']}"
    return {
        "id": rule["id"],
        "name": "".join(w.capitalize() for w in rule["title"].split() if w.isalnum()) or rule["id"],
        "shortDescription": {"text": rule["title"]},
        "fullDescription": {"text": rule["rationale"]},
        "help": {
            "text": help_text,
            "markdown": f"{rule['remediation']}\n\n```\n{rule['remediation_cli']}\n```",
        },
        "defaultConfiguration": {"level": LEVELS[rule["severity"]]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule["severity"]],
            "problem.severity": PROBLEM_SEVERITY[rule["severity"]],
            "severity": rule["severity"],
            "resource_type": rule["resource_type"],
            "tags": ["security", "sagemaker", rule["resource_type"]],
        },
    }


def artifact_uri(arn: str, account_id: str, region: str) -> str:
    """account/region/resource: the ARN's resource part, each segment percent-encoded."""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else arn
    return "/".join(quote(part, safe="") for part in (account_id, region, *resource.split("/")))


def result(finding: dict[str, Any], rule_index: dict[str, int]) -> dict[str, Any]:
    arn = finding["resource_arn"]
    digest = fingerprint(finding)
    kind = "review" if finding["status"] == "error" else "fail"
    item: dict[str, Any] = {
        "ruleId": finding["rule_id"],
        "level": LEVELS.get(finding["severity"], "warning") if kind == "fail" else "none",
        "kind": kind,
        "message": {"text": finding["message"] or finding["rule_id"]},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": artifact_uri(arn, finding["account_id"], finding["region"]),
                        "uriBaseId": URI_BASE,
                    },
                    "region": {"startLine": 1},
                },
                "logicalLocations": [
                    {
                        "fullyQualifiedName": arn,
                        "kind": "resource",
                        "name": arn.rsplit("/", 1)[-1],
                    }
                ],
            }
        ],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{digest[:16]}:1",
            "mpscanFinding/v1": digest,
        },
        "properties": {
            "severity": finding["severity"],
            "status": finding["status"],
            "account_id": finding["account_id"],
            "region": finding["region"],
            "resource_type": finding["resource_type"],
            "change": finding["change"],
            "first_seen_at": finding["first_seen_at"],
            "last_seen_at": finding["last_seen_at"],
        },
    }
    if finding["rule_id"] in rule_index:
        item["ruleIndex"] = rule_index[finding["rule_id"]]
    if finding["status"] == "waived":
        item["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": (
                    f"{finding['waiver_reason']} (owner {finding['waiver_owner']}, "
                    f"until {finding['waiver_expires']})"
                ),
            }
        ]
    return item


def write(out: TextIO, data: ReportData, findings: Iterable[dict[str, Any]]) -> int:
    rules = [rule_descriptor(r) for r in data.rules]
    rule_index = {r["id"]: i for i, r in enumerate(rules)}
    run_head = {
        "tool": {
            "driver": {
                "name": "mpscan",
                "version": __version__,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"mpscan/scan-{data.scan['id']}"},
        "originalUriBaseIds": {
            URI_BASE: {
                "description": {
                    "text": "SageMaker resources: account id / region / the ARN's resource part"
                }
            }
        },
        "properties": {
            "scan": data.scan,
            "summary": data.summary(),
            "coverage": data.coverage,
            "waivers": {"stale": data.stale_waivers, "expired": data.expired_waivers},
        },
    }
    head = json.dumps(run_head, indent=2, ensure_ascii=False)
    out.write('{\n"$schema": "' + SCHEMA + '",\n"version": "2.1.0",\n"runs": [\n')
    out.write(head[: head.rindex("}")].rstrip() + ',\n  "results": [')
    n = left_out = 0
    for finding in findings:
        if finding["status"] == "pass":
            continue
        if n == MAX_RESULTS:
            left_out += 1
            continue
        out.write(("\n    " if n == 0 else ",\n    ") + json.dumps(result(finding, rule_index)))
        n += 1
    out.write("\n  ]" if n else "]")
    # The count of what did not fit, after the results it follows from (a stream).
    out.write(
        ',\n  "invocations": [{"executionSuccessful": true, "properties": '
        + json.dumps({"results_left_out": left_out, "max_results": MAX_RESULTS})
        + "}]\n}\n]\n}\n"
    )
    return n
