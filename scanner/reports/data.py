"""What every report reads: the scan, the summary, coverage, rules, waivers, and the findings
as a stream (one row at a time from the database, never a list of all of them).

A report is "as of" one scan. For the latest scan the state is `findings` itself; for an
older one (`--scan ID`) it is each finding's latest `finding_events` row at or before that
scan. "Changes" are the events of that scan: new, regressed, resolved or changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, SQLColumnExpression, and_, case, func, null, select

from scanner.stages import SEVERITIES
from scanner.store.report_data import severity_rank
from scanner.store.schema import Finding, FindingEvent, Scan, ScanRegion

STATUSES = ("fail", "error", "waived", "pass")
CHANGES = ("new", "regressed", "resolved", "changed")

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
BATCH = 2000


def iso(value: Any) -> Any:
    """Dates and times as ISO 8601 text (UTC, 'Z'); everything else unchanged."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


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


def _state(scan_id: int, latest: bool, rule_ids: Sequence[str]):
    """A SELECT of every finding's state as of `scan_id`, with its change in that scan."""
    in_scan = (
        select(
            FindingEvent.finding_id.label("finding_id"),
            func.max(case((FindingEvent.change == "new", 1), else_=0)).label("was_new"),
            func.max(case((FindingEvent.change == "regressed", 1), else_=0)).label("was_regr"),
        )
        .where(FindingEvent.scan_id == scan_id)
        .group_by(FindingEvent.finding_id)
        .subquery("in_scan")
    )
    # The state's columns: the finding's own for the latest scan, else its last event's.
    status: SQLColumnExpression[Any]
    severity: SQLColumnExpression[Any]
    message: SQLColumnExpression[Any]
    last_seen: SQLColumnExpression[Any]
    resolved_at: SQLColumnExpression[Any]
    waiver: tuple[SQLColumnExpression[Any], ...]
    if latest:
        status, severity, message = Finding.status, Finding.severity, Finding.message
        last_seen, resolved_at = Finding.last_seen_at, Finding.resolved_at
        waiver = (Finding.waiver_reason, Finding.waiver_owner, Finding.waiver_expires)
        query = select(Finding.id)
    else:
        last_event = (
            select(func.max(FindingEvent.id).label("event_id"))
            .where(FindingEvent.scan_id <= scan_id)
            .group_by(FindingEvent.finding_id)
            .subquery("last_event")
        )
        event = FindingEvent.__table__.alias("event")
        status, severity, message = event.c.status, event.c.severity, event.c.message
        last_seen = event.c.at
        resolved_at = case((event.c.status == "pass", event.c.at), else_=null())
        # Events do not keep the waiver: a finding waived then shows today's waiver, if any.
        waived = event.c.status == "waived"
        waiver = tuple(
            case((waived, c), else_=null())
            for c in (Finding.waiver_reason, Finding.waiver_owner, Finding.waiver_expires)
        )
        query = (
            select(Finding.id)
            .select_from(last_event)
            .join(event, event.c.id == last_event.c.event_id)
            .join(Finding, Finding.id == event.c.finding_id)
        )
    change = case(
        (and_(in_scan.c.finding_id.is_not(None), status == "pass"), "resolved"),
        (in_scan.c.was_new == 1, "new"),
        (in_scan.c.was_regr == 1, "regressed"),
        (in_scan.c.finding_id.is_not(None), "changed"),
        (status != "pass", "open"),
        else_=null(),
    )
    return (
        query.add_columns(
            Finding.rule_id.label("rule_id"),
            severity.label("severity"),
            status.label("status"),
            Finding.resource_arn.label("resource_arn"),
            Finding.account_id.label("account_id"),
            Finding.region.label("region"),
            message.label("message"),
            Finding.resource_type.label("resource_type"),
            change.label("change"),
            Finding.first_seen_at.label("first_seen_at"),
            last_seen.label("last_seen_at"),
            resolved_at.label("resolved_at"),
            Finding.regressions.label("regressions"),
            waiver[0].label("waiver_reason"),
            waiver[1].label("waiver_owner"),
            waiver[2].label("waiver_expires"),
        )
        .outerjoin(in_scan, in_scan.c.finding_id == Finding.id)
        .where(Finding.rule_id.in_(list(rule_ids)))
    )


