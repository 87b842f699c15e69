"""scans: a scan's own record in `scans` and `scan_regions`, from its start to its end.

A scan begins by marking dead scans (a stale heartbeat) interrupted and dropping their
staging, then records itself as running; it ends by recording how it went, each region
still running with it, and dropping the staging it left. These are small transactions of
their own, outside the writer thread (scanner.store.staging): the start comes before the
writer exists, and the end must still fit where a full disk refused the writer's last batch.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from scanner import __version__
from scanner.errors import one_line
from scanner.stages import Status
from scanner.store import lock
from scanner.store.schema import Scan, ScanRegion, StagedResource

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


def begin_scan(engine: Engine, regions: Sequence[str] | str, owner: str, stale_after: float) -> int:
    """Record a new scan; first mark running scans whose heartbeat is stale as interrupted
    and drop their staging. The caller holds the scan lock (scanner.store.lock)."""
    with engine.begin() as conn:
        fresh = lock.alive(conn, stale_after)
        dead = (
            conn.execute(
                select(Scan.id).where(
                    Scan.status == Status.RUNNING, Scan.heartbeat_at.is_(None) | ~fresh
                )
            )
            .scalars()
            .all()
        )
        if dead:
            log.info("scans %s stopped sending heartbeats: interrupted", dead)
            conn.execute(
                update(Scan)
                .where(Scan.id.in_(dead))
                .values(
                    status=Status.INTERRUPTED,
                    error=f"the scan stopped mid-scan (no heartbeat for {stale_after:g} s)",
                )
            )
            conn.execute(
                update(ScanRegion)
                .where(ScanRegion.scan_id.in_(dead), ScanRegion.status == Status.RUNNING)
                .values(status=Status.INTERRUPTED)
            )
        live = select(Scan.id).where(Scan.status == Status.RUNNING)
        conn.execute(delete(StagedResource).where(StagedResource.scan_id.not_in(live)))
        return conn.execute(
            insert(Scan)
            .values(
                started_at=now(),
                status=Status.RUNNING,
                regions_requested=regions if isinstance(regions, str) else list(regions),
                mpscan_version=__version__,
                host=socket.gethostname(),
                pid=os.getpid(),
                owner=owner,
                heartbeat_at=lock.clock(conn),
            )
            .returning(Scan.id)
        ).scalar_one()


def end_scan(engine: Engine, scan_id: int, status: str, error: str | None = None) -> None:
    """Record how the scan ended, then drop the staging it left behind (interrupted, failed).

    The record is a small write of its own, so it still fits where a full disk refused the
    scan's last batch; staging that cannot be dropped now goes at the next scan's start."""
    with engine.begin() as conn:
        totals = conn.execute(
            select(ScanRegion.packages, ScanRegion.groups).where(
                ScanRegion.scan_id == scan_id, ScanRegion.status == Status.COMPLETE
            )
        ).all()
        conn.execute(
            update(ScanRegion)
            .where(ScanRegion.scan_id == scan_id, ScanRegion.status == Status.RUNNING)
            .values(
                status=status if status == Status.INTERRUPTED else Status.FAILED,
                error_kind="interrupted" if status == Status.INTERRUPTED else None,
                finished_at=now(),
            )
        )
        conn.execute(
            update(Scan)
            .where(Scan.id == scan_id)
            .values(
                status=status,
                finished_at=now(),
                error=error,
                packages_seen=sum(r.packages for r in totals),
                groups_seen=sum(r.groups for r in totals),
            )
        )
    try:
        with engine.begin() as conn:
            conn.execute(delete(StagedResource).where(StagedResource.scan_id == scan_id))
    except SQLAlchemyError as exc:
        log.warning("scan %d: staging left for the next scan to drop: %s", scan_id, one_line(exc))
