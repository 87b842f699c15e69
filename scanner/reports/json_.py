"""JSON: the summary, then the findings array written item by item (docs/report-json.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from scanner import __version__
from scanner.reports.data import ReportData

SCHEMA_VERSION = 1


def header(data: ReportData) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "mpscan", "version": __version__},
        "generated_at": data.generated_at,
        "scan": {**data.scan, "previous_scan_id": data.previous_scan_id, "latest": data.latest},
        "summary": data.summary(),
        "coverage": data.coverage,
        "waivers": {"stale": data.stale_waivers, "expired": data.expired_waivers},
        "rule_errors": data.rule_errors,
        "rules": data.rules,
        **({"framework": data.framework} if data.framework is not None else {}),
    }


def write(out: TextIO, data: ReportData, findings: Iterable[dict[str, Any]]) -> int:
    head = json.dumps(header(data), indent=2, ensure_ascii=False)
    out.write(head[: head.rindex("}")].rstrip() + ',\n  "findings": [')
    n = 0
    for finding in findings:
        out.write(("\n    " if n == 0 else ",\n    ") + json.dumps(finding, ensure_ascii=False))
        n += 1
    out.write("\n  ]\n}\n" if n else "]\n}\n")
    return n
