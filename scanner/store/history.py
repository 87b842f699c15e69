"""Reading and trimming history: `resource_changes` for `mpscan diff`, and retention for
`mpscan prune` (old scans, their history and archived removals; never the current
inventory, nor a scan a current row or an open finding still points to)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, func, or_, select

from scanner.kinds import KINDS
from scanner.stages import Status
from scanner.store.read import scans as read_scans
from scanner.store.schema import (
    Endpoint,
    EndpointConfig,
    EndpointConfigVariant,
    Finding,
    FindingEvent,
    Model,
    ModelCard,
    ModelContainer,
    ModelPackage,
    ModelPackageGroup,
    RegistryEvent,
    RemovedResource,
    ResourceChange,
    Scan,
    ScanLock,
    ScanRegion,
    StagedResource,
    model,
)

DIFF_COLUMNS = (
    "resource_arn",
    "resource_type",
    "account_id",
    "region",
    "change",
    "field",
    "old",
    "new",
    "scan_id",
    "detected_at",
    "event_id",  # registry_events.id when `mpscan listen` applied it; null: the scan saw it
)


def latest_two_scans(engine: Engine) -> tuple[int | None, int | None]:
    """(the newest scan that stored something, the one before it)."""
    with engine.connect() as conn:
        ids = (
            conn.execute(
                select(ScanRegion.scan_id)
                .where(ScanRegion.status == Status.COMPLETE)
                .group_by(ScanRegion.scan_id)
                .order_by(ScanRegion.scan_id.desc())
                .limit(2)
            )
            .scalars()
            .all()
        )
    return (ids[0] if ids else None, ids[1] if len(ids) > 1 else None)


def scan_exists(engine: Engine, scan_id: int) -> bool:
    with engine.connect() as conn:
        return read_scans.scan_exists(conn, scan_id)


def first_scan_since(engine: Engine, since: datetime) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(func.min(Scan.id)).where(Scan.started_at >= since)).scalar()


def changes_after(engine: Engine, after_scan: int) -> Iterator[dict[str, Any]]:
    """Every change recorded by scans after `after_scan`, oldest first."""
    with engine.connect() as conn:
        result = conn.execute(
            select(*(getattr(ResourceChange, c) for c in DIFF_COLUMNS))
            .where(ResourceChange.scan_id > after_scan)
            .order_by(ResourceChange.scan_id, ResourceChange.resource_arn, ResourceChange.id)
            .execution_options(yield_per=2000)
        )
        for row in result.mappings():
            yield dict(row)


def with_serving(engine: Engine, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes, each endpoint that switched configuration followed by what each of its
    variants served before and after (field `serves:<variant>`: the model package versions
    its model's containers name, or the model when they name none), when that changed.
    Configurations and models cannot change in AWS, so their stored rows still say it."""
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for row in rows:
            out.append(row)
            if row["resource_type"] != "endpoint" or row["field"] != "endpoint_config_name":
                continue
            place = (row["account_id"], row["region"])
            before, after = _serving(conn, *place, row["old"]), _serving(conn, *place, row["new"])
            for variant in sorted(set(before) | set(after)):
                if before.get(variant) != after.get(variant):
                    extra = {"field": f"serves:{variant}", "old": before.get(variant)}
                    out.append({**row, **extra, "new": after.get(variant)})
    return out


def _serving(conn, account_id: str, region: str, config: Any) -> dict[str, list[str]]:
    """variant -> what it serves under a configuration (by name) in an account and region."""
    v, m, c = EndpointConfigVariant, Model, ModelContainer
    served: dict[str, list[str]] = {}
    rows = conn.execute(
        select(v.variant_name, v.model_name, c.model_package_arn)
        .join(EndpointConfig, EndpointConfig.endpoint_config_arn == v.endpoint_config_arn)
        .outerjoin(
            m,
            (m.account_id == EndpointConfig.account_id)
            & (m.region == EndpointConfig.region)
            & (m.model_name == v.model_name),
        )
        .outerjoin(c, c.model_arn == m.model_arn)
        .where(
            EndpointConfig.account_id == account_id,
            EndpointConfig.region == region,
            EndpointConfig.endpoint_config_name == str(config),
        )
        .order_by(v.variant_index, c.container_index)
    )
    for variant, model_name, package in rows:
        served.setdefault(variant, []).append(package or f"model {model_name}")
    return served


