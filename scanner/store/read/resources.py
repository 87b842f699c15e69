"""A report's resource view: each resource of the inventory (packages, own groups, and what
is in production: models, endpoint configurations, endpoints, model cards) with the fields
a reader checks first and its latest changes, streamed one resource at a time.

Two ordered reads walked side by side (merge by ARN): the inventory rows, and
`resource_changes` of those ARNs, newest first per resource (the last `HISTORY` kept), so
memory holds one resource's changes, whatever the registry's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, literal, select, union_all

from scanner.store.schema import (
    Endpoint,
    EndpointConfig,
    Model,
    ModelCard,
    ModelPackage,
    ModelPackageGroup,
    ResourceChange,
)

HISTORY = 10  # changes shown per resource, newest first
BATCH = 2000


def resources(engine: Engine) -> Iterator[dict[str, Any]]:
    """Every resource (own groups only), ordered by ARN, with its last changes."""
    packages = select(
        ModelPackage.model_package_arn.label("arn"),
        literal("model_package").label("type"),
        ModelPackage.model_package_name.label("name"),
        ModelPackage.account_id,
        ModelPackage.region,
        ModelPackage.model_package_group_name.label("group"),
        ModelPackage.model_package_version.label("version"),
        ModelPackage.model_approval_status.label("approval"),
        ModelPackage.model_package_status.label("status"),
        ModelPackage.creation_time.label("created"),
        ModelPackage.kms_key_id.label("kms_key_id"),
        ModelPackage.model_package_description.label("description"),
        ModelPackage.last_seen_at,
    )
    groups = select(
        ModelPackageGroup.model_package_group_arn.label("arn"),
        literal("model_package_group").label("type"),
        ModelPackageGroup.model_package_group_name.label("name"),
        ModelPackageGroup.account_id,
        ModelPackageGroup.region,
        ModelPackageGroup.model_package_group_name.label("group"),
        literal(None).label("version"),
        literal(None).label("approval"),
        ModelPackageGroup.model_package_group_status.label("status"),
        ModelPackageGroup.creation_time.label("created"),
        literal(None).label("kms_key_id"),
        ModelPackageGroup.model_package_group_description.label("description"),
        ModelPackageGroup.last_seen_at,
    ).where(ModelPackageGroup.shared.is_(False))
    serving = [
        _serving(Model, "model", Model.model_arn, Model.model_name),
        _serving(
            EndpointConfig,
            "endpoint_config",
            EndpointConfig.endpoint_config_arn,
            EndpointConfig.endpoint_config_name,
            kms_key_id=EndpointConfig.kms_key_id,
        ),
        _serving(
            Endpoint,
            "endpoint",
            Endpoint.endpoint_arn,
            Endpoint.endpoint_name,
            status=Endpoint.endpoint_status,
        ),
        _serving(
            ModelCard,
            "model_card",
            ModelCard.model_card_arn,
            ModelCard.model_card_name,
            status=ModelCard.model_card_status,
            kms_key_id=ModelCard.kms_key_id,
            group=ModelCard.model_package_group_name,
        ),
    ]
    inventory = union_all(packages, groups, *serving).subquery("inventory")
    with engine.connect() as rows_conn, engine.connect() as changes_conn:
        # Both reads in the order Python compares text (code points): the merge below
        # relies on it, and PostgreSQL's default collation orders otherwise.
        def ordered(column):
            return column.collate("C") if engine.dialect.name == "postgresql" else column

        rows = rows_conn.execute(
            select(inventory)
            .order_by(ordered(inventory.c.arn), inventory.c.account_id)
            .execution_options(yield_per=BATCH)
        ).mappings()
        changes = changes_conn.execute(
            select(
                ResourceChange.resource_arn,
                ResourceChange.detected_at,
                ResourceChange.change,
                ResourceChange.field,
                ResourceChange.old,
                ResourceChange.new,
                ResourceChange.scan_id,
                ResourceChange.event_id,
            )
            .order_by(ordered(ResourceChange.resource_arn), ResourceChange.id.desc())
            .execution_options(yield_per=BATCH)
        )
        history = ((arn, list(items)) for arn, items in groupby(changes, key=lambda c: c[0]))
        pending = next(history, None)
        for row in rows:
            while pending is not None and pending[0] < row["arn"]:
                pending = next(history, None)
            mine = pending[1][:HISTORY] if pending is not None and pending[0] == row["arn"] else []
            yield {
                **row,
                "history": [
                    {
                        "at": c.detected_at,
                        "change": c.change,
                        "field": c.field,
                        "old": c.old,
                        "new": c.new,
                        "scan_id": c.scan_id,
                        "event_id": c.event_id,
                    }
                    for c in mine
                ],
            }


def _serving(table, kind: str, arn, name, *, status=None, kms_key_id=None, group=None):
    """A serving kind's rows in the view's columns (what it has of them; the rest null)."""
    return select(
        arn.label("arn"),
        literal(kind).label("type"),
        name.label("name"),
        table.account_id,
        table.region,
        (group if group is not None else literal(None)).label("group"),
        literal(None).label("version"),
        literal(None).label("approval"),
        (status if status is not None else literal(None)).label("status"),
        table.creation_time.label("created"),
        (kms_key_id if kms_key_id is not None else literal(None)).label("kms_key_id"),
        literal(None).label("description"),
        table.last_seen_at,
    )
