"""Prometheus metrics of the inventory's health, in the text format (prometheus-client):
for `mpscan status --format prometheus` (a node-exporter textfile) and the scheduler."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from scanner.store.status import RegionStatus


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
        success.labels(s.account_id, s.region).set(1 if s.status == "complete" else 0)
        if s.finished_at is not None:
            finished.labels(s.account_id, s.region).set(s.finished_utc.timestamp())
            age.labels(s.account_id, s.region).set(s.age_seconds(now))
        resources.labels(s.account_id, s.region, "model_package").set(s.packages)
        resources.labels(s.account_id, s.region, "model_package_group").set(s.groups)
    for severity, count in findings.items():
        open_.labels(severity).set(count)
    return registry


def text(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()
