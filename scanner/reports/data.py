"""What a report shows but the findings' own rows: `ReportData` (the scan, the summary,
coverage, rules, waivers), shaped from the read model's rows (`scanner/store/read/report.py`),
and each finding as the writers take it (COLUMNS, dates as ISO text). No SQL here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from scanner.stages import SEVERITIES
from scanner.store.read.report import CHANGES, STATUSES, ReportRows

# The columns of one finding, in the order the CSV writes them (documented in docs/reports.md).
COLUMNS = (
    "rule_id",
    "severity",
    "status",
    "resource_arn",
    "account_id",
    "region",
    "message",
    "resource_type",
    "rule_title",
    "change",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "regressions",
    "waiver_reason",
    "waiver_owner",
    "waiver_expires",
)


def iso(value: Any) -> Any:
    """Dates and times as ISO 8601 text (UTC, 'Z'); everything else unchanged."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def fingerprint(finding: Mapping[str, Any]) -> str:
    """A finding's identity as exports name it (SARIF, OCSF, ASFF): the same rule, resource
    and account give the same text in every report and every scan."""
    key = "\x00".join((finding["rule_id"], finding["resource_arn"], finding["account_id"]))
    return hashlib.sha256(key.encode()).hexdigest()


def epoch_ms(text: str | None) -> int | None:
    """ISO 8601 text (as `iso` writes it) as milliseconds since the epoch."""
    if not text:
        return None
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def partition(arn: str) -> str:
    """The ARN's partition (aws, aws-cn, aws-us-gov); aws for text that is no ARN."""
    parts = arn.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "arn" and parts[1] else "aws"


@dataclass
class ReportData:
    """Everything but the findings: small, whatever the number of findings."""

    scan: dict[str, Any]
    previous_scan_id: int | None
    latest: bool
    generated_at: str
    total: int
    by_status: dict[str, int]
    by_severity: dict[str, dict[str, int]]
    by_rule: dict[str, dict[str, int]]
    by_account: dict[str, dict[str, int]]
    by_region: dict[str, dict[str, int]]
    changes: dict[str, int]
    coverage: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    stale_waivers: list[dict[str, Any]] = field(default_factory=list)
    expired_waivers: list[dict[str, Any]] = field(default_factory=list)
    rule_errors: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_status": self.by_status,
            "by_severity": self.by_severity,
            "by_rule": self.by_rule,
            "by_account": self.by_account,
            "by_region": self.by_region,
            "changes": self.changes,
        }

    def rule_titles(self) -> dict[str, str]:
        return {r["id"]: r["title"] for r in self.rules}


def _scan(scan) -> dict[str, Any]:
    return {
        "id": scan.id,
        "status": scan.status,
        "started_at": iso(scan.started_at),
        "finished_at": iso(scan.finished_at),
        "regions_requested": scan.regions_requested,
        "packages_seen": scan.packages_seen,
        "groups_seen": scan.groups_seen,
        "error": scan.error,
        "mpscan_version": scan.mpscan_version,
    }


def _region(r) -> dict[str, Any]:
    return {
        "account_id": r.account_id,
        "region": r.region,
        "status": r.status,
        "packages": r.packages,
        "groups": r.groups,
        "started_at": iso(r.started_at),
        "finished_at": iso(r.finished_at),
        "error_kind": r.error_kind,
        "error_code": r.error_code,
        "error_message": r.error_message,
    }


def _tally(table: dict[str, dict[str, int]], key: str, status: str, n: int) -> None:
    counts = table.setdefault(key, {s: 0 for s in STATUSES})
    counts[status] = counts.get(status, 0) + n


def _waiver(w) -> dict[str, Any]:
    return {
        "rule_id": w.rule_id,
        "resource": w.resource,
        "reason": w.reason,
        "owner": w.owner,
        "expires": w.expires.isoformat(),
    }


def rule_entry(active) -> dict[str, Any]:
    r = active.rule
    return {
        "id": r.id,
        "title": r.title,
        "severity": active.severity,
        "resource_type": r.resource_type,
        "rationale": r.rationale,
        "remediation": r.remediation,
        "remediation_cli": r.remediation_cli,
        "source": r.source,
    }


def build(rows: ReportRows, *, latest: bool, rules: list[dict[str, Any]], evaluation) -> ReportData:
    """The report's small parts from the read model's rows: the counts folded into tables."""
    by_status = {s: 0 for s in STATUSES}
    by_severity: dict[str, dict[str, int]] = {s: {t: 0 for t in STATUSES} for s in SEVERITIES}
    by_rule: dict[str, dict[str, int]] = {}
    by_account: dict[str, dict[str, int]] = {}
    by_region: dict[str, dict[str, int]] = {}
    changes = {c: 0 for c in CHANGES}
    total = 0
    for row in rows.counts:
        total += row.n
        by_status[row.status] = by_status.get(row.status, 0) + row.n
        _tally(by_severity, row.severity, row.status, row.n)
        _tally(by_rule, row.rule_id, row.status, row.n)
        _tally(by_account, row.account_id, row.status, row.n)
        _tally(by_region, row.region, row.status, row.n)
        if row.change in changes:
            changes[row.change] += row.n
    return ReportData(
        scan=_scan(rows.scan),
        previous_scan_id=rows.previous_scan_id,
        latest=latest,
        generated_at=iso(datetime.now(UTC).replace(microsecond=0)),
        total=total,
        by_status=by_status,
        by_severity=by_severity,
        by_rule=dict(sorted(by_rule.items())),
        by_account=dict(sorted(by_account.items())),
        by_region=dict(sorted(by_region.items())),
        changes=changes,
        coverage=[_region(r) for r in rows.coverage],
        rules=rules,
        stale_waivers=[_waiver(w) for w in evaluation.stale_waivers],
        expired_waivers=[_waiver(w) for w in evaluation.expired_waivers],
        rule_errors=dict(evaluation.rule_errors),
    )


def findings(
    rows: Iterable[Mapping[Any, Any]], titles: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Each finding as a dict of COLUMNS (dates as ISO text), in the order `rows` come."""
    titles = titles or {}
    for row in rows:
        item = {c: iso(v) for c, v in row.items()}
        item["rule_title"] = titles.get(item["rule_id"], "")
        yield {c: item[c] for c in COLUMNS}
