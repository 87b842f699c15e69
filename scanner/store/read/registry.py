"""A report's registry view: each model package group of the inventory with its versions
(approval, created, open findings by severity) and its latest approved version; the
unversioned packages as one more entry. Two queries: the versions, and the open findings
counted per resource and severity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select

from scanner.store.read.findings import open_of
from scanner.store.schema import Finding, ModelPackage, ModelPackageGroup

VERSIONS_SHOWN = 20  # the newest versions a group lists; the rest are counted


@dataclass
class Version:
    arn: str
    version: int | None
    approval: str | None
    created: datetime | None
    open: dict[str, int] = field(default_factory=dict)


@dataclass
class Group:
    account_id: str
    region: str
    name: str
    arn: str | None  # None: the unversioned packages of an account and region
    versions: list[Version] = field(default_factory=list)
    total: int = 0  # versions in all (only the newest VERSIONS_SHOWN are listed)
    latest_approved: int | None = None
    open: dict[str, int] = field(default_factory=dict)  # the group's own findings


def registry(engine: Engine, rule_ids: Sequence[str]) -> list[Group]:
    with engine.connect() as conn:
        counts: dict[str, dict[str, int]] = {}
        for arn, severity, n in conn.execute(
            select(Finding.resource_arn, Finding.severity, func.count())
            .where(open_of(rule_ids))
            .group_by(Finding.resource_arn, Finding.severity)
        ):
            counts.setdefault(arn, {})[severity] = n
        groups: dict[tuple[str, str, str], Group] = {}
        for g in conn.execute(
            select(
                ModelPackageGroup.account_id,
                ModelPackageGroup.region,
                ModelPackageGroup.model_package_group_name,
                ModelPackageGroup.model_package_group_arn,
            ).where(ModelPackageGroup.shared.is_(False))
        ):
            groups[(g[0], g[1], g[2])] = Group(g[0], g[1], g[2], g[3], open=counts.get(g[3], {}))
        rows = conn.execute(
            select(
                ModelPackage.account_id,
                ModelPackage.region,
                ModelPackage.model_package_group_name,
                ModelPackage.model_package_arn,
                ModelPackage.model_package_version,
                ModelPackage.model_approval_status,
                ModelPackage.creation_time,
            ).order_by(
                ModelPackage.account_id,
                ModelPackage.region,
                ModelPackage.model_package_group_name,
                ModelPackage.model_package_version.desc(),
                ModelPackage.model_package_arn,
            )
        )
        for account, region, name, arn, version, approval, created in rows:
            key = (account, region, name or "")
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(account, region, name or "", None)
            group.total += 1
            if approval == "Approved" and version is not None:
                group.latest_approved = max(group.latest_approved or 0, version)
            if len(group.versions) < VERSIONS_SHOWN:
                group.versions.append(Version(arn, version, approval, created, counts.get(arn, {})))
    return sorted(groups.values(), key=lambda g: (g.arn is None, g.account_id, g.region, g.name))
