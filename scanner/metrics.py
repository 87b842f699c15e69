"""Prometheus metrics of the inventory's health, in the text format (prometheus-client):
for `mpscan status --format prometheus` (a node-exporter textfile) and the scheduler."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from scanner.aws.groups import has_no_policy
from scanner.stages import Status
from scanner.store.read.status import RegionStatus

log = logging.getLogger(__name__)


def status_registry(
    statuses: list[RegionStatus], findings: dict[str, int], now: datetime
) -> CollectorRegistry:
    registry = CollectorRegistry()
    labels = ["account_id", "region"]
    finished = Gauge(
        "mpscan_last_scan_timestamp_seconds",
        "When the last scan of this account and region finished (Unix time).",
        labels,
        registry=registry,
    )
    success = Gauge(
        "mpscan_last_scan_success",
        "1 if the last scan of this account and region completed, else 0.",
        labels,
        registry=registry,
    )
    age = Gauge(
        "mpscan_last_scan_age_seconds",
        "Seconds since the last scan of this account and region finished.",
        labels,
        registry=registry,
    )
    resources = Gauge(
        "mpscan_resources",
        "Resources stored by the last complete scan, by type.",
        [*labels, "type"],
        registry=registry,
    )
    open_ = Gauge(
        "mpscan_open_findings",
        "Unwaived failing findings, by severity.",
        ["severity"],
        registry=registry,
    )
    for s in statuses:
        success.labels(s.account_id, s.region).set(1 if s.status == Status.COMPLETE else 0)
        if s.finished_at is not None:
            finished.labels(s.account_id, s.region).set(s.finished_at.timestamp())
        if (seconds := s.age_seconds(now)) is not None:  # None: never finished
            age.labels(s.account_id, s.region).set(seconds)
        resources.labels(s.account_id, s.region, "model_package").set(s.packages)
        resources.labels(s.account_id, s.region, "model_package_group").set(s.groups)
    for severity, count in findings.items():
        open_.labels(severity).set(count)
    return registry


def text(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


class ServiceMetrics:
    """The metrics `mpscan schedule --metrics-port` serves: scans and their outcome, their
    durations, API calls and errors by operation, skipped runs, and (read from the database
    at each scrape) the status gauges of `status_registry`."""

    def __init__(self, status: Callable[[], CollectorRegistry] | None = None):
        self.registry = CollectorRegistry()
        self.scans = Counter(
            "mpscan_scans",
            "Scans run by the scheduler, by outcome (complete, partial, failed, interrupted, "
            "error).",
            ["outcome"],
            registry=self.registry,
        )
        self.scan_duration = Histogram(
            "mpscan_scan_duration_seconds",
            "How long the scheduler's scans took.",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, float("inf")),
            registry=self.registry,
        )
        self.api_calls = Counter(
            "mpscan_api_calls",
            "AWS API calls made by scans, by operation (each page counts; retries do not).",
            ["operation"],
            registry=self.registry,
        )
        self.api_errors = Counter(
            "mpscan_api_errors",
            "AWS API calls that failed after their retries, by operation and error code.",
            ["operation", "code"],
            registry=self.registry,
        )
        self.job_runs = Counter(
            "mpscan_job_runs",
            "Scheduled job runs, by job and result (ok, failed, skipped).",
            ["job", "result"],
            registry=self.registry,
        )
        self.skipped = Counter(
            "mpscan_skipped_runs",
            "Scheduled runs skipped: the job's previous run, or another scan of the "
            "database, was still running.",
            ["job"],
            registry=self.registry,
        )
        self.events = Counter(
            "mpscan_events",
            "Registry events taken from the queue, by result (applied, duplicate, ignored, "
            "failed: left for a retry).",
            ["result"],
            registry=self.registry,
        )
        self.event_latency = Histogram(
            "mpscan_event_to_finding_seconds",
            "From the event's time (as AWS gives it) to its resource stored and judged.",
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, float("inf")),
            registry=self.registry,
        )
        self.oldest_message = Gauge(
            "mpscan_event_oldest_message_age_seconds",
            "Age of the oldest message of the last batch received (since SQS got it).",
            registry=self.registry,
        )
        if status is not None:
            self.registry.register(_StatusCollector(status))

    def observe_received(self, messages: list[dict]) -> None:
        """A batch from SQS: count it, and how long its oldest message waited."""
        self.events.labels("received").inc(len(messages))
        sent = [
            int(m["Attributes"]["SentTimestamp"])
            for m in messages
            if "SentTimestamp" in (m.get("Attributes") or {})
        ]
        if sent:
            self.oldest_message.set(max(0.0, time.time() - min(sent) / 1000))

    def observe_client(self, client) -> None:
        """A ClientFactory observer: count each API call of the client and its errors."""
        client.meta.events.register("after-call", self._after_call)
        client.meta.events.register("after-call-error", self._after_call_error)

    def _after_call(self, http_response=None, parsed=None, model=None, **_) -> None:
        operation = getattr(model, "name", "unknown")
        self.api_calls.labels(operation).inc()
        if http_response is not None and http_response.status_code >= 300:
            error = (parsed or {}).get("Error", {})
            code = error.get("Code") or str(http_response.status_code)
            if operation == "GetModelPackageGroupPolicy" and has_no_policy(error):
                return  # AWS's way of saying "this group has no policy": not an error
            self.api_errors.labels(operation, code).inc()

    def _after_call_error(self, exception=None, event_name: str = "", **_) -> None:
        operation = event_name.rsplit(".", 1)[-1] or "unknown"  # after-call-error.<svc>.<op>
        self.api_calls.labels(operation).inc()
        self.api_errors.labels(operation, type(exception).__name__).inc()


class _StatusCollector:
    """Reads the status gauges at scrape time; a failed read keeps the last good ones."""

    def __init__(self, read: Callable[[], CollectorRegistry]):
        self._read = read
        self._last: list = []

    def collect(self):
        try:
            self._last = list(self._read().collect())
        except Exception:  # the database unreachable for a moment: serve what was read last
            log.warning("metrics: cannot read the status from the database", exc_info=True)
        return iter(self._last)
