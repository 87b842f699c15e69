"""What a report reads, as of one scan: the scan's row, the scan before it, its coverage,
the findings counted by GROUP BY, and the findings as a stream (one row at a time from
the database, never a list of all of them).

A report is "as of" one scan. For the latest scan the state is `findings` itself; for an
older one (`--scan ID`) it is each finding's latest `finding_events` row at or before that
scan. "Changes" are the events of that scan: new, regressed, resolved or changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, RowMapping, SQLColumnExpression, and_, case, func, null, select

from scanner.store.read.findings import severity_rank
from scanner.store.schema import Finding, FindingEvent, Scan, ScanRegion

STATUSES = ("fail", "error", "waived", "pass")  # worst first: the order findings are read in
CHANGES = ("new", "regressed", "resolved", "changed")
BATCH = 2000  # rows taken from the driver at a time


@dataclass(frozen=True)
class ReportRows:
    """Everything a report reads but the findings: small, whatever their number."""

    scan: Row[Any]  # the `scans` row
    previous_scan_id: int | None  # the newest scan before it with a region
    counts: list[Row[Any]]  # findings by rule, severity, status, account, region, change: n
    coverage: list[Row[Any]]  # its `scan_regions` rows, by account and region


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
    engine: Engine, scan_id: int, *, latest: bool, rule_ids: Sequence[str]
) -> Iterator[RowMapping]:
    """Each finding's state as of `scan_id` (its columns as stored), worst first, streamed."""
    state = _state(scan_id, latest, rule_ids).subquery("state")
    query = select(*(c for c in state.c if c.key != "id")).order_by(
        _status_rank(state.c.status),
        severity_rank(state.c.severity),
        state.c.rule_id,
        state.c.resource_arn,
        state.c.account_id,
    )
    with engine.connect() as conn:
        result = conn.execute(query.execution_options(yield_per=BATCH))
        for row in result:
            yield row._mapping


def report_rows(
    engine: Engine, scan_id: int, *, latest: bool, rule_ids: Sequence[str]
) -> ReportRows:
    """The report's small parts, counted in the database (GROUP BY), in one connection."""
    with engine.connect() as conn:
        scan = conn.execute(select(Scan.__table__).where(Scan.id == scan_id)).one()
        previous = conn.execute(
            select(func.max(ScanRegion.scan_id)).where(ScanRegion.scan_id < scan_id)
        ).scalar()
        state = _state(scan_id, latest, rule_ids).subquery("state")
        by = (
            state.c.rule_id,
            state.c.severity,
            state.c.status,
            state.c.account_id,
            state.c.region,
            state.c.change,
        )
        counts = conn.execute(select(*by, func.count().label("n")).group_by(*by)).all()
        coverage = conn.execute(
            select(ScanRegion.__table__)
            .where(ScanRegion.scan_id == scan_id)
            .order_by(ScanRegion.account_id, ScanRegion.region)
        ).all()
    return ReportRows(scan, previous, list(counts), list(coverage))
