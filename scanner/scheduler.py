"""`mpscan schedule`: the config's [[schedule.jobs]] run by APScheduler in one process.

Each job is a scan (scanner.app.scan.run_scan), a report (scanner.app.reporting.write_report)
or an export to Security Hub (scanner.app.securityhub.export_securityhub) run in a worker
thread. A job never runs twice at once (APScheduler's max_instances=1: a
run that would overlap is skipped and logged), and scans of one database are serialised by
its scan lock anyway: a scan job that finds another scan running is skipped, not retried.
A job's failure is logged; the service goes on. `shutdown()` takes no new runs, asks the
running scan to stop (it is recorded `interrupted`, its unfinished regions keep their
previous inventory) and waits for the running jobs.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

if TYPE_CHECKING:
    from scanner.app.listen import Listener

from scanner.config import ScheduleJob, Settings, override
from scanner.errors import MpscanError, ScanBusy
from scanner.metrics import ServiceMetrics
from scanner.rules.catalog import Catalog
from scanner.schedule_cron import crontab_trigger
from scanner.stages import Status

log = logging.getLogger(__name__)

EXTENSIONS = {
    "html": "html",
    "csv": "csv",
    "json": "json",
    "sarif": "sarif",
    "ocsf": "ocsf.json",
    "asff": "asff.json",
}


def report_name(fmt: str, at: datetime) -> str:
    """mpscan-report-<UTC timestamp>.<ext>: names sort as the reports were written."""
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")[:-3]  # milliseconds
    return f"mpscan-report-{stamp}Z.{EXTENSIONS[fmt]}"


def report_pattern(fmt: str) -> re.Pattern[str]:
    extension = re.escape(EXTENSIONS[fmt])
    return re.compile(rf"^mpscan-report-\d{{8}}T\d{{6}}\.\d{{3}}Z\.{extension}$")


def prune_reports(folder: Path, fmt: str, keep: int) -> list[Path]:
    """Delete the oldest reports of this format beyond `keep`; other files stay."""
    pattern = report_pattern(fmt)
    reports = sorted(p for p in folder.iterdir() if pattern.match(p.name) and p.is_file())
    gone = reports[: max(0, len(reports) - keep)]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def serve_metrics(
    settings: Settings,
    rules: Catalog,
    engine: Engine,
    host: str,
    port: int | None,
    alive: Callable[[], bool],
) -> ServiceMetrics | None:
    """The service's Prometheus metrics at http://host:port/metrics (None: no port given):
    its counters, and the status gauges read through the service's `engine` at each
    scrape."""
    if port is None:
        return None
    from scanner import metrics_server
    from scanner.app.inventory import status_on
    from scanner.metrics import status_registry

    def status():
        verdict = status_on(engine, settings, rules, None)
        return status_registry(verdict.statuses, verdict.findings, verdict.now)

    metrics = ServiceMetrics(status)
    try:
        server = metrics_server.serve(metrics.registry, host, port, alive)
    except OSError as exc:
        raise MpscanError(
            f"metrics error: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    log.info("metrics at http://%s:%d/metrics (health: /healthz)", host, server.server_address[1])
    return metrics


class Service:
    """The scheduler and its jobs. start(), then shutdown() from the main thread."""

    def __init__(self, settings: Settings, rules: Catalog, metrics: ServiceMetrics | None = None):
        self.settings = settings
        self.rules = rules  # the config's rules, loaded once for every job
        self.metrics = metrics
        self.stop = threading.Event()  # set at shutdown: the running scan winds down
        self._lock = threading.Lock()
        self._active: set[str] = set()  # jobs running now
        schedule = settings.schedule
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max(2, len(schedule.jobs)))},
            job_defaults={
                "coalesce": schedule.coalesce,
                "misfire_grace_time": schedule.misfire_grace_seconds,
                "max_instances": 1,
            },
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self.listeners = [ListenJob(self, job) for job in schedule.jobs if job.command == "listen"]
        for job in schedule.jobs:
            if job.command == "listen":
                continue
            self.scheduler.add_job(
                self.run_job,
                self._trigger(job),
                args=[job],
                id=job.name,
                name=job.name,
            )

    def _trigger(self, job: ScheduleJob):
        jitter = self.settings.schedule.jitter_seconds or None
        if job.cron is not None:
            return crontab_trigger(job.cron, jitter=jitter)
        return IntervalTrigger(seconds=job.every, jitter=jitter)

    def start(self) -> None:
        for listener in self.listeners:
            listener.start()
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            log.info(
                "job %s: %s, next run at %s",
                job.id,
                _when(job.args[0]),
                job.next_run_time.isoformat(timespec="seconds"),
            )

    def shutdown(self, reason: str) -> None:
        """No new runs; the running scan is asked to stop; wait for the running jobs."""
        running = self._running()
        log.info(
            "%s: stopping%s",
            reason,
            f", waiting for the running job(s): {', '.join(running)}" if running else "",
        )
        self.scheduler.pause()
        self.stop.set()
        self.scheduler.shutdown(wait=True)
        for listener in self.listeners:
            listener.join()
        log.info("stopped")

    def _running(self) -> list[str]:
        with self._lock:
            return sorted(self._active)

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("job %s: run skipped: its previous run is still running", event.job_id)
            self._count_skipped(event.job_id)
        else:
            log.warning(
                "job %s: run of %s missed (later than schedule.misfire_grace_seconds)",
                event.job_id,
                event.scheduled_run_time.isoformat(timespec="seconds"),
            )
            if self.metrics:
                self.metrics.job_runs.labels(event.job_id, "missed").inc()

    def _count_skipped(self, name: str) -> None:
        if self.metrics:
            self.metrics.skipped.labels(name).inc()
            self.metrics.job_runs.labels(name, "skipped").inc()

    def run_job(self, job: ScheduleJob) -> None:
        """One run of a job. Never raises: a failure is logged and the next run comes."""
        if self.stop.is_set():
            return
        started = time.monotonic()
        log.info("job %s: %s started", job.name, job.command)
        result = "failed"
        with self._lock:
            self._active.add(job.name)
        try:
            if job.command == "scan":
                result = self._scan(job)
            elif job.command == "export":
                result = self._export(job)
            else:
                result = self._report(job)
        except ScanBusy as exc:
            result = "skipped"
            log.warning("job %s: skipped: another scan is running: %s", job.name, exc.holder)
            self._count_skipped(job.name)
            return
        except Exception as exc:
            if isinstance(exc, MpscanError | OSError):
                log.error("job %s: failed: %s", job.name, exc)
            else:  # a bug: its traceback, and the service goes on
                log.exception("job %s: failed unexpectedly", job.name)
            if job.command == "scan" and self.metrics:  # the scan could not run to its end
                self.metrics.scans.labels("error").inc()
        finally:
            with self._lock:
                self._active.discard(job.name)
            if self.metrics and result != "skipped":
                self.metrics.job_runs.labels(job.name, result).inc()
            log.info("job %s: %s in %.1fs", job.name, result, time.monotonic() - started)

    def _scan(self, job: ScheduleJob) -> str:
        from scanner.app.scan import run_scan
        from scanner.aws.session import ClientFactory

        settings = self.settings
        if job.regions is not None:
            settings = override(settings, "aws", regions=job.regions)
        observer = self.metrics.observe_client if self.metrics else None
        started = time.monotonic()
        result = run_scan(
            settings,
            factory=ClientFactory(settings.aws, observer=observer),
            stop=self.stop,
            rules=self.rules,
        )
        if self.metrics:
            self.metrics.scans.labels(result.status).inc()
            self.metrics.scan_duration.observe(time.monotonic() - started)
        totals = result.summary()["totals"]
        log.info(
            "job %s: scan %d %s: %d/%d regions, %d model packages, %d groups",
            job.name,
            result.scan_id,
            result.status,
            len(result.outcomes) - len(result.failed),
            len(result.outcomes),
            totals["packages"],
            totals["groups"],
            extra={"scan_id": result.scan_id},
        )
        if result.evaluation is not None:
            _log_rule_errors(job, result.evaluation)
        described = result.described_instead()
        if described is not None:
            first, text = described
            log.warning(
                "job %s: scan %d: %s",
                job.name,
                result.scan_id,
                text,
                extra={"scan_id": result.scan_id, "account_id": first.account_id},
            )
        for o in result.failed:
            log.warning(
                "job %s: scan %d: region %s (account %s) %s, previous inventory kept: %s: %s",
                job.name,
                result.scan_id,
                o.region,
                o.account_id,
                Status.INTERRUPTED if result.stopped else Status.FAILED,
                o.error_kind,
                o.error_message,
                extra={"scan_id": result.scan_id, "account_id": o.account_id, "region": o.region},
            )
        return "ok" if result.status == Status.COMPLETE else str(result.status)

    def _report(self, job: ScheduleJob) -> str:
        from scanner.app.reporting import write_report

        assert job.output_dir is not None  # the config requires it of report jobs
        folder = Path(job.output_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MpscanError(
                f"output error: cannot create the folder {folder}: {exc.strerror}"
            ) from None
        final = folder / report_name(job.format, datetime.now(UTC))
        partial = folder / f".{final.name}.partial"  # never a half-written report in the folder
        try:
            written = write_report(self.settings, self.rules, job.format, str(partial))
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        _log_rule_errors(job, written.evaluation)
        gone = prune_reports(folder, job.format, job.keep)
        log.info(
            "job %s: wrote %s report of scan %d (%d findings) to %s%s",
            job.name,
            job.format,
            written.scan_id,
            written.findings,
            final,
            f"; deleted {len(gone)} older" if gone else "",
        )
        return "ok"

    def _export(self, job: ScheduleJob) -> str:
        from scanner.app.securityhub import export_securityhub
        from scanner.aws.session import ClientFactory

        def failed(number, batch) -> None:
            refused = batch.sent if batch.error else len(batch.failed)
            why = batch.error or "; ".join(
                f"{f.get('Id')}: {f.get('ErrorCode')}: {f.get('ErrorMessage')}"
                for f in batch.failed[:5]
            )
            why = " ".join(why.split())  # AWS's text, on the log line's one line
            log.warning(
                "job %s: batch %d (account %s, %s): %d of %d findings not imported: %s",
                job.name,
                number,
                batch.account_id,
                batch.region,
                refused,
                batch.sent,
                why,
                extra={"account_id": batch.account_id, "region": batch.region},
            )

        observer = self.metrics.observe_client if self.metrics else None
        factory = ClientFactory(self.settings.aws, observer=observer)
        result = export_securityhub(self.settings, self.rules, factory, on_failure=failed)
        _log_rule_errors(job, result.evaluation)
        log.info(
            "job %s: imported %d of %d findings of scan %d into Security Hub in %d calls%s",
            job.name,
            result.imported,
            result.findings,
            result.scan_id,
            result.calls,
            f"; {result.not_imported} not imported" if result.not_imported else "",
            extra={"scan_id": result.scan_id},
        )
        return "partial" if result.not_imported else "ok"


class ListenJob:
    """A `command = "listen"` job: `mpscan listen` in a thread of the service, from its
    start to its end. A listener that fails (the queue unreadable) is logged and started
    again a minute later."""

    RESTART_SECONDS = 60.0

    def __init__(self, service: Service, job: ScheduleJob):
        self.service = service
        self.job = job
        self.listener: Listener | None = None
        self.thread = threading.Thread(target=self._run, name=f"mpscan-{job.name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def join(self) -> None:
        """Wait for the event in hand; a listener in its long poll is left to end with the
        process (what it receives comes back once its visibility timeout ends)."""
        if self.listener is not None and self.listener.in_hand:
            self.thread.join()

    def _run(self) -> None:
        from scanner.app.listen import Listener
        from scanner.aws.session import ClientFactory
        from scanner.store.db import make_engine

        service, job = self.service, self.job
        settings = service.settings
        observer = service.metrics.observe_client if service.metrics else None
        while not service.stop.is_set():
            engine = make_engine(settings.database.url)
            try:
                self.listener = Listener(
                    settings,
                    service.rules,
                    engine,
                    ClientFactory(settings.aws, observer=observer),
                    job.queue_url or settings.listen.queue_url or "",
                    stop=service.stop,
                    metrics=service.metrics,
                )
                log.info("job %s: listener started", job.name)
                self.listener.run()
            except Exception as exc:
                if isinstance(exc, MpscanError):
                    log.error("job %s: listener failed: %s", job.name, exc)
                else:
                    log.exception("job %s: listener failed unexpectedly", job.name)
                if service.metrics:
                    service.metrics.job_runs.labels(job.name, "failed").inc()
                service.stop.wait(self.RESTART_SECONDS)
            finally:
                engine.dispose()


def _log_rule_errors(job: ScheduleJob, evaluation) -> None:
    for rule_id, reason in evaluation.rule_errors.items():
        log.warning("job %s: rule %s could not run: %s", job.name, rule_id, reason)


def _when(job: ScheduleJob) -> str:
    if job.command == "listen":
        return "listening"
    return f"cron {job.cron!r}" if job.cron is not None else f"every {job.every:g}s"
