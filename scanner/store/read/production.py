"""A report's "In production" view: each endpoint of the inventory with what each variant
serves (the `deployments` view) and the endpoint's open findings by severity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from scanner.store.read.findings import open_of
from scanner.store.schema import DEPLOYMENTS, Finding

SHOWN = 500  # endpoints listed; the rest are counted


@dataclass
class Endpoint:
    account_id: str
    region: str
    name: str
    arn: str
    status: str | None
    served: list[dict[str, Any]] = field(default_factory=list)  # the view's rows
    open: dict[str, int] = field(default_factory=dict)


def production(engine: Engine, rule_ids: Sequence[str]) -> list[Endpoint]:
    d = DEPLOYMENTS.c
    endpoints: dict[str, Endpoint] = {}
    with engine.connect() as conn:
        for row in conn.execute(
            select(DEPLOYMENTS).order_by(
                d.account_id,
                d.region,
                d.endpoint_name,
                d.variant_kind,
                d.variant_name,
                d.container_index,
            )  # fmt: skip
        ).mappings():
            arn = row["endpoint_arn"]
            if arn not in endpoints:
                if len(endpoints) >= SHOWN:
                    continue
                endpoints[arn] = Endpoint(
                    row["account_id"], row["region"], row["endpoint_name"], arn,
                    row["endpoint_status"],
                )  # fmt: skip
            endpoints[arn].served.append(dict(row))
        counts = conn.execute(
            select(Finding.resource_arn, Finding.severity, func.count())
            .where(open_of(rule_ids), Finding.resource_type == "endpoint")
            .group_by(Finding.resource_arn, Finding.severity)
        )
        for arn, severity, n in counts:
            if arn in endpoints:
                endpoints[arn].open[severity] = n
    return list(endpoints.values())
