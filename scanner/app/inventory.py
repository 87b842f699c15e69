"""What the inventory is worth now: the status verdict (complete? fresh?), what changed
(diff), and retention (prune)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from scanner.config import Settings
from scanner.errors import EXIT_OK, EXIT_PARTIAL, EXIT_STALE, UsageError
from scanner.rules.catalog import Catalog
from scanner.stages import Status
from scanner.store import history
from scanner.store.db import ensure_readable, make_engine
from scanner.store.read.findings import open_findings
from scanner.store.read.status import RegionStatus, region_statuses


@dataclass
class StatusVerdict:
    statuses: list[RegionStatus]
    findings: dict[str, int]  # open findings by severity
    now: datetime
    max_age: float | None  # seconds
    stale: list[RegionStatus] = field(default_factory=list)  # never scanned, or too old
    partial: list[RegionStatus] = field(default_factory=list)  # last scan failed/interrupted

    @property
    def exit_code(self) -> int:
        if self.stale or not self.statuses:
            return EXIT_STALE
        return EXIT_PARTIAL if self.partial else EXIT_OK


def inventory_status(settings: Settings, catalog: Catalog, max_age: float | None) -> StatusVerdict:
    """Each account and region's last scan, and whether the inventory is complete and
    younger than `max_age` seconds. Regions the config lists but no scan covered: stale."""
    engine = make_engine(settings.database.url)
    try:
        ensure_readable(engine)
        return status_on(engine, settings, catalog, max_age)
    finally:
        engine.dispose()


def status_on(
    engine: Engine, settings: Settings, catalog: Catalog, max_age: float | None
) -> StatusVerdict:
    """`inventory_status` on an engine the caller keeps (the service's, at each scrape)."""
    expected: list[tuple[str | None, str]] = []
    if isinstance(settings.aws.regions, tuple):
        expected = [(None, r) for r in settings.aws.regions]
    statuses = region_statuses(engine, expected)
    findings = open_findings(engine, [r.id for r in catalog.enabled()])
    now = datetime.now(UTC)
    verdict = StatusVerdict(statuses, findings, now, max_age)
    verdict.stale = [
        s
        for s in statuses
        if s.status == Status.NEVER or (max_age and (s.age_seconds(now) or 0) > max_age)
    ]
    verdict.partial = [s for s in statuses if s.status in (Status.FAILED, Status.INTERRUPTED)]
    return verdict


def changes(
    settings: Settings, *, since_scan: int | None = None, days: float | None = None
) -> list[dict[str, Any]]:
    """What changed: after scan `since_scan`, in the scans of the last `days`, or by default
    what the latest scan saw change. Times are UTC with their offset on both databases."""
    if since_scan is not None and days is not None:
        raise UsageError("usage error: give --since or --days, not both")
    engine = make_engine(settings.database.url)
    try:
        ensure_readable(engine)
        after: int | None
        if since_scan is not None:
            if not history.scan_exists(engine, since_scan):
                raise UsageError(f"usage error: no scan {since_scan} (see: mpscan status)")
            after = since_scan
        elif days is not None:
            first = history.first_scan_since(engine, datetime.now(UTC) - timedelta(days=days))
            after = (first - 1) if first is not None else None
        else:
            latest, _ = history.latest_two_scans(engine)
            after = (latest - 1) if latest is not None else None
        rows = [] if after is None else list(history.changes_after(engine, after))
        rows = history.with_serving(engine, rows)  # what a switched endpoint now serves
    finally:
        engine.dispose()
    for row in rows:
        row["detected_at"] = row["detected_at"].isoformat()
    return rows


@dataclass
class Pruned:
    counts: history.PruneCounts
    cutoff: datetime
    dry_run: bool


def prune(settings: Settings, older_than: float, *, dry_run: bool = False) -> Pruned:
    """Delete (or, dry, count) scans, history and archived removals older than
    `older_than` seconds that nothing current points to."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    engine = make_engine(settings.database.url)
    try:
        ensure_readable(engine)
        counts = history.prune(engine, cutoff, dry_run=dry_run)
    finally:
        engine.dispose()
    return Pruned(counts, cutoff, dry_run)
