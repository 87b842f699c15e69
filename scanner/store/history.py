"""Reading and trimming history: `resource_changes` for `mpscan diff`, and retention for
`mpscan prune` (old scans, their history and archived removals; never the current
inventory, nor a scan a current row or an open finding still points to)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, func, or_, select

from scanner.kinds import KINDS
from scanner.stages import Status
from scanner.store.read import scans as read_scans
from scanner.store.schema import (
    Endpoint,
    EndpointConfig,
    Finding,
    FindingEvent,
    Model,
    ModelCard,
    ModelPackage,
    ModelPackageGroup,
    RegistryEvent,
    RemovedResource,
    ResourceChange,
    Scan,
    ScanLock,
    ScanRegion,
    StagedResource,
    model,
)

DIFF_COLUMNS = (
    "resource_arn",
    "resource_type",
    "account_id",
    "region",
    "change",
    "field",
    "old",
    "new",
    "scan_id",
    "detected_at",
    "event_id",  # registry_events.id when `mpscan listen` applied it; null: the scan saw it
)


def latest_two_scans(engine: Engine) -> tuple[int | None, int | None]:
    """(the newest scan that stored something, the one before it)."""
    with engine.connect() as conn:
        ids = (
            conn.execute(
                select(ScanRegion.scan_id)
                .where(ScanRegion.status == Status.COMPLETE)
                .group_by(ScanRegion.scan_id)
                .order_by(ScanRegion.scan_id.desc())
                .limit(2)
            )
            .scalars()
            .all()
        )
    return (ids[0] if ids else None, ids[1] if len(ids) > 1 else None)


def scan_exists(engine: Engine, scan_id: int) -> bool:
    with engine.connect() as conn:
        return read_scans.scan_exists(conn, scan_id)


def first_scan_since(engine: Engine, since: datetime) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(func.min(Scan.id)).where(Scan.started_at >= since)).scalar()


def changes_after(engine: Engine, after_scan: int) -> Iterator[dict[str, Any]]:
    """Every change recorded by scans after `after_scan`, oldest first."""
    with engine.connect() as conn:
        result = conn.execute(
            select(*(getattr(ResourceChange, c) for c in DIFF_COLUMNS))
            .where(ResourceChange.scan_id > after_scan)
            .order_by(ResourceChange.scan_id, ResourceChange.resource_arn, ResourceChange.id)
            .execution_options(yield_per=2000)
        )
        for row in result.mappings():
            yield dict(row)


@dataclass
class PruneCounts:
    scans: int = 0
    changes: int = 0
    finding_events: int = 0
    resolved_findings: int = 0
    removed_resources: int = 0
    events: int = 0


def _referenced(scan_id_column):
    """True where a current row, a finding or a kept archive still points to the scan."""
    refs: list[tuple[Any, tuple[str, ...]]] = [
        ref
        for kind in KINDS  # every kind's rows and their children (scanner.kinds)
        for ref in [(model(kind.table), ("first_seen_scan_id", "last_seen_scan_id"))]
        + [(model(child), ("last_seen_scan_id",)) for child in kind.children]
    ]
    refs += [
        (Finding, ("scan_id", "first_seen_scan_id", "opened_scan_id", "resolved_scan_id")),
        (RemovedResource, ("last_seen_scan_id", "removed_scan_id")),
        (StagedResource, ("scan_id",)),
        (ScanLock, ("scan_id",)),
    ]
    return or_(
        *(
            exists().where(getattr(table, column) == scan_id_column)
            for table, columns in refs
            for column in columns
        )
    )


def prune(engine: Engine, before: datetime, *, dry_run: bool) -> PruneCounts:
    """Delete what is older than `before`, in one transaction (rolled back on dry run)."""
    counts = PruneCounts()
    with engine.connect() as conn, conn.begin() as tx:
        counts.removed_resources = _delete(
            conn, RemovedResource, RemovedResource.removed_at < before
        )
        resolved = and_(Finding.status == "pass", Finding.resolved_at < before)
        counts.finding_events += _delete(
            conn, FindingEvent, FindingEvent.finding_id.in_(select(Finding.id).where(resolved))
        )
        counts.resolved_findings = _delete(conn, Finding, resolved)
        # Only scans nothing current points to, and never the latest: what the latest scan
        # changed is what `mpscan diff` and a report's "changes" show, however old it is.
        latest = select(func.max(Scan.id)).where(Scan.status != Status.RUNNING).scalar_subquery()
        ids = (
            conn.execute(
                select(Scan.id).where(
                    Scan.started_at < before,
                    Scan.status != Status.RUNNING,
                    Scan.id != latest,
                    ~_referenced(Scan.id),
                )
            )
            .scalars()
            .all()
        )
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            counts.changes += _delete(conn, ResourceChange, ResourceChange.scan_id.in_(chunk))
            counts.finding_events += _delete(conn, FindingEvent, FindingEvent.scan_id.in_(chunk))
            conn.execute(delete(ScanRegion).where(ScanRegion.scan_id.in_(chunk)))
            conn.execute(delete(Scan).where(Scan.id.in_(chunk)))
        counts.scans = len(ids)
        # Registry events past the cutoff, but those a current row or kept history names.
        named = or_(
            *(
                exists().where(column == RegistryEvent.id)
                for column in (
                    ModelPackage.last_event_id,
                    ModelPackageGroup.last_event_id,
                    Model.last_event_id,
                    EndpointConfig.last_event_id,
                    Endpoint.last_event_id,
                    ModelCard.last_event_id,
                    ResourceChange.event_id,
                    FindingEvent.event_id,
                )
            )
        )
        counts.events = _delete(conn, RegistryEvent, (RegistryEvent.applied_at < before) & ~named)
        if dry_run:
            tx.rollback()
    return counts


def _delete(conn, table, where) -> int:
    # Counted first: a DELETE's rowcount is not reliable on every driver.
    count = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    conn.execute(delete(table).where(where))
    return count
