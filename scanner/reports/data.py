"""What a report shows but the findings' own rows: `ReportData` (the scan, the summary,
coverage, rules, waivers), shaped from the read model's rows (`scanner/store/read/report.py`),
and each finding as the writers take it (COLUMNS, dates as ISO text). No SQL here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    trend: list[dict[str, Any]] = field(default_factory=list)  # oldest first, this scan last
    top_risks: list[dict[str, Any]] = field(default_factory=list)
    executive: str = ""
    registry: list[dict[str, Any]] = field(default_factory=list)  # groups and their versions
    production: list[dict[str, Any]] = field(default_factory=list)  # endpoints, what they serve
    framework: dict[str, Any] | None = None  # `--framework`: its controls and their rules

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
        "controls": [{"framework": f, "control": c} for f, c in r.controls],
    }


def build(
    rows: ReportRows,
    *,
    latest: bool,
    rules: list[dict[str, Any]],
    evaluation,
    trend: Sequence[Any] = (),
    registry: Sequence[Any] = (),
    production: Sequence[Any] = (),
) -> ReportData:
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
    rules = sorted(rules, key=lambda r: (SEVERITIES.index(r["severity"]), r["id"]))
    data = ReportData(
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
        trend=[_point(p) for p in trend],
        registry=[_group(g) for g in registry],
        production=[_endpoint(e) for e in production],
    )
    data.top_risks = top_risks(data)
    data.executive = executive(data)
    return data


def _point(p) -> dict[str, Any]:
    return {
        "scan_id": p.scan_id,
        "started_at": iso(p.started_at),
        "open": dict(p.open),
        "opened": p.opened,
        "resolved": p.resolved,
    }


def _group(g) -> dict[str, Any]:
    return {
        "account_id": g.account_id,
        "region": g.region,
        "name": g.name,
        "arn": g.arn,
        "total": g.total,
        "latest_approved": g.latest_approved,
        "open": sum(g.open.values()) + sum(sum(v.open.values()) for v in g.versions),
        "group_open": dict(g.open),
        "versions": [
            {
                "arn": v.arn,
                "version": v.version,
                "approval": v.approval,
                "created": iso(v.created),
                "open": dict(v.open),
            }
            for v in g.versions
        ],
    }


def _endpoint(e) -> dict[str, Any]:
    return {
        "account_id": e.account_id,
        "region": e.region,
        "name": e.name,
        "arn": e.arn,
        "status": e.status,
        "open": dict(e.open),
        "served": [
            {
                "variant": s["variant_name"],
                "shadow": s["variant_kind"] == "shadow",
                "weight": s["current_weight"],
                "model": s["model_name"],
                "package": s["model_package_arn"],
                "version": s["model_package_version"],
                "group": s["model_package_group_name"],
                "approval": s["model_approval_status"],
                "known": s["model_package_status"] is not None,
                "latest_approved": s["latest_approved_version"],
            }
            for s in e.served
        ],
    }


def framework_section(data: ReportData, framework) -> dict[str, Any]:
    """Each control of `framework` (scanner.rules.frameworks.Framework) with the rules in
    force that give evidence for it and their findings; its status: failing (a rule has an
    open finding), not judged (errors only), evidenced (rules ran, none failing) or no rule
    in force."""
    controls = []
    for control, title in framework.controls.items():
        rules = []
        for r in data.rules:
            if {"framework": framework.id, "control": control} in r.get("controls", []):
                counts = data.by_rule.get(r["id"], {})
                rules.append(
                    {
                        "id": r["id"],
                        "title": r["title"],
                        "severity": r["severity"],
                        "open": counts.get("fail", 0),
                        "error": counts.get("error", 0),
                    }
                )
        if not rules:
            status = "no rule in force"
        elif any(r["open"] for r in rules):
            status = "failing"
        elif any(r["error"] for r in rules):
            status = "not judged"
        else:
            status = "evidenced"
        controls.append({"id": control, "title": title, "status": status, "rules": rules})
    return {
        "id": framework.id,
        "name": framework.name,
        "source": framework.source,
        "url": framework.url,
        "controls": controls,
    }


def top_risks(data: ReportData, limit: int = 5) -> list[dict[str, Any]]:
    """The rules with open findings, worst severity first, then most findings."""
    risky = [
        {**r, "open": data.by_rule.get(r["id"], {}).get("fail", 0)}
        for r in data.rules
        if data.by_rule.get(r["id"], {}).get("fail", 0)
    ]
    risky.sort(key=lambda r: (SEVERITIES.index(r["severity"]), -r["open"], r["id"]))
    return risky[:limit]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def executive(data: ReportData) -> str:
    """One paragraph: scope, what is open, what changed, the worst rule."""
    accounts = {c["account_id"] for c in data.coverage}
    failed = [c for c in data.coverage if c["status"] != "complete"]
    scope = (
        f"Scan {data.scan['id']} ({data.scan['status']}) covered "
        f"{_plural(len(accounts), 'account')} and {_plural(len(data.coverage), 'region')}"
    )
    scope += (
        f", {len(failed)} of which could not be read (their previous inventory is kept)."
        if failed
        else ", every one read in full."
    )
    open_ = data.by_status.get("fail", 0)
    by_sev = [
        f"{data.by_severity[s]['fail']:,} {s}" for s in SEVERITIES if data.by_severity[s]["fail"]
    ]
    state = f"{_plural(open_, 'finding')} {'is' if open_ == 1 else 'are'} open"
    state += f" ({', '.join(by_sev)})" if by_sev else ""
    extra = [
        f"{data.by_status[s]:,} {label}"
        for s, label in (("waived", "waived"), ("error", "could not be judged"))
        if data.by_status.get(s)
    ]
    state += f"; {' and '.join(extra)}." if extra else "."
    if data.previous_scan_id is None:
        change = "This is the first scan: every finding is new."
    else:
        change = (
            f"Since scan {data.previous_scan_id}: {data.changes['new']:,} new, "
            f"{data.changes['regressed']:,} regressed, {data.changes['resolved']:,} resolved."
        )
    month = _last_days(data.trend, 30)
    if month and len(month) > 1:
        change += (
            f" Over the last 30 days ({_plural(len(month), 'scan')}): "
            f"{sum(p['opened'] for p in month):,} opened, "
            f"{sum(p['resolved'] for p in month):,} resolved."
        )
    worst = ""
    if data.top_risks:
        r = data.top_risks[0]
        worst = f" The worst rule is {r['id']} ({r['title']}, {r['severity']}): {r['open']:,} open."
    return f"{scope} {state} {change}{worst}"


def _last_days(points: list[dict[str, Any]], days: int) -> list[dict[str, Any]]:
    if not points:
        return []
    end = datetime.fromisoformat(points[-1]["started_at"].replace("Z", "+00:00"))
    return [
        p
        for p in points
        if (end - datetime.fromisoformat(p["started_at"].replace("Z", "+00:00"))).days < days
    ]


def findings(
    rows: Iterable[Mapping[Any, Any]], titles: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Each finding as a dict of COLUMNS (dates as ISO text), in the order `rows` come."""
    titles = titles or {}
    for row in rows:
        item = {c: iso(v) for c, v in row.items()}
        item["rule_title"] = titles.get(item["rule_id"], "")
        yield {c: item[c] for c in COLUMNS}
