"""The health of the inventory: each account and region's last scan. Used by `mpscan status`
and the metrics (with `findings.open_findings`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from scanner.stages import Status
from scanner.store.schema import RegistryEvent, ScanRegion

FINISHED = (Status.COMPLETE, Status.FAILED, Status.INTERRUPTED)


@dataclass(frozen=True)
class RegionStatus:
    account_id: str
    region: str
    scan_id: int | None  # the last finished scan of this account and region
    status: str  # complete, failed, interrupted, or never
    finished_at: datetime | None
    last_complete_at: datetime | None
    packages: int
    groups: int
    error: str | None
    last_event_at: datetime | None = None  # the last registry event applied (mpscan listen)

    def age_seconds(self, now: datetime) -> float | None:
        if self.finished_at is None:
            return None
        return (now - self.finished_at).total_seconds()


def region_statuses(
    engine: Engine, expected: Sequence[tuple[str | None, str]] = ()
) -> list[RegionStatus]:
    """The last finished scan per (account, region), plus `expected` pairs never scanned
    (an account of None matches any account)."""
    with engine.connect() as conn:
        last = (
            select(
                ScanRegion.account_id,
                ScanRegion.region,
                func.max(ScanRegion.scan_id).label("scan_id"),
            )
            .where(ScanRegion.status.in_(FINISHED))
            .group_by(ScanRegion.account_id, ScanRegion.region)
            .subquery()
        )
        complete = (
            select(
                ScanRegion.account_id,
                ScanRegion.region,
                func.max(ScanRegion.scan_id).label("scan_id"),
            )
            .where(ScanRegion.status == Status.COMPLETE)
            .group_by(ScanRegion.account_id, ScanRegion.region)
            .subquery()
        )
        stored = ScanRegion.__table__.alias("stored")  # the last complete scan's row
        events = (
            select(
                RegistryEvent.account_id,
                RegistryEvent.region,
                func.max(RegistryEvent.applied_at).label("last_event_at"),
            )
            .group_by(RegistryEvent.account_id, RegistryEvent.region)
            .subquery()
        )
        rows = conn.execute(
            select(
                ScanRegion.account_id,
                ScanRegion.region,
                ScanRegion.scan_id,
                ScanRegion.status,
                ScanRegion.error_kind,
                ScanRegion.finished_at,
                ScanRegion.error_message,
                stored.c.finished_at.label("at"),
                stored.c.packages,
                stored.c.groups,
                events.c.last_event_at,
            )
            .join(
                last,
                (ScanRegion.account_id == last.c.account_id)
                & (ScanRegion.region == last.c.region)
                & (ScanRegion.scan_id == last.c.scan_id),
            )
            .outerjoin(
                complete,
                (complete.c.account_id == ScanRegion.account_id)
                & (complete.c.region == ScanRegion.region),
            )
            .outerjoin(
                stored,
                (stored.c.account_id == ScanRegion.account_id)
                & (stored.c.region == ScanRegion.region)
                & (stored.c.scan_id == complete.c.scan_id),
            )
            .outerjoin(
                events,
                (events.c.account_id == ScanRegion.account_id)
                & (events.c.region == ScanRegion.region),
            )
            .order_by(ScanRegion.account_id, ScanRegion.region)
        ).all()
    found = [
        RegionStatus(
            r.account_id,
            r.region,
            r.scan_id,
            Status.INTERRUPTED if r.error_kind == "interrupted" else r.status,
            r.finished_at,
            r.at,
            r.packages or 0,  # what is stored: the last complete scan's counts
            r.groups or 0,
            r.error_message,
            r.last_event_at,
        )
        for r in rows
    ]
    for account, region in expected:
        if not any(s.region == region and account in (None, s.account_id) for s in found):
            found.append(
                RegionStatus(account or "-", region, None, Status.NEVER, None, None, 0, 0, None)
            )
    return found