@dataclass
class PruneCounts:
    scans: int = 0
    changes: int = 0
    finding_events: int = 0
    resolved_findings: int = 0
    removed_resources: int = 0
    events: int = 0


def _referenced(scan_id_column):
    """True where a current row, a finding or a kept archive still points to the scan."""
    refs: list[tuple[Any, tuple[str, ...]]] = [
        ref
        for kind in KINDS  # every kind's rows and their children (scanner.kinds)
        for ref in [(model(kind.table), ("first_seen_scan_id", "last_seen_scan_id"))]
        + [(model(child), ("last_seen_scan_id",)) for child in kind.children]
    ]
    refs += [
        (Finding, ("scan_id", "first_seen_scan_id", "opened_scan_id", "resolved_scan_id")),
        (RemovedResource, ("last_seen_scan_id", "removed_scan_id")),
        (StagedResource, ("scan_id",)),
        (ScanLock, ("scan_id",)),
    ]
    return or_(
        *(
            exists().where(getattr(table, column) == scan_id_column)
            for table, columns in refs
            for column in columns
        )
    )


def prune(engine: Engine, before: datetime, *, dry_run: bool) -> PruneCounts:
    """Delete what is older than `before`, in one transaction (rolled back on dry run)."""
    counts = PruneCounts()
    with engine.connect() as conn, conn.begin() as tx:
        counts.removed_resources = _delete(
            conn, RemovedResource, RemovedResource.removed_at < before
        )
        resolved = and_(Finding.status == "pass", Finding.resolved_at < before)
        counts.finding_events += _delete(
            conn, FindingEvent, FindingEvent.finding_id.in_(select(Finding.id).where(resolved))
        )
        counts.resolved_findings = _delete(conn, Finding, resolved)
        # Only scans nothing current points to, and never the latest: what the latest scan
        # changed is what `mpscan diff` and a report's "changes" show, however old it is.
        latest = select(func.max(Scan.id)).where(Scan.status != Status.RUNNING).scalar_subquery()
        ids = (
            conn.execute(
                select(Scan.id).where(
                    Scan.started_at < before,
                    Scan.status != Status.RUNNING,
                    Scan.id != latest,
                    ~_referenced(Scan.id),
                )
            )
            .scalars()
            .all()
        )
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            counts.changes += _delete(conn, ResourceChange, ResourceChange.scan_id.in_(chunk))
            counts.finding_events += _delete(conn, FindingEvent, FindingEvent.scan_id.in_(chunk))
            conn.execute(delete(ScanRegion).where(ScanRegion.scan_id.in_(chunk)))
            conn.execute(delete(Scan).where(Scan.id.in_(chunk)))
        counts.scans = len(ids)
        # Registry events past the cutoff, but those a current row or kept history names.
        named = or_(
            *(
                exists().where(column == RegistryEvent.id)
                for column in (
                    ModelPackage.last_event_id,
                    ModelPackageGroup.last_event_id,
                    Model.last_event_id,
                    EndpointConfig.last_event_id,
                    Endpoint.last_event_id,
                    ModelCard.last_event_id,
                    ResourceChange.event_id,
                    FindingEvent.event_id,
                )
            )
        )
        counts.events = _delete(conn, RegistryEvent, (RegistryEvent.applied_at < before) & ~named)
        if dry_run:
            tx.rollback()
    return counts


def _delete(conn, table, where) -> int:
    # Counted first: a DELETE's rowcount is not reliable on every driver.
    count = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    conn.execute(delete(table).where(where))
    return count
