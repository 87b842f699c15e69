"""load: stage collected documents, promote a region when it completes, prune, book-keep scans.

A scan writes through one thread (SQLite allows one writer). Documents are staged in
batches as they arrive; when a region completes, one transaction turns its staged
documents into rows, replaces the region's previous rows, archives what was not seen
and drops the staging. A failed region's staging is dropped and its live rows stay as
they were. A process killed mid-scan leaves only staging behind, cleaned by the next scan.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from scanner import __version__, transform
from scanner.errors import one_line
from scanner.stages import GROUP, PACKAGE, Halt, RegionOutcome
from scanner.store import lock
from scanner.store.schema import (
    ModelPackage,
    ModelPackageContainer,
    ModelPackageGroup,
    ModelPackageGroupTag,
    ModelPackageMetricSource,
    ModelPackageTag,
    ModelPackageValidationStatus,
    RemovedResource,
    ResourceChange,
    Scan,
    ScanRegion,
    StagedResource,
    UtcDateTime,
)

log = logging.getLogger(__name__)

# What a value AWS sent can do to a write: too long for a column, a NUL byte PostgreSQL
# refuses in text and JSONB, a value that cannot be converted. Such a write fails its
# region (recorded, the region keeps its previous rows), never the scan.
ROW_ERRORS = (DataError, IntegrityError, ValueError)

PACKAGE_CHILDREN = (
    ModelPackageContainer,
    ModelPackageTag,
    ModelPackageValidationStatus,
    ModelPackageMetricSource,
)


def now() -> datetime:
    return datetime.now(UTC)


def begin_scan(engine: Engine, regions: list[str] | str, owner: str, stale_after: float) -> int:
    """Record a new scan; first mark running scans whose heartbeat is stale as interrupted
    and drop their staging. The caller holds the scan lock (scanner.store.lock)."""
    with engine.begin() as conn:
        fresh = lock.alive(conn, stale_after)
        dead = (
            conn.execute(
                select(Scan.id).where(
                    Scan.status == "running", Scan.heartbeat_at.is_(None) | ~fresh
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
                    status="interrupted",
                    error=f"the scan stopped mid-scan (no heartbeat for {stale_after:g} s)",
                )
            )
            conn.execute(
                update(ScanRegion)
                .where(ScanRegion.scan_id.in_(dead), ScanRegion.status == "running")
                .values(status="interrupted")
            )
        live = select(Scan.id).where(Scan.status == "running")
        conn.execute(delete(StagedResource).where(StagedResource.scan_id.not_in(live)))
        return conn.execute(
            insert(Scan)
            .values(
                started_at=now(),
                status="running",
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
                ScanRegion.scan_id == scan_id, ScanRegion.status == "complete"
            )
        ).all()
        conn.execute(
            update(ScanRegion)
            .where(ScanRegion.scan_id == scan_id, ScanRegion.status == "running")
            .values(
                status=status if status == "interrupted" else "failed",
                error_kind="interrupted" if status == "interrupted" else None,
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


def _staged(conn: Connection, scan_id: int, outcome: RegionOutcome, kind: str, size: int):
    """Staged documents of one region and kind, by keyset pages (no open cursor)."""
    last = 0
    while True:
        rows = conn.execute(
            select(StagedResource.id, StagedResource.document)
            .where(
                StagedResource.scan_id == scan_id,
                StagedResource.account_id == outcome.account_id,
                StagedResource.region == outcome.region,
                StagedResource.kind == kind,
                StagedResource.id > last,
            )
            .order_by(StagedResource.id)
            .limit(size)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        yield [r.document for r in rows]


def _seen(rows: list[dict[str, Any]], scan_id: int, first: dict[str, tuple], key: str, at):
    for row in rows:
        first_at, first_scan = first.get(row[key], (at, scan_id))
        row.update(
            first_seen_at=first_at,
            first_seen_scan_id=first_scan,
            last_seen_at=at,
            last_seen_scan_id=scan_id,
        )


def table_rows(table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the table takes them: executemany needs every row to name the same columns
    (an absent member is NULL); members with no column yet stay in `raw` only; ISO 8601
    text becomes a timestamp."""
    columns = table.__table__.columns
    timestamps = {c.name for c in columns if isinstance(c.type, (DateTime, UtcDateTime))}
    keys = {k for row in rows for k in row if k in columns}
    return [
        {
            k: datetime.fromisoformat(v) if k in timestamps and isinstance(v, str) else v
            for k in keys
            for v in (row.get(k),)
        }
        for row in rows
    ]


