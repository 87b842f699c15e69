"""A report's trend: open findings by severity as of each of the last scans, and what each
scan opened and resolved, replayed from `finding_events` in one ordered pass.

A finding's state as of a scan is its last event at or before that scan; walking the
events in scan order and keeping each finding's latest (status, severity) gives every
scan's counts in one read, whatever the number of scans shown (one query per scan would
read the events that many times). Memory: one small tuple per finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from scanner.stages import SEVERITIES, Status
from scanner.store.schema import Finding, FindingEvent, Scan, ScanRegion

BATCH = 5000


@dataclass
class TrendPoint:
    scan_id: int
    started_at: datetime
    open: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    opened: int = 0  # new or regressed in this scan
    resolved: int = 0


def trend(
    engine: Engine, upto_scan: int, rule_ids: Sequence[str], scans: int = 30
) -> list[TrendPoint]:
    """The last `scans` scans that stored something, up to `upto_scan`, oldest first."""
    with engine.connect() as conn:
        chosen = conn.execute(
            select(Scan.id, Scan.started_at)
            .where(
                Scan.id <= upto_scan,
                Scan.id.in_(select(ScanRegion.scan_id).where(ScanRegion.status == Status.COMPLETE)),
            )
            .order_by(Scan.id.desc())
            .limit(scans)
        ).all()
        points = [TrendPoint(r.id, r.started_at) for r in reversed(chosen)]
        if not points:
            return []
        at = {p.scan_id: p for p in points}
        state: dict[int, tuple[str, str]] = {}  # finding -> (status, severity)
        pending = iter(points)
        point: TrendPoint | None = next(pending)
        if conn.dialect.name == "postgresql":
            # The events are streamed through a cursor, which PostgreSQL plans for its first
            # rows (a nested loop, 150x slower here): every row is read, so plan for all.
            conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
        rows = conn.execute(
            select(
                FindingEvent.finding_id,
                FindingEvent.scan_id,
                FindingEvent.change,
                FindingEvent.status,
                FindingEvent.severity,
            )
            .join(Finding, Finding.id == FindingEvent.finding_id)
            .where(FindingEvent.scan_id <= points[-1].scan_id, Finding.rule_id.in_(rule_ids))
            .order_by(FindingEvent.scan_id, FindingEvent.id)
            .execution_options(yield_per=BATCH)
        )
        open_now = dict.fromkeys(SEVERITIES, 0)  # the open counts of `state`, kept as it moves
        for finding_id, scan_id, change, status, severity in rows:
            while point is not None and scan_id > point.scan_id:
                point.open = dict(open_now)
                point = next(pending, None)
            before = state.get(finding_id)
            if before is not None and before[0] == "fail" and before[1] in open_now:
                open_now[before[1]] -= 1
            if status == "fail" and severity in open_now:
                open_now[severity] += 1
            state[finding_id] = (status, severity)
            mine = at.get(scan_id)
            if mine is not None:
                if change in ("new", "regressed"):
                    mine.opened += 1
                elif change == "resolved":
                    mine.resolved += 1
        while point is not None:
            point.open = dict(open_now)
            point = next(pending, None)
    return points
