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

import botocore.exceptions
from sqlalchemy.exc import SQLAlchemyError

from scanner import aws
from scanner.app.judging import judge_and_persist
from scanner.app.notifying import Sent, notify
from scanner.aws import accounts
from scanner.aws.collector import RegionCollector
from scanner.aws.errors import classify, describe_error, error_code
from scanner.aws.session import ClientFactory, resolve_regions
from scanner.config import Settings
from scanner.errors import (
    EXIT_NOTHING_STORED,
    EXIT_OK,
    EXIT_PARTIAL,
    AwsSetupError,
    DatabaseError,
    MpscanError,
    Terminated,
    one_line,
)
from scanner.rules import catalog
from scanner.rules.catalog import Catalog
from scanner.rules.evaluate import Evaluation
from scanner.stages import Halt, Progress, RegionOutcome, Status
from scanner.store import planner, scans, staging
from scanner.store.db import ensure_schema, make_engine
from scanner.store.lock import DatabaseLock
from scanner.store.read.known import KnownRows
from scanner.store.scope import Scope

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    scan_id: int
    account_id: str | None  # the single account scanned; None with [[accounts]]/[organization]
    outcomes: list[RegionOutcome] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)  # every account entered
    evaluation: Evaluation | None = None
    stopped: bool = False  # the caller's stop event was set: unfinished regions were cut short
    notified: list[Sent] = field(default_factory=list)  # [[notify]] targets sent to

    @property
    def failed(self) -> list[RegionOutcome]:
        return [o for o in self.outcomes if o.status != Status.COMPLETE]

    @property
    def status(self) -> Status:
        if not self.failed:
            return Status.COMPLETE
        if self.stopped:
            return Status.INTERRUPTED
        return Status.FAILED if len(self.failed) == len(self.outcomes) else Status.PARTIAL

    def summary(self) -> dict:
        """What `mpscan scan --format json` prints: the scan and each region's outcome."""
        done = [o for o in self.outcomes if o.status == Status.COMPLETE]
        return {
            "scan_id": self.scan_id,
            "status": self.status,
            "account_id": self.account_id,
            "accounts": sorted(self.accounts),
            "regions": [
                asdict(o) for o in sorted(self.outcomes, key=lambda o: (o.account_id, o.region))
            ],
            "totals": {
                key: sum(getattr(o, key) for o in done)
                for key in (
                    "packages",
                    "groups",
                    "models",
                    "endpoint_configs",
                    "endpoints",
                    "model_cards",
                    "added",
                    "removed",
                    "vanished",
                )
            },
            "findings": findings_summary(self.evaluation),
            "exit_code": self.exit_code,
        }

    def described_instead(self) -> tuple[RegionOutcome, str] | None:
        """Where Search could not be used, one line for the whole scan (the first region, and
        how many more; `scan_regions.collect_note` has each), with the region it names."""
        fell_back = sorted(
            (o for o in self.outcomes if o.collect_note), key=lambda o: (o.account_id, o.region)
        )
        if not fell_back:
            return None
        first = fell_back[0]
        more = f" (and {len(fell_back) - 1} more regions)" if len(fell_back) > 1 else ""
        return first, f"region {first.region} (account {first.account_id}){more}: " + (
            first.collect_note or ""
        )

    @property
    def exit_code(self) -> int:
        exits = {Status.COMPLETE: EXIT_OK, Status.PARTIAL: EXIT_PARTIAL}
        return exits.get(self.status, EXIT_NOTHING_STORED)


def run_scan(
    settings: Settings,
    *,
    progress: Progress | None = None,
    factory: ClientFactory | None = None,
    stop: threading.Event | None = None,
    wait: float | None = None,
    notify: Callable[[str], None] | None = None,
    rules: Catalog | None = None,
) -> ScanResult:
    """Scan into the database and judge what it stored with `rules` (default: the config's
    catalog). Another scan of it running: ScanBusy, or with `wait` (seconds, math.inf for no
    limit) wait for it first, saying so through `notify` (default: the progress's status
    line)."""
    engine = make_engine(settings.database.url)
    try:
        # Settings and regions first: a usage error must leave no database behind.
        factory = factory or ClientFactory(settings.aws)
        regions = resolve_regions(factory, settings.aws.regions)
        ensure_schema(engine)
        scan_lock = DatabaseLock(engine, settings.scan)
        scan_lock.acquire(wait, notify or (progress.status if progress else None))
        try:
            scan_id = scans.begin_scan(
                engine, settings.aws.regions or regions, scan_lock.owner, scan_lock.stale_after
            )
            scan_lock.attach(scan_id)
            return _scan(engine, settings, factory, regions, scan_id, progress, stop, rules)
        finally:
            scan_lock.release()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"database error during the scan: {one_line(exc)}") from None
    finally:
        engine.dispose()