def _matching(model, key: str, keys, account_id: str):
    """Rows of `model` whose `key` is in `keys`, as seen from `account_id` where it says."""
    clause = getattr(model, key).in_(keys)
    if "account_id" in model.__table__.c:
        clause = clause & (model.account_id == account_id)
    return clause


def _replace(conn, table, key_column, rows, children, scan_id, outcome, at, resource_type) -> int:
    """Store these rows as seen by this scan, keeping when each was first seen.

    A row whose content hash is unchanged is not rewritten (nor are its children): only its
    seen markers move. A new or changed one replaces the stored row and its children, and
    `resource_changes` records it as added, or each field that changed. Returns how many
    rows are new to the inventory."""
    key = key_column.key
    account_id = outcome.account_id
    keys = [r[key] for r in rows]
    stored = {
        r[0]: r
        for r in conn.execute(
            select(
                key_column,
                table.first_seen_at,
                table.first_seen_scan_id,
                table.content_hash,
                table.raw,
                table.tags,
            ).where(_matching(table, key, keys, account_id))
        )
    }
    same = [r[key] for r in rows if r[key] in stored and stored[r[key]][3] == r["content_hash"]]
    if same:
        conn.execute(
            update(table)
            .where(_matching(table, key, same, account_id))
            .values(last_seen_at=at, last_seen_scan_id=scan_id)
        )
        for child, _ in children:
            conn.execute(
                update(child)
                .where(_matching(child, key, same, account_id))
                .values(last_seen_scan_id=scan_id)
            )
    unchanged = set(same)
    rows = [r for r in rows if r[key] not in unchanged]
    if not rows:
        return 0
    history = []
    for row in rows:
        base = {
            "scan_id": scan_id,
            "detected_at": at,
            "resource_type": resource_type,
            "resource_arn": row[key],
            "account_id": account_id,
            "region": outcome.region,
        }
        before = stored.get(row[key])
        if before is None:
            history.append({**base, "change": "added", "field": None, "old": None, "new": None})
            continue
        view = transform.history_view
        for field_name, old, new in transform.changes(
            view(resource_type, before.raw or {}, before.tags),
            view(resource_type, row["raw"], row.get("tags")),
        ):
            history.append(
                {**base, "change": "modified", "field": field_name, "old": old, "new": new}
            )
    first = {k: (v[1], v[2]) for k, v in stored.items()}
    _seen(rows, scan_id, first, key, at)
    rewritten = [r[key] for r in rows]
    for child, _ in children:
        conn.execute(delete(child).where(_matching(child, key, rewritten, account_id)))
    conn.execute(delete(table).where(_matching(table, key, rewritten, account_id)))
    conn.execute(insert(table), table_rows(table, rows))
    for child, child_rows in children:
        child_rows = [c for c in child_rows if c[key] not in unchanged]
        if child_rows:
            for row in child_rows:
                row["last_seen_scan_id"] = scan_id
            conn.execute(insert(child), table_rows(child, child_rows))
    if history:
        conn.execute(insert(ResourceChange), history)
    return len(set(rewritten) - set(stored))


def _load_packages(conn, scan_id, outcome, documents, at) -> int:
    built = [transform.package_rows(d, outcome.account_id, outcome.region) for d in documents]
    children = [
        (ModelPackageContainer, [c for b in built for c in b.containers]),
        (ModelPackageTag, [t for b in built for t in b.tags]),
        (ModelPackageValidationStatus, [s for b in built for s in b.validation_statuses]),
        (ModelPackageMetricSource, [m for b in built for m in b.metric_sources]),
    ]
    rows = [b.package for b in built]
    key = ModelPackage.model_package_arn
    return _replace(conn, ModelPackage, key, rows, children, scan_id, outcome, at, PACKAGE)


def _load_groups(conn, scan_id, outcome, documents, at) -> int:
    built = [transform.group_rows(d, outcome.account_id, outcome.region) for d in documents]
    children = [(ModelPackageGroupTag, [t for b in built for t in b.tags])]
    rows = [b.group for b in built]
    key = ModelPackageGroup.model_package_group_arn
    return _replace(conn, ModelPackageGroup, key, rows, children, scan_id, outcome, at, GROUP)


