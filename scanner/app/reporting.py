"""A report: re-judge, then write the findings of a scan in one format, as a stream."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from scanner import reports
from scanner.app.judging import rejudge_on
from scanner.config import Settings
from scanner.errors import DatabaseError, UsageError
from scanner.reports import data as report_data
from scanner.reports import resources as report_resources
from scanner.rules.catalog import Catalog
from scanner.rules.evaluate import Evaluation
from scanner.rules.frameworks import FRAMEWORKS
from scanner.store.db import make_engine
from scanner.store.read import bom as read_bom
from scanner.store.read import production as read_production
from scanner.store.read import registry as read_registry
from scanner.store.read import report as read_report
from scanner.store.read import resources as read_resources
from scanner.store.read import trend as read_trend
from scanner.store.read.scans import latest_scan, scan_exists


@dataclass
class Report:
    scan_id: int  # the scan reported on
    findings: int  # written
    evaluation: Evaluation  # the re-judgement it rests on (rule errors, stale waivers)


def write_report(
    settings: Settings,
    catalog: Catalog,
    fmt: str,
    output: str,
    scan_id: int | None = None,
    framework: str | None = None,
) -> Report:
    """Re-judge the stored inventory, then write the report of `scan_id` (default: the
    latest) to `output` ('-' for stdout); `framework`: with a section per control of it."""
    engine = make_engine(settings.database.url)
    try:
        evaluation, as_of, data, findings = judged(engine, catalog, scan_id)
        is_latest = data.latest
        if framework is not None:
            data.framework = report_data.framework_section(data, FRAMEWORKS[framework])
        try:
            out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise DatabaseError(f"output error: cannot write {output}: {exc.strerror}") from None
        try:
            resources = (
                report_resources.resources(read_resources.resources(engine))
                if fmt == "html" and is_latest
                else None
            )
            n = reports.write(
                fmt,
                out,
                data,
                findings,
                templates=settings.report.templates,
                resources=resources,
                packages=read_bom.packages(engine) if fmt == "cyclonedx" else None,
            )
        finally:
            if out is not sys.stdout:
                out.close()
            else:
                out.flush()
    finally:
        engine.dispose()
    return Report(as_of, n, evaluation)


def judged(
    engine: Engine, catalog: Catalog, scan_id: int | None
) -> tuple[Evaluation, int, report_data.ReportData, Iterator[dict[str, Any]]]:
    """Re-judge, then what a report of `scan_id` (default: the latest) shows: the
    re-judgement, the scan reported on, the report's small parts and its findings' stream."""
    evaluation = rejudge_on(engine, catalog)
    with engine.connect() as conn:
        latest = latest_scan(conn)
        if scan_id is not None and not scan_exists(conn, scan_id):
            raise UsageError(f"usage error: no scan {scan_id} in the database")
    as_of = scan_id if scan_id is not None else latest
    if as_of is None:  # rejudge found a scan: only a database emptied since has none
        raise DatabaseError("database error: no scan has stored an inventory yet (run mpscan scan)")
    is_latest = as_of == latest
    data = load(engine, as_of, latest=is_latest, catalog=catalog, evaluation=evaluation)
    findings = iter_findings(
        engine,
        as_of,
        latest=is_latest,
        rule_ids=[r["id"] for r in data.rules],
        titles=data.rule_titles(),
    )
    return evaluation, as_of, data, findings


def load(
    engine: Engine, scan_id: int, *, latest: bool, catalog: Catalog, evaluation: Evaluation
) -> report_data.ReportData:
    """The report's small parts as of `scan_id`: the read model's rows, shaped."""
    rules = [report_data.rule_entry(r) for r in catalog.enabled()]
    rule_ids = [r["id"] for r in rules]
    rows = read_report.report_rows(engine, scan_id, latest=latest, rule_ids=rule_ids)
    points = read_trend.trend(engine, scan_id, rule_ids)
    groups = read_registry.registry(engine, rule_ids) if latest else []
    endpoints = read_production.production(engine, rule_ids) if latest else []
    return report_data.build(
        rows,
        latest=latest,
        rules=rules,
        evaluation=evaluation,
        trend=points,
        registry=groups,
        production=endpoints,
    )


def iter_findings(
    engine: Engine,
    scan_id: int,
    *,
    latest: bool,
    rule_ids: Sequence[str],
    titles: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Each finding as of `scan_id` as a dict of COLUMNS (dates as ISO text), worst first,
    streamed from the database."""
    rows = read_report.iter_findings(engine, scan_id, latest=latest, rule_ids=rule_ids)
    return report_data.findings(rows, titles)
