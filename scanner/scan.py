"""The scan: resolve regions, collect each in parallel, write through the store's writer.

This module only ties the stages together (get in scanner.aws, rows in scanner.transform,
writes in scanner.store); it holds no AWS or SQL logic of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from scanner.aws.collector import RegionCollector
from scanner.aws.session import ClientFactory, resolve_regions
from scanner.config import Settings
from scanner.errors import (
    EXIT_NOTHING_STORED,
    EXIT_OK,
    EXIT_PARTIAL,
    DatabaseError,
    MpscanError,
)
from scanner.rules import catalog
from scanner.rules.evaluate import Evaluation, evaluate
from scanner.stages import Halt, Progress, RegionOutcome
from scanner.store import load
from scanner.store.db import ensure_schema, make_engine
from scanner.store.lock import DatabaseLock

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    scan_id: int
    account_id: str
    outcomes: list[RegionOutcome] = field(default_factory=list)
    evaluation: Evaluation | None = None

    @property
    def failed(self) -> list[RegionOutcome]:
        return [o for o in self.outcomes if o.status != "complete"]

    @property
    def status(self) -> str:
        if not self.failed:
            return "complete"
        return "failed" if len(self.failed) == len(self.outcomes) else "partial"

    def summary(self) -> dict:
        """What `mpscan scan --format json` prints: the scan and each region's outcome."""
        done = [o for o in self.outcomes if o.status == "complete"]
        return {
            "scan_id": self.scan_id,
            "status": self.status,
            "account_id": self.account_id,
            "regions": [asdict(o) for o in sorted(self.outcomes, key=lambda o: o.region)],
            "totals": {
                key: sum(getattr(o, key) for o in done)
                for key in ("packages", "groups", "added", "removed", "vanished")
            },
            "findings": findings_summary(self.evaluation),
            "exit_code": self.exit_code,
        }

    @property
    def exit_code(self) -> int:
        return {"complete": EXIT_OK, "partial": EXIT_PARTIAL}.get(self.status, EXIT_NOTHING_STORED)


def run_scan(
    settings: Settings,
    *,
    progress: Progress | None = None,
    factory: ClientFactory | None = None,
    stop: threading.Event | None = None,
    wait: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> ScanResult:
    """Scan into the database. Another scan of it running: ScanBusy, or with `wait` (seconds,
    math.inf for no limit) wait for it first, saying so through `notify` (default: the
    progress's status line)."""
    engine = make_engine(settings.database.url)
    try:
        # Settings and regions first: a usage error must leave no database behind.
        factory = factory or ClientFactory(settings.aws)
        regions = resolve_regions(factory, settings.aws.regions)
        ensure_schema(engine)
        scan_lock = DatabaseLock(engine, settings.scan)
        scan_lock.acquire(wait, notify or (progress.status if progress else None))
        try:
            scan_id = load.begin_scan(
                engine, settings.aws.regions or regions, scan_lock.owner, scan_lock.stale_after
            )
            scan_lock.attach(scan_id)
            return _scan(engine, settings, factory, regions, scan_id, progress, stop)
        finally:
            scan_lock.release()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseError(f"database error during the scan: {reason}") from None
    finally:
        engine.dispose()


def _scan(engine, settings, factory, regions, scan_id, progress, stop) -> ScanResult:
    try:
        account_id = factory.account_id(regions[0], progress.status if progress else None)
    except MpscanError as exc:
        load.end_scan(engine, scan_id, "failed", str(exc))
        raise
    result = ScanResult(scan_id, account_id)
    log.info("scan %d started: account %s, regions %s", scan_id, account_id, ", ".join(regions))
    writer = load.Writer(engine, scan_id, settings.scan.batch_size).start()
    try:
        try:
            _collect(settings, factory, writer, account_id, regions, result, progress, stop)
        except Halt:
            pass  # the writer failed: close() raises its error
        writer.close()
    except KeyboardInterrupt:
        writer.abort()
        load.end_scan(engine, scan_id, "interrupted", "interrupted by the user")
        raise
    except BaseException as exc:
        writer.abort()
        load.end_scan(engine, scan_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    load.end_scan(engine, scan_id, result.status, _summary(result.failed))
    stored = [(o.account_id, o.region) for o in result.outcomes if o.status == "complete"]
    if stored:  # judge what this scan stored; failed regions keep their findings
        result.evaluation = evaluate(engine, catalog.load(settings), scan_id=scan_id, scope=stored)
    return result


def _collect(settings, factory, writer, account_id, regions, result, progress, stop) -> None:
    stop = stop or threading.Event()
    for region in regions:
        writer.region_started(account_id, region)
    collectors = [
        RegionCollector(
            factory,
            account_id,
            region,
            writer.emit,
            concurrency=settings.aws.concurrency,
            progress=progress,
            stop=stop,
        )
        for region in regions
    ]
    workers = min(len(collectors), settings.aws.region_concurrency)
    with ThreadPoolExecutor(workers, "mpscan-region") as pool:
        futures = [pool.submit(c.run) for c in collectors]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                result.outcomes.append(outcome)
                log.info(
                    "region %s collected: %s, %d packages, %d groups, %d vanished",
                    outcome.region,
                    outcome.status,
                    outcome.packages,
                    outcome.groups,
                    outcome.vanished,
                )
                writer.region_finished(outcome)
        except BaseException:
            stop.set()  # Ctrl-C or a writer failure: let the collectors wind down
            raise


def findings_summary(evaluation: Evaluation | None) -> dict | None:
    if evaluation is None:
        return None
    c = evaluation.counts
    return {
        "open_by_status": dict(sorted(c.by_status.items())),
        "new": c.new,
        "regressed": c.regressed,
        "resolved": c.resolved,
        "rule_errors": evaluation.rule_errors,
    }


def _summary(failed: list[RegionOutcome]) -> str | None:
    if not failed:
        return None
    return "; ".join(f"{o.region}: {o.error_kind} ({o.error_message})" for o in failed)