def _prune(conn, scan_id, outcome, table, key_column, resource_type, children, at) -> int:
    """Archive and delete the region's rows this scan did not see."""
    stale = (table.account_id == outcome.account_id) & (table.region == outcome.region)
    stale = stale & (table.last_seen_scan_id != scan_id)
    columns = [
        "resource_type",
        "arn",
        "account_id",
        "region",
        "first_seen_at",
        "last_seen_at",
        "last_seen_scan_id",
        "removed_at",
        "removed_scan_id",
        "raw",
    ]
    # Counted first: an INSERT ... SELECT's rowcount is -1 on some drivers (psycopg).
    archived = conn.execute(select(func.count()).select_from(table).where(stale)).scalar_one()
    conn.execute(
        insert(RemovedResource).from_select(
            columns,
            select(
                literal(resource_type),
                key_column,
                table.account_id,
                table.region,
                table.first_seen_at,
                table.last_seen_at,
                table.last_seen_scan_id,
                literal(at, type_=RemovedResource.removed_at.type),
                literal(scan_id),
                table.raw,
            ).where(stale),
        )
    )
    conn.execute(
        insert(ResourceChange).from_select(
            [
                "scan_id",
                "detected_at",
                "resource_type",
                "resource_arn",
                "account_id",
                "region",
                "change",
            ],
            select(
                literal(scan_id),
                literal(at, type_=ResourceChange.detected_at.type),
                literal(resource_type),
                key_column,
                table.account_id,
                table.region,
                literal("removed"),
            ).where(stale),
        )
    )
    stale_keys = select(key_column).where(stale)
    for child in children:
        conn.execute(
            delete(child).where(_matching(child, key_column.key, stale_keys, outcome.account_id))
        )
    conn.execute(delete(table).where(stale))
    return archived


def promote_region(engine: Engine, scan_id: int, outcome: RegionOutcome, batch: int) -> None:
    """Promote a complete region in one transaction; a row the database refuses fails the
    region instead (recorded, previous rows kept), and the other regions go on."""
    try:
        with engine.begin() as conn:
            _promote(conn, scan_id, outcome, batch)
        return
    except ROW_ERRORS as exc:
        log.warning(
            "region %s of account %s could not be stored: %s",
            outcome.region,
            outcome.account_id,
            one_line(exc),
        )
        fail_outcome(outcome, "store", type(exc).__name__, one_line(exc))
    except SQLAlchemyError:
        raise  # the database itself failed: that ends the scan
    except Exception as exc:  # a bug in transform or load: this region fails, loudly
        log.error(
            "region %s of account %s could not be stored: internal error "
            "(please report it with this traceback)",
            outcome.region,
            outcome.account_id,
            exc_info=True,
        )
        fail_outcome(outcome, "internal", type(exc).__name__, one_line(exc))
    with engine.begin() as conn:
        _promote(conn, scan_id, outcome, batch)


def fail_outcome(outcome: RegionOutcome, kind: str, code: str, message: str) -> None:
    outcome.status = "failed"
    outcome.error_kind = kind
    outcome.error_code = code
    outcome.error_message = f"a row could not be written to the database: {message}"
    outcome.added = outcome.removed = 0


def _promote(conn: Connection, scan_id: int, outcome: RegionOutcome, batch: int) -> None:
    at = now()
    scope = (
        (StagedResource.scan_id == scan_id)
        & (StagedResource.account_id == outcome.account_id)
        & (StagedResource.region == outcome.region)
    )
    if outcome.status == "complete":
        added = 0
        for documents in _staged(conn, scan_id, outcome, PACKAGE, batch):
            added += _load_packages(conn, scan_id, outcome, documents, at)
        for documents in _staged(conn, scan_id, outcome, GROUP, batch):
            added += _load_groups(conn, scan_id, outcome, documents, at)
        removed = _prune(
            conn,
            scan_id,
            outcome,
            ModelPackage,
            ModelPackage.model_package_arn,
            PACKAGE,
            PACKAGE_CHILDREN,
            at,
        )
        removed += _prune(
            conn,
            scan_id,
            outcome,
            ModelPackageGroup,
            ModelPackageGroup.model_package_group_arn,
            GROUP,
            (ModelPackageGroupTag,),
            at,
        )
        outcome.added, outcome.removed = added, removed
        log.info(
            "region %s of account %s stored: %d new, %d removed",
            outcome.region,
            outcome.account_id,
            added,
            removed,
        )
    conn.execute(delete(StagedResource).where(scope))
    conn.execute(
        update(ScanRegion)
        .where(
            ScanRegion.scan_id == scan_id,
            ScanRegion.account_id == outcome.account_id,
            ScanRegion.region == outcome.region,
        )
        .values(
            status=outcome.status,
            finished_at=at,
            packages=outcome.packages,
            groups=outcome.groups,
            added=outcome.added,
            removed=outcome.removed,
            vanished=outcome.vanished,
            error_kind=outcome.error_kind,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
        )
    )
    lock.touch(conn, scan_id)  # a long promotion ends with a fresh heartbeat (SQLite waits)


