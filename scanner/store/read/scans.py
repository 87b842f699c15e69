"""Which scans there are: the one the inventory stands at, and whether one exists."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from scanner.store.schema import Scan, ScanRegion


def latest_scan(conn: Connection) -> int | None:
    """The newest scan that stored at least one region: the inventory as it stands."""
    return conn.execute(
        select(func.max(ScanRegion.scan_id)).where(ScanRegion.status == "complete")
    ).scalar()


def scan_exists(conn: Connection, scan_id: int) -> bool:
    return conn.execute(select(Scan.id).where(Scan.id == scan_id)).first() is not None
