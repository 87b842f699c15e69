"""SARIF 2.1.0 for code-scanning dashboards: one run, the rules in force with their help,
one result per open finding (fail, error, waived), written as a stream.

A finding's location is its resource ARN, both as an artifact URI (what GitHub code
scanning and most viewers require) and as a logical location. A waived finding carries an
external suppression with the waiver's reason; resolved findings (pass) are left out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, TextIO

from scanner import __version__
from scanner.reports.data import ReportData

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub's security-severity: a CVSS-like score that sorts and labels results.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
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


def result(finding: dict[str, Any], rule_index: dict[str, int]) -> dict[str, Any]:
    arn = finding["resource_arn"]
    key = "\x00".join((finding["rule_id"], arn, finding["account_id"]))
    item: dict[str, Any] = {
        "ruleId": finding["rule_id"],
        "level": LEVELS.get(finding["severity"], "warning"),
        "kind": "review" if finding["status"] == "error" else "fail",
        "message": {"text": finding["message"] or finding["rule_id"]},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": arn},
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
        "partialFingerprints": {"mpscanFinding/v1": hashlib.sha256(key.encode()).hexdigest()},
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
    n = 0
    for finding in findings:
        if finding["status"] == "pass":
            continue
        out.write(("\n    " if n == 0 else ",\n    ") + json.dumps(result(finding, rule_index)))
        n += 1
    out.write("\n  ]\n}\n]\n}\n" if n else "]\n}\n]\n}\n")
    return n