class Writer:
    """The scan's single writing thread, fed through a bounded queue (back-pressure)."""

    _STOP = object()

    def __init__(self, engine: Engine, scan_id: int, batch_size: int = 500):
        self.engine = engine
        self.scan_id = scan_id
        self.batch_size = batch_size
        self._queue: queue.Queue = queue.Queue(maxsize=batch_size * 4)
        self._pending: list[dict[str, Any]] = []
        self._error: BaseException | None = None
        self._refused: dict[tuple[str, str], BaseException] = {}
        self._aborted = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mpscan-writer", daemon=True)

    def start(self) -> Writer:
        self._thread.start()
        return self

    def _put(self, item: Any) -> None:
        while True:
            if self._error is not None:
                raise Halt(f"the database writer failed: {one_line(self._error)}")
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def region_started(self, account_id: str, region: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(ScanRegion).values(
                    scan_id=self.scan_id,
                    account_id=account_id,
                    region=region,
                    status="running",
                    started_at=now(),
                )
            )

    def emit(self, kind: str, account_id: str, region: str, document: dict[str, Any]) -> None:
        """Called from collector threads."""
        self._put(("stage", kind, account_id, region, document))

    def region_finished(self, outcome: RegionOutcome) -> None:
        self._put(("finish", outcome))

    def abort(self, timeout: float = 60.0) -> None:
        """Stop after the write in progress (a transaction: it commits whole or not at
        all), dropping what is queued: for Ctrl-C and failures."""
        self._aborted.set()
        while True:  # make room for the stop marker, whatever is queued
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(self._STOP)
        self._thread.join(timeout)

    def close(self) -> None:
        """Wait until everything queued is written; re-raise the writer's failure."""
        if self._thread.is_alive():
            try:
                self._put(self._STOP)
            except Halt:  # the writer died: its own error is raised below
                pass
            self._thread.join()
        if self._error is not None:
            raise self._error

    def _flush(self) -> None:
        if not self._pending:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(StagedResource), self._pending)
        except ROW_ERRORS:
            self._stage_one_by_one()
        self._pending = []

    def _stage_one_by_one(self) -> None:
        """A batch the database refused: stage what it takes, and fail the region of each
        document it refuses (a NUL byte in a description, say), never the whole scan."""
        for row in self._pending:
            scope = (row["account_id"], row["region"])
            if scope in self._refused:
                continue
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(StagedResource), [row])
            except ROW_ERRORS as exc:
                self._refused[scope] = exc

    def _finish(self, outcome: RegionOutcome) -> None:
        refused = self._refused.pop((outcome.account_id, outcome.region), None)
        if refused is not None and outcome.status == "complete":
            log.warning(
                "region %s of account %s could not be staged: %s",
                outcome.region,
                outcome.account_id,
                one_line(refused),
            )
            fail_outcome(outcome, "store", type(refused).__name__, one_line(refused))
        promote_region(self.engine, self.scan_id, outcome, self.batch_size)

    def _messages(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if item is self._STOP or self._aborted.is_set():
                return
            yield item

    def _run(self) -> None:
        try:
            for item in self._messages():
                if item[0] == "stage":
                    _, kind, account_id, region, document = item
                    self._pending.append(
                        dict(
                            scan_id=self.scan_id,
                            account_id=account_id,
                            region=region,
                            kind=kind,
                            document=document,
                        )
                    )
                    if len(self._pending) >= self.batch_size:
                        self._flush()
                else:
                    self._flush()
                    self._finish(item[1])
            if not self._aborted.is_set():
                self._flush()
        except BaseException as exc:  # surfaced to the scan by close() and the next emit()
            self._error = exc
