"""events: a registry event's refresh stored, once per event id, never across a scan.

An event amends the inventory of the latest complete scan of its account and region: the
refreshed resource is stored as that scan's promotion would store it (with its history,
`resource_changes.event_id` naming the event), or removed if AWS says it is gone, and the
event is recorded in `registry_events`.

Events and scans never interleave (`guard`). The refresh reads AWS before its transaction,
so the transaction proves nothing changed in between that the read could have missed:

- no scan holds the scan lock or is alive (else `ScanRunning`: the event waits for the
  scan's end). PostgreSQL: the transaction takes `scan_lock` IN ROW EXCLUSIVE MODE NOWAIT,
  which conflicts with a scan's EXCLUSIVE lock both ways, so no scan starts before it
  commits. SQLite: its first statement is a write, so it holds the database's write lock
  and a scan's lock row can neither appear nor vanish meanwhile;
- no scan began since the read (the newest scan id is the one read before it; else
  `ScanMoved`: that scan may have stored something newer, so the event reads AWS again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, func, insert, null, select, update
from sqlalchemy.exc import OperationalError

from scanner.kinds import Kind
from scanner.stages import RegionOutcome, Status
from scanner.store import lock
from scanner.store.inventory import Inventoried, remove, replace
from scanner.store.schema import RegistryEvent, Scan, ScanLock, ScanRegion, model


class ScanRunning(Exception):
    """A scan runs: the event is applied after it."""


class ScanMoved(Exception):
    """A scan began after the event read AWS: read it again."""


def newest_scan(conn: Connection) -> int:
    """The newest scan's id, whatever its status (0: none yet)."""
    return conn.execute(select(func.coalesce(func.max(Scan.id), 0))).scalar_one()


def scan_running(conn: Connection, stale_after: float) -> bool:
    """Whether a live scan runs now (its heartbeat fresh)."""
    live = select(Scan.id).where(Scan.status == Status.RUNNING, lock.alive(conn, stale_after))
    return conn.execute(live.limit(1)).first() is not None


def applied(conn: Connection, event_id: str) -> bool:
    return (
        conn.execute(select(RegistryEvent.id).where(RegistryEvent.event_id == event_id)).first()
        is not None
    )


def region_scan(conn: Connection, account_id: str, region: str) -> int | None:
    """The latest scan that completed this account and region: the inventory an event
    amends (None: no inventory yet, the first scan reads the region)."""
    return conn.execute(
        select(func.max(ScanRegion.scan_id)).where(
            ScanRegion.account_id == account_id,
            ScanRegion.region == region,
            ScanRegion.status == Status.COMPLETE,
        )
    ).scalar()


def stored(conn: Connection, kind: Kind, account_id: str, region: str, name: str) -> dict | None:
    """The stored row an event names (by ARN, or by its name): its ARN, name, content hash,
    last-modified time and group name (None where the kind has none)."""
    table = cast(Inventoried, model(kind.table))
    key = getattr(table, kind.key)
    named = _name_column(kind)
    by = key == name if name.startswith("arn:") else named == name
    modified = getattr(table, "last_modified_time", None)
    group = getattr(table, "model_package_group_name", None)
    row = conn.execute(
        select(
            key,
            named,
            table.content_hash,
            modified if modified is not None else null(),
            group if group is not None else null(),
        ).where(by, table.account_id == account_id, table.region == region)
    ).first()
    if row is None:
        return None
    return {
        "arn": row[0],
        "name": row[1],
        "content_hash": row[2],
        "modified": row[3],
        "group": row[4],
    }


def _name_column(kind: Kind):
    """The column of a kind's name, beside its ARN key (model_package_arn: model_package_name,
    endpoint_arn: endpoint_name, ...)."""
    return model(kind.table).__table__.c[kind.key.removesuffix("_arn") + "_name"]


def record(event: dict[str, Any]) -> Callable[[Connection], int]:
    """A guard's first write: the event's `registry_events` row, inserted."""

    def write(conn: Connection) -> int:
        return conn.execute(
            insert(RegistryEvent).values(event).returning(RegistryEvent.id)
        ).scalar_one()

    return write


def again(row_id: int, at: datetime) -> Callable[[Connection], int]:
    """A guard's first write for an event already recorded: its judgement, at `at`."""

    def write(conn: Connection) -> int:
        conn.execute(update(RegistryEvent).where(RegistryEvent.id == row_id).values(applied_at=at))
        return row_id

    return write


@contextmanager
def guard(
    engine: Engine, read_after: int, stale_after: float, first_write: Callable[[Connection], int]
) -> Iterator[tuple[Connection, int]]:
    """One transaction in which no scan runs or has begun since scan id `read_after` was
    the newest; its first statement is `first_write` (`record` or `again`), which gives the
    event's row id. Yields the connection and that id."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            try:
                conn.exec_driver_sql("LOCK TABLE scan_lock IN ROW EXCLUSIVE MODE NOWAIT")
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) == lock.LOCK_NOT_AVAILABLE:
                    raise ScanRunning() from None
                raise
        row_id = first_write(conn)
        held = conn.execute(
            select(ScanLock.scan_id).where(
                ScanLock.name == lock.LOCK_NAME,
                ScanLock.heartbeat_at >= lock.clock(conn) - timedelta(seconds=stale_after),
            )
        ).first()
        if held is not None or scan_running(conn, stale_after):
            raise ScanRunning()
        if newest_scan(conn) != read_after:
            raise ScanMoved()
        yield conn, row_id


def store(
    conn: Connection,
    kind: Kind,
    scan_id: int,
    account_id: str,
    region: str,
    document: dict[str, Any],
    at: datetime,
    event_row: int,
) -> bool:
    """The refreshed resource stored in the scan's inventory, its history by this event;
    whether what is stored of it changed (its content hash; a new resource: True)."""
    arn = (document.get("describe") or {}).get(_arn_member(kind))
    before = stored(conn, kind, account_id, region, arn) if isinstance(arn, str) else None
    replace(conn, kind, scan_id, RegionOutcome(account_id, region), [document], at, event_row)
    after = stored(conn, kind, account_id, region, arn) if isinstance(arn, str) else None
    return before is None or after is None or before["content_hash"] != after["content_hash"]


def _arn_member(kind: Kind) -> str:
    """The describe answer's member holding the ARN (model_package_arn: ModelPackageArn)."""
    return "".join(part.capitalize() for part in kind.key.split("_"))


def drop(
    conn: Connection,
    kind: Kind,
    scan_id: int,
    account_id: str,
    region: str,
    arn: str,
    at: datetime,
    event_row: int,
) -> bool:
    """A resource AWS says is gone, archived and removed as a scan's prune would."""
    return bool(remove(conn, kind, scan_id, RegionOutcome(account_id, region), arn, at, event_row))


def finish(conn: Connection, event_row: int, **values: Any) -> None:
    conn.execute(update(RegistryEvent).where(RegistryEvent.id == event_row).values(**values))
