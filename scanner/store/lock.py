"""lock: one scan at a time against a database, and the heartbeat that says a scan is alive.

A scan takes the database's scan lock before it records itself or cleans up after dead
scans, and holds it to its end:

- PostgreSQL: the table `scan_lock` locked IN EXCLUSIVE MODE (waiting at most 2 s), held by an open
  transaction on a dedicated connection; it goes when that transaction or connection ends,
  whichever way the process ends. That mode needs the UPDATE, DELETE or TRUNCATE privilege
  on the table, so a role that may only read mpscan's tables cannot take it and keep scans
  out (any role can take an advisory lock); it does not conflict with reads (ACCESS SHARE),
  and, being no write, it gives the long transaction no transaction id to hold VACUUM back.
- SQLite: the one row of `scan_lock`, written in a write transaction only when absent or
  expired (its heartbeat older than scan.stale_after_seconds), deleted at the end.

While a scan runs, a small thread refreshes its heartbeat (`scans.heartbeat_at`, and the
lock row on SQLite) every scan.heartbeat_seconds. A `running` scan whose heartbeat is older
than scan.stale_after_seconds is dead, whatever host or process it ran in; one with a fresh
heartbeat is alive, and keeps other scans out even if its lock was lost.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Update, bindparam, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from scanner.config import ScanSettings
from scanner.errors import ScanBusy
from scanner.stages import Status
from scanner.store.schema import Scan, ScanLock, Timestamp

log = logging.getLogger(__name__)

LOCK_NAME = "scan"
POLL_SECONDS = 1.0  # how often --wait looks again
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock another holds (NOWAIT, timeout)
EVENT_WAIT_MS = 2000  # how long a scan waits for an event's transaction to end


def new_owner() -> str:
    """A token for one scan run: the lock and the scan row name their holder by it."""
    return secrets.token_hex(16)


def clock(conn: Connection) -> Any:
    """Now: the server's clock on PostgreSQL (scans from several machines agree on it), this
    machine's on SQLite (a SQLite file is only written from one machine)."""
    if conn.dialect.name == "postgresql":
        return func.clock_timestamp(type_=Timestamp)
    return datetime.now(UTC)


def alive(conn: Connection, stale_after: float):
    """The condition a `running` scan's heartbeat meets while it is alive."""
    return Scan.heartbeat_at >= clock(conn) - timedelta(seconds=stale_after)


@functools.cache
def _heartbeats(dialect: str) -> tuple[Update, Update]:
    """The heartbeat's two updates, built once (every region's promotion ends with them):
    PostgreSQL's take the server's clock, SQLite's this machine's as `at`."""
    postgres = dialect == "postgresql"
    at = func.clock_timestamp(type_=Timestamp) if postgres else bindparam("at", type_=Timestamp)
    scan = (
        update(Scan)
        .where(Scan.id == bindparam("b_scan_id"), Scan.status == Status.RUNNING)
        .values(heartbeat_at=at)
    )
    held = (
        update(ScanLock)
        .where(ScanLock.name == LOCK_NAME, ScanLock.scan_id == bindparam("b_scan_id"))
        .values(heartbeat_at=at)
    )
    return scan, held


def touch(conn: Connection, scan_id: int) -> bool:
    """Refresh the scan's heartbeat (and on SQLite its lock's); False if it holds no lock row."""
    scan, lock_row = _heartbeats(conn.dialect.name)
    params: dict[str, Any] = {"b_scan_id": scan_id}
    if conn.dialect.name != "postgresql":  # PostgreSQL's statements read the server's clock
        params["at"] = clock(conn)
    conn.execute(scan, params)
    if conn.dialect.name != "sqlite":
        return True
    held = conn.execute(lock_row, params)
    return held.rowcount == 1


def describe(conn: Connection, scan_id: int | None = None) -> str:
    """The running scan as the busy message names it: this one, else the newest running."""
    query = select(Scan.id, Scan.started_at, Scan.host, Scan.pid)
    if scan_id is not None:
        query = query.where(Scan.id == scan_id)
    else:
        query = query.where(Scan.status == Status.RUNNING).order_by(Scan.id.desc()).limit(1)
    row = conn.execute(query).first()
    if row is None:
        return "a scan that is starting or finishing (not recorded as running)"
    started = row.started_at.isoformat(timespec="seconds")
    return f"scan {row.id} started {started} on host {row.host} (pid {row.pid})"