def _status_rank(column):
    return case({s: i for i, s in enumerate(STATUSES)}, value=column, else_=len(STATUSES))


def iter_findings(
    engine: Engine, scan_id: int, *, latest: bool, rule_ids: Sequence[str], titles=None
) -> Iterator[dict[str, Any]]:
    """Each finding as a dict of COLUMNS (dates as ISO text), worst first, streamed."""
    state = _state(scan_id, latest, rule_ids).subquery("state")
    query = select(*(state.c[c] for c in COLUMNS if c != "rule_title")).order_by(
        _status_rank(state.c.status),
        severity_rank(state.c.severity),
        state.c.rule_id,
        state.c.resource_arn,
        state.c.account_id,
    )
    titles = titles or {}
    with engine.connect() as conn:
        result = conn.execute(query.execution_options(yield_per=BATCH))
        for row in result:
            item = {c: iso(v) for c, v in row._mapping.items()}
            item["rule_title"] = titles.get(item["rule_id"], "")
            yield {c: item[c] for c in COLUMNS}


def _scan_row(conn, scan_id: int) -> dict[str, Any]:
    scan = SimpleNamespace(
        **conn.execute(select(Scan.__table__).where(Scan.id == scan_id)).mappings().one()
    )
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


def _coverage(conn, scan_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(ScanRegion.__table__)
        .where(ScanRegion.scan_id == scan_id)
        .order_by(ScanRegion.account_id, ScanRegion.region)
    )
    return [
        {
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
        for r in rows
    ]


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


def load(engine: Engine, scan_id: int, *, latest: bool, catalog, evaluation) -> ReportData:
    """The report's small parts, counted in the database (GROUP BY), not in Python."""
    rules = [rule_entry(r) for r in catalog.enabled()]
    rule_ids = [r["id"] for r in rules]
    with engine.connect() as conn:
        scan = _scan_row(conn, scan_id)
        previous = conn.execute(
            select(func.max(ScanRegion.scan_id)).where(ScanRegion.scan_id < scan_id)
        ).scalar()
        state = _state(scan_id, latest, rule_ids).subquery("state")
        grouped = conn.execute(
            select(
                state.c.rule_id,
                state.c.severity,
                state.c.status,
                state.c.account_id,
                state.c.region,
                state.c.change,
                func.count().label("n"),
            ).group_by(
                state.c.rule_id,
                state.c.severity,
                state.c.status,
                state.c.account_id,
                state.c.region,
                state.c.change,
            )
        ).all()
        coverage = _coverage(conn, scan_id)
    by_status = {s: 0 for s in STATUSES}
    by_severity: dict[str, dict[str, int]] = {s: {t: 0 for t in STATUSES} for s in SEVERITIES}
    by_rule: dict[str, dict[str, int]] = {}
    by_account: dict[str, dict[str, int]] = {}
    by_region: dict[str, dict[str, int]] = {}
    changes = {c: 0 for c in CHANGES}
    total = 0
    for row in grouped:
        total += row.n
        by_status[row.status] = by_status.get(row.status, 0) + row.n
        _tally(by_severity, row.severity, row.status, row.n)
        _tally(by_rule, row.rule_id, row.status, row.n)
        _tally(by_account, row.account_id, row.status, row.n)
        _tally(by_region, row.region, row.status, row.n)
        if row.change in changes:
            changes[row.change] += row.n
    return ReportData(
        scan=scan,
        previous_scan_id=previous,
        latest=latest,
        generated_at=iso(datetime.now(UTC).replace(microsecond=0)),
        total=total,
        by_status=by_status,
        by_severity=by_severity,
        by_rule=dict(sorted(by_rule.items())),
        by_account=dict(sorted(by_account.items())),
        by_region=dict(sorted(by_region.items())),
        changes=changes,
        coverage=coverage,
        rules=rules,
        stale_waivers=[_waiver(w) for w in evaluation.stale_waivers],
        expired_waivers=[_waiver(w) for w in evaluation.expired_waivers],
        rule_errors=dict(evaluation.rule_errors),
    )