def _scan(engine, settings, factory, regions, scan_id, progress, stop, rules) -> ScanResult:
    own = None  # the base credentials' own account, when it is the one scanned
    try:
        plan = accounts.targets(settings, factory.session)
        if plan == [accounts.Target(None)]:
            own = factory.account_id(regions[0], _status(progress))
            plan = [accounts.Target(own)]
        elif not plan:
            raise AwsSetupError("aws error: no account to scan (the organization lists none)")
    except MpscanError as exc:
        scans.end_scan(engine, scan_id, Status.FAILED, str(exc))
        raise
    result = ScanResult(scan_id, own)
    log.info(
        "scan %d started: %s, regions %s",
        scan_id,
        f"account {own}" if own is not None else f"{len(plan)} accounts",
        ", ".join(regions),
    )
    stop = stop or threading.Event()
    writer = staging.Writer(engine, scan_id, settings.scan.batch_size).start()
    try:
        try:
            if own is not None:
                result.accounts.append(own)
                _collect(settings, factory, writer, own, regions, result, progress, stop)
            else:
                _collect_accounts(settings, factory, plan, writer, regions, result, progress, stop)
        except Halt:
            pass  # the writer failed: close() raises its error
        writer.close()
    except KeyboardInterrupt as exc:
        writer.abort()
        why = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted by the user"
        scans.end_scan(engine, scan_id, Status.INTERRUPTED, why)
        raise
    except BaseException as exc:
        writer.abort()
        _end_failed(engine, scan_id, exc)
        raise
    result.stopped = stop.is_set()  # asked to stop (a service shutting down): interrupted
    scans.end_scan(engine, scan_id, result.status, _summary(result.failed))
    if any(o.status == Status.COMPLETE for o in result.outcomes):
        # judge what this scan stored, planned with statistics of it; failed regions keep
        # their findings
        planner.refresh(engine, sum(o.added + o.removed for o in result.outcomes))
        result.evaluation = judge_and_persist(
            engine, rules or catalog.load(settings), scan_id=scan_id, scope=Scope.of_scan(scan_id)
        )
        if settings.notify:
            result.notified = notify(
                settings,
                engine,
                where=f"scan {scan_id}",
                scan_id=scan_id,
                at=result.evaluation.at,
                clients=factory.client,
            )
    return result


def _known_rows(engine) -> KnownRows:
    """What search mode reads back from stored rows: each kind's last-modified member and
    the members its Search records lack."""
    members = {}
    for listing in aws.LISTINGS:
        if listing.search is not None:
            wanted = (listing.search.modified, *listing.kind.search_lacks)
            members[listing.kind.name] = tuple(m for m in wanted if m)
    return KnownRows(engine, members)


def _end_failed(engine, scan_id: int, exc: BaseException) -> None:
    """Record the scan as failed; where the database refuses even that (a full disk), say
    so in the one error line: the scan stays `running` until its heartbeat goes stale."""
    try:
        scans.end_scan(engine, scan_id, Status.FAILED, f"{type(exc).__name__}: {one_line(exc)}")
    except SQLAlchemyError as recording:
        log.debug("scan %d: end not recorded", scan_id, exc_info=True)
        raise DatabaseError(
            f"database error during the scan: {one_line(exc)}; recording the scan as failed "
            f"was refused too ({one_line(recording)}): the next scan takes scan {scan_id} for "
            "dead once its heartbeat is older than scan.stale_after_seconds"
        ) from None


def _status(progress: Progress | None):
    return progress.status if progress else None


def _collect_accounts(settings, factory, plan, writer, regions, result, progress, stop) -> None:
    """Accounts in parallel (account_concurrency), each through its assumed role; one that
    cannot be entered is recorded as failed in each of its regions, the others go on."""

    base_region = factory.default_region() or "us-east-1"

    def scan_account(target: accounts.Target) -> None:
        wanted = target.regions if target.regions is not None else regions
        try:
            # The account is the one STS reports for the assumed credentials.
            credentials, account_id = accounts.assume(factory.client("sts", base_region), target)
            account_factory = factory.for_account(credentials)
            if wanted == "all":
                wanted = account_factory.enabled_regions(regions[0])
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
            MpscanError,
        ) as exc:
            _account_failed(writer, result, target, wanted, exc)
            return
        result.accounts.append(account_id)
        _collect(
            settings,
            account_factory,
            writer,
            account_id,
            list(wanted),
            result,
            progress,
            stop,
            labelled=True,
        )

    workers = min(len(plan), settings.aws.account_concurrency)
    with ThreadPoolExecutor(workers, "mpscan-account") as pool:
        futures = [pool.submit(scan_account, t) for t in plan]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            stop.set()
            raise


def _account_failed(writer, result, target, wanted, exc: BaseException) -> None:
    aws = not isinstance(exc, MpscanError)
    message = f"cannot enter account {target.account_id} through {target.role_arn}: "
    message += describe_error(exc) if aws else str(exc)
    log.warning("%s", message, extra={"account_id": target.account_id})
    # "*" stands for every region when an account never entered could not list its regions
    for region in wanted if wanted != "all" else ["*"]:
        outcome = RegionOutcome(
            target.account_id,
            region,
            status=Status.FAILED,
            error_kind=classify(exc, operation="AssumeRole") if aws else "denied",
            error_code=error_code(exc),
            error_message=message,
        )
        writer.region_started(target.account_id, region)
        result.outcomes.append(outcome)
        writer.region_finished(outcome)


def _collect(
    settings, factory, writer, account_id, regions, result, progress, stop, labelled=False
) -> None:
    for region in regions:
        writer.region_started(account_id, region)
    known = _known_rows(writer.engine)
    collectors = [
        RegionCollector(
            factory,
            account_id,
            region,
            writer.emit,
            concurrency=settings.aws.concurrency,
            progress=progress,
            stop=stop,
            label=f"{account_id} {region}" if labelled else region,
            collect=settings.scan.collect,
            known=known,
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
