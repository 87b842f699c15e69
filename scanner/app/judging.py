"""Judge and persist: the rules' verdicts merged into `findings`, and the CI gate."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from scanner.app import judge_worker
from scanner.config import Settings
from scanner.errors import DatabaseError
from scanner.rules.base import SEVERITIES
from scanner.rules.catalog import Catalog
from scanner.rules.evaluate import Batch, Evaluation, judge
from scanner.store import events, findings
from scanner.store.db import ensure_readable, make_engine
from scanner.store.read.findings import gate_counts
from scanner.store.read.scans import latest_scan
from scanner.store.scope import Scope

log = logging.getLogger(__name__)


def judge_and_persist(
    engine: Engine,
    catalog: Catalog,
    *,
    scan_id: int | None = None,
    scope: Scope | None = None,
    now: datetime | None = None,
) -> Evaluation:
    """Judge the inventory of `scope` as of `scan_id` and merge the findings, in one
    transaction. A scan passes both (the regions it stored: `Scope.of_scan`). Without them,
    re-judge every stored inventory (`Scope.stored()`) as of the latest scan: findings
    change only where the rules or waivers now say otherwise; their scan and last-seen
    markers stay the scans that saw them."""
    now = now or datetime.now(UTC)
    rejudge = scope is None
    read_only = _read_only_for(engine, catalog)
    try:
        with engine.begin() as conn:
            scan_id = scan_id if scan_id is not None else latest_scan(conn)
            scope = scope if scope is not None else Scope.stored(upto=scan_id)
            evaluation, merged = _judge_and_merge(
                conn, catalog, scan_id, scope, now, read_only, touch_seen=not rejudge
            )
            if not merged:  # nothing to judge: no scan, or nothing stored in the scope
                return evaluation
    finally:
        if read_only is not None:
            read_only.dispose()
    log.info(
        "evaluated %d resources with %d rules in %.2f s: %d new, %d resolved",
        evaluation.resources,
        len(evaluation.judged_rules),
        evaluation.seconds,
        evaluation.counts.new,
        evaluation.counts.resolved,
    )
    return evaluation


def judge_resource(
    engine: Engine,
    catalog: Catalog,
    *,
    scan_id: int,
    scope: Scope,
    event_row: int,
    read_after: int,
    stale_after: float,
    now: datetime | None = None,
) -> Evaluation:
    """Judge the one resource an event refreshed (`Scope.of_resource`) as part of the
    inventory of `scan_id`, and merge its findings with the event named in their
    `finding_events`; in a transaction no scan interleaves with (scanner.store.events:
    ScanRunning or ScanMoved, and the scan's own judgement covers it)."""
    now = now or datetime.now(UTC)
    read_only = _read_only_for(engine, catalog)
    try:
        with events.guard(engine, read_after, stale_after, events.again(event_row, now)) as (
            conn,
            _,
        ):
            evaluation, _ = _judge_and_merge(
                conn, catalog, scan_id, scope, now, read_only, event_id=event_row
            )
    finally:
        if read_only is not None:
            read_only.dispose()
    return evaluation


def _judge_and_merge(
    conn, catalog: Catalog, scan_id, scope: Scope, now: datetime, read_only, **merge
) -> tuple[Evaluation, bool]:
    """Judge `scope` through `conn` and merge the results into `findings` a page of
    resources at a time (`merge`: the lifecycle's options, touch_seen or event_id);
    whether anything was judged (not without a scan, nor without anything stored in the
    scope)."""
    started = time.perf_counter()
    batches: Iterator[Batch] | None
    if scan_id is not None and judge_worker.wanted(conn, conn.engine, scope):
        evaluation, batches = judge_worker.judged_elsewhere(
            conn.engine, catalog, scan_id, scope, now
        )
    else:
        evaluation, batches = judge(
            conn, catalog, scan_id=scan_id, scope=scope, now=now, read_only_engine=read_only
        )
    if batches is None or scan_id is None:
        return evaluation, False
    merging = findings.Merge(conn, scan_id, now, scope, **merge)
    try:
        for batch in batches:
            merging.add(batch.rules, batch.results, batch.after, batch.upto, spanned=batch.spanned)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:  # a merge that failed stops the judge (and its worker) now
            close()
    evaluation.counts = merging.finish()
    evaluation.seconds = time.perf_counter() - started
    return evaluation, True


def _read_only_for(engine: Engine, catalog: Catalog) -> Engine | None:
    """Custom SQL rules read through a read-only engine of their own; None without any."""
    if any(r.rule.sql for r in catalog.enabled()):
        return make_engine(engine.url.render_as_string(hide_password=False), read_only=True)
    return None


def rejudge(settings: Settings, catalog: Catalog) -> Evaluation:
    """Re-judge the stored inventory with the rules and waivers in force now (`evaluate`,
    `check`, `report`); DatabaseError when no scan has stored anything yet."""
    engine = make_engine(settings.database.url)
    try:
        return rejudge_on(engine, catalog)
    finally:
        engine.dispose()


def rejudge_on(engine: Engine, catalog: Catalog) -> Evaluation:
    """`rejudge` on an engine the caller goes on using (a report, the gate)."""
    ensure_readable(engine)
    evaluation = judge_and_persist(engine, catalog)
    if evaluation.scan_id is None:
        raise DatabaseError("database error: no scan has stored an inventory yet (run mpscan scan)")
    return evaluation


@dataclass
class GateVerdict:
    """`mpscan check`: unwaived failing findings by severity, the worst ones, and how many
    are at or above `fail_on` (the gate fails when any are)."""

    evaluation: Evaluation
    fail_on: str
    counts: dict[str, int]
    worst: list[dict[str, Any]]
    blocking: int


def gate(settings: Settings, catalog: Catalog, fail_on: str) -> GateVerdict:
    engine = make_engine(settings.database.url)
    try:
        evaluation = rejudge_on(engine, catalog)
        counts, worst = gate_counts(engine, fail_on, rules=evaluation.rules)
    finally:
        engine.dispose()
    at_or_above = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    blocking = sum(n for sev, n in counts.items() if sev in at_or_above)
    return GateVerdict(evaluation, fail_on, counts, worst, blocking)
