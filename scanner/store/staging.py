"""staging: the scan's one writer thread, fed through a bounded queue.

Collector threads hand every document to `Writer.emit`; the writer stages them in
`staged_resources` in batches as they arrive, so memory stays flat whatever the registry's
size, and promotes each region when its outcome arrives (scanner.store.promote). While
the scan runs, every write goes through this one thread (SQLite allows one writer), a
region's start included; only the heartbeat (scanner.store.lock) writes beside it. The
queue is the order of the writes, so a region's row in `scan_regions` is written before
anything staged for it and before its promotion; a full queue holds the collectors back.
A batch the database refuses is staged document by document, and a document it refuses
fails only its region. The writer's own failure ends the scan: the next call into the
queue raises Halt, and `close` raises the error itself.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert

from scanner.errors import one_line
from scanner.stages import Halt, RegionOutcome, Status
from scanner.store.promote import ROW_ERRORS, fail_outcome, promote_region
from scanner.store.scans import now
from scanner.store.schema import ScanRegion, StagedResource

log = logging.getLogger(__name__)
# built once: every region of a scan writes its start and its staged batches through them
_STARTED = insert(ScanRegion)
_STAGED = insert(StagedResource)


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
        self._abandoned = threading.Event()
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
        """Called before the region's collection starts (from the scan's threads): its
        `scan_regions` row, running since now, is queued ahead of all it will emit."""
        self._put(("start", account_id, region, now()))

    def emit(self, kind: str, account_id: str, region: str, document: dict[str, Any]) -> None:
        """Called from collector threads."""
        self._put(("stage", kind, account_id, region, document))

    def region_finished(self, outcome: RegionOutcome) -> None:
        self._put(("finish", outcome))

    def abort(self, timeout: float = 60.0) -> None:
        """Stop after the write in progress (a transaction: it commits whole or not at
        all), dropping what is queued but the regions' starts: for Ctrl-C and failures.
        Each region started has its row, so the scan's end records it as interrupted or
        failed."""
        self._aborted.set()
        starts = []
        while True:  # make room for the stop marker, whatever is queued
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not self._STOP and item[0] == "start":
                starts.append(item)
        room = self._queue.maxsize - 1  # the stop marker's place is kept
        for item in starts[:room] if self._thread.is_alive() else ():
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                break
        self._queue.put(self._STOP)
        self._thread.join(timeout)
        self._abandoned.set()  # if it is still writing, the scan's end comes now: no start after

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
                conn.execute(_STAGED, self._pending)
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
                    conn.execute(_STAGED, [row])
            except ROW_ERRORS as exc:
                self._refused[scope] = exc

    def _finish(self, outcome: RegionOutcome) -> None:
        refused = self._refused.pop((outcome.account_id, outcome.region), None)
        if refused is not None and outcome.status == Status.COMPLETE:
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
            if item is self._STOP:
                return
            if self._aborted.is_set() and (item[0] != "start" or self._abandoned.is_set()):
                continue  # aborted: only the regions' starts are still written
            yield item

    def _start(self, account_id: str, region: str, started_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _STARTED,
                dict(
                    scan_id=self.scan_id,
                    account_id=account_id,
                    region=region,
                    status=Status.RUNNING,
                    started_at=started_at,
                ),
            )

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
                elif item[0] == "start":
                    self._start(*item[1:])
                else:
                    self._flush()
                    self._finish(item[1])
            if not self._aborted.is_set():
                self._flush()
        except BaseException as exc:  # surfaced to the scan by close() and the next emit()
            self._error = exc