class DatabaseLock:
    """The scan lock of one database, for one scan run."""

    def __init__(self, engine: Engine, settings: ScanSettings):
        self.engine = engine
        self.owner = new_owner()
        self.stale_after = settings.stale_after_seconds
        self.heartbeat = settings.heartbeat_seconds
        self.scan_id: int | None = None
        self._postgres = engine.dialect.name == "postgresql"
        self._conn: Connection | None = None  # PostgreSQL: the session holding the lock
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(
        self, wait: float | None = None, notify: Callable[[str], None] | None = None
    ) -> DatabaseLock:
        """Take the lock, or raise ScanBusy naming the running scan. `wait`: seconds to wait
        for it (math.inf: no limit), counted from when it was first found taken (a slow
        first look at a busy database does not use the wait up); None: do not wait."""
        deadline = None
        said = None
        while True:
            holder = self.try_acquire()
            if holder is None:
                return self
            if deadline is None:
                deadline = time.monotonic() + (wait or 0)
            left = deadline - time.monotonic()
            if wait is None or left <= 0:
                raise ScanBusy(holder, wait)
            if notify and holder != said:
                notify(f"waiting for another scan to finish: {holder}")
                said = holder
            time.sleep(min(POLL_SECONDS, left))

    def try_acquire(self) -> str | None:
        """Take the lock: None when taken, else the running scan that holds it."""
        if self._postgres:
            holder = self._take_row_lock()
        else:
            holder = self._take_row()
        if holder is not None:
            return holder
        self._held = True
        with self.engine.connect() as conn:  # a live scan that lost its lock still counts
            live = conn.execute(
                select(Scan.id)
                .where(Scan.status == Status.RUNNING, alive(conn, self.stale_after))
                .order_by(Scan.id.desc())
            ).first()
            if live:
                holder = describe(conn, live.id)
        if holder is not None:
            self.release()
        return holder

    def _take_row_lock(self) -> str | None:
        conn = self.engine.connect()
        try:
            # The lock's transaction stays open, idle, for the whole scan: a server-wide
            # idle_in_transaction_session_timeout must not end it (and so the lock).
            conn.exec_driver_sql("SET idle_in_transaction_session_timeout = 0")
            if (conn.dialect.server_version_info or ()) >= (17,):
                conn.exec_driver_sql("SET transaction_timeout = 0")
            conn.commit()
            try:
                # A lock, not a write: the transaction gets no transaction id and, idle in
                # READ COMMITTED, holds no snapshot, so a long scan holds back no VACUUM.
                # Not NOWAIT: an event being applied (scanner.store.events) holds the
                # table for milliseconds in ROW EXCLUSIVE MODE; a scan waits that long.
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{EVENT_WAIT_MS}ms'")
                conn.exec_driver_sql("LOCK TABLE scan_lock IN EXCLUSIVE MODE")
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                conn.rollback()
                holder = describe(conn)
                conn.close()
                return holder
            self._conn = conn  # the transaction stays open: it holds the table lock
            return None
        except BaseException:
            conn.invalidate()
            conn.close()
            raise

    def _take_row(self) -> str | None:
        with self.engine.begin() as conn:
            # The write comes first, so the transaction takes SQLite's write lock at once
            # (BEGIN IMMEDIATE semantics): the check and the take cannot interleave.
            at = clock(conn)
            mine = {"owner": self.owner, "scan_id": None, "heartbeat_at": at}
            conn.execute(
                sqlite_insert(ScanLock)
                .values(name=LOCK_NAME, **mine)
                .on_conflict_do_update(
                    index_elements=[ScanLock.name],
                    set_=mine,
                    where=ScanLock.heartbeat_at < at - timedelta(seconds=self.stale_after),
                )
            )
            held = conn.execute(
                select(ScanLock.owner, ScanLock.scan_id).where(ScanLock.name == LOCK_NAME)
            ).one()
            return None if held.owner == self.owner else describe(conn, held.scan_id)

    def attach(self, scan_id: int) -> None:
        """The scan is recorded: name it in the lock and start the heartbeat."""
        self.scan_id = scan_id
        if not self._postgres:
            with self.engine.begin() as conn:
                conn.execute(
                    update(ScanLock)
                    .where(ScanLock.name == LOCK_NAME, ScanLock.owner == self.owner)
                    .values(scan_id=scan_id)
                )
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(scan_id,), name="mpscan-heartbeat", daemon=True
        )
        self._thread.start()

    def _beat(self, scan_id: int) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                with self.engine.begin() as conn:
                    held = touch(conn, scan_id)
                if not held:
                    log.warning("scan %d no longer holds the scan lock", scan_id)
            except Exception as exc:  # the scan itself reports a lost database
                log.warning("scan %d: heartbeat not recorded: %s", scan_id, exc)

    def release(self) -> None:
        """Stop the heartbeat and give the lock back (never raises: the scan's own outcome
        or error is what matters)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if not self._held:
            return
        self._held = False
        try:
            if self._conn is not None:
                self._conn.rollback()  # ends the transaction holding the row lock
                self._conn.close()
            else:
                with self.engine.begin() as conn:
                    conn.execute(
                        delete(ScanLock).where(
                            ScanLock.name == LOCK_NAME, ScanLock.owner == self.owner
                        )
                    )
        except SQLAlchemyError as exc:
            log.debug("scan lock not released: %s (it expires on its own)", exc)
            if self._conn is not None:
                self._conn.invalidate()  # a closed session's transaction and lock end
                self._conn.close()
        finally:
            self._conn = None
