"""What the rules on production read beyond a resource's own row (queries only):

* for an endpoint, what it serves (`served`): each variant of its configuration, the model
  and containers it serves and the model package version each container names, through
  the `deployments` view, with whether that package's account and region has a stored
  inventory (a package that is absent there is deleted; elsewhere it is unknown) and its
  open critical and high findings;
* for a model package, the standalone model cards that document it (`documenting`): a card
  for its group, for the package itself, or for a model whose containers name it.

Each builder reads once per evaluation and returns a function from a resource's row to
the members it adds, so the judge stays one pass over each kind's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, or_, select, tuple_

from scanner.store.schema import (
    DEPLOYMENTS,
    Finding,
    Model,
    ModelCard,
    ModelContainer,
    ModelPackage,
)
from scanner.store.scope import Scope

Enrich = Callable[[Mapping[str, Any]], dict[str, Any]]
SERVED = "served"  # the member an endpoint's row gains
DOCUMENTING = "documenting_cards"  # the member a package's row gains
SEVERE = ("critical", "high")


def _place(arn: str | None) -> tuple[str, str] | None:
    """(account, region) of an ARN."""
    parts = (arn or "").split(":")
    return (parts[4], parts[3]) if len(parts) > 5 and parts[0] == "arn" else None


def served(
    conn: Connection, scope: Scope, judged_severe: Mapping[str, list[str]] | None = None
) -> Enrich:
    """What each endpoint in scope serves. `judged_severe`: the open critical and high
    findings this evaluation judged, by package ARN, which replace the stored ones for
    packages in its scope (the stored ones are the previous evaluation's)."""
    d = DEPLOYMENTS.c
    rows = conn.execute(
        select(DEPLOYMENTS).where(tuple_(d.account_id, d.region).in_(scope.pairs()))
    ).mappings()
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_endpoint.setdefault(row["endpoint_arn"], []).append(dict(row))
    packages = {s["model_package_arn"] for rows_ in by_endpoint.values() for s in rows_} - {None}
    read = {tuple(r) for r in conn.execute(Scope.stored().pairs())}
    judged_here = {tuple(r) for r in conn.execute(scope.pairs())}
    stored = _stored_severe(conn, sorted(packages))
    for rows_ in by_endpoint.values():
        for s in rows_:
            arn = s["model_package_arn"]
            place = _place(arn)
            s["package_found"] = s["model_package_status"] is not None
            s["package_region_read"] = place in read
            if judged_severe is not None and place in judged_here:
                s["severe_findings"] = sorted(judged_severe.get(arn, []))
            else:
                s["severe_findings"] = stored.get(arn, [])

    def enrich(endpoint: Mapping[str, Any]) -> dict[str, Any]:
        return {SERVED: by_endpoint.get(endpoint["endpoint_arn"], [])}

    return enrich


def serving(
    conn: Connection, package_arns: Collection[str], group: str | None = None
) -> list[tuple[str, str, str]]:
    """(account, region, ARN) of the stored endpoints that serve these packages, or
    (`group`: the group of a single package) another version of that group in its account
    and region, wherever the endpoints are: what an event that changed a package changes
    for them (its approval for DEP-001, its findings for DEP-003, the group's latest
    approved version for DEP-005). One query however many packages."""
    arns = set(package_arns)
    if not arns:
        return []
    d = DEPLOYMENTS.c
    named: ColumnElement[bool] = d.model_package_arn.in_(sorted(arns))
    if group is not None:
        named = or_(named, d.model_package_group_name == group)
    rows = conn.execute(
        select(d.account_id, d.region, d.endpoint_arn, d.model_package_arn).where(named).distinct()
    )
    places = {_place(arn) for arn in arns}
    return sorted(
        {(a, r, e) for a, r, e, p in rows if p in arns or (group and _place(p) in places)}
    )


def documented(conn: Connection, card_arn: str) -> set[tuple[str, str, str]]:
    """(account, region, ARN) of the packages the stored model card documents, as
    `documenting` finds them: its group's versions in its account and region, the package
    it names, and those the model it names serves."""
    c = ModelCard
    card = conn.execute(
        select(
            c.account_id, c.region, c.model_package_group_name, c.model_package_arn, c.model_id
        ).where(c.model_card_arn == card_arn)
    ).first()
    if card is None:
        return set()
    account, region, group, package, model_id = card
    found: set[tuple[str, str, str]] = set()
    if group:
        p = ModelPackage
        versions = select(p.model_package_arn).where(
            p.account_id == account, p.region == region, p.model_package_group_name == group
        )
        found |= {(account, region, arn) for (arn,) in conn.execute(versions)}
    named = [package] if package else []
    if model_id:  # by name or ARN, in the card's account and region
        served = (
            select(ModelContainer.model_package_arn)
            .join(Model, Model.model_arn == ModelContainer.model_arn)
            .where(
                Model.account_id == account,
                Model.region == region,
                or_(Model.model_arn == model_id, Model.model_name == model_id),
                ModelContainer.model_package_arn.is_not(None),
            )
        )
        named += [str(arn) for (arn,) in conn.execute(served)]
    for arn in named:
        if (place := _place(arn)) is not None:
            found.add((*place, arn))
    return found


def served_packages(conn: Connection, scope: Scope) -> set[str]:
    """The ARNs of the model packages the endpoints in scope serve."""
    d = DEPLOYMENTS.c
    query = select(d.model_package_arn).where(
        tuple_(d.account_id, d.region).in_(scope.pairs()), d.model_package_arn.is_not(None)
    )
    return {arn for (arn,) in conn.execute(query.distinct())}


def severe_of_rules(conn: Connection, rule_ids: list[str], scope: Scope) -> dict[str, list[str]]:
    """Package ARN -> the stored open critical and high findings of `rule_ids` in scope:
    what a rule that could not run this time (a custom SQL rule that broke) still says."""
    if not rule_ids:
        return {}
    found: dict[str, list[str]] = {}
    for arn, rule_id in conn.execute(
        select(Finding.resource_arn, Finding.rule_id).where(
            Finding.rule_id.in_(rule_ids),
            Finding.resource_type == "model_package",
            Finding.status == "fail",
            Finding.severity.in_(SEVERE),
            scope.covers(Finding),
        )
    ):
        found.setdefault(arn, []).append(rule_id)
    return found


def _stored_severe(conn: Connection, arns: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for i in range(0, len(arns), 500):
        for arn, rule_id in conn.execute(
            select(Finding.resource_arn, Finding.rule_id).where(
                Finding.resource_arn.in_(arns[i : i + 500]),
                Finding.status == "fail",
                Finding.severity.in_(SEVERE),
            )
        ):
            found.setdefault(arn, []).append(rule_id)
    return {arn: sorted(ids) for arn, ids in found.items()}


def _in_regions(table: Any, scope: Scope) -> Any:
    """Rows in the scope's accounts and regions: all of them, also where the scope is one
    package an event refreshed (its cards are the region's, not that one resource)."""
    return tuple_(table.account_id, table.region).in_(scope.pairs())


def documenting(conn: Connection, scope: Scope) -> Enrich:
    """The standalone model cards documenting each package in scope: (ARN, status)."""
    cards = conn.execute(
        select(
            ModelCard.model_card_arn,
            ModelCard.model_card_status,
            ModelCard.account_id,
            ModelCard.region,
            ModelCard.model_package_group_name,
            ModelCard.model_package_arn,
            ModelCard.model_id,
        ).where(_in_regions(ModelCard, scope))
    ).all()
    by_group: dict[tuple, list] = {}
    by_package: dict[str, list] = {}
    by_model: dict[str, list] = {}
    for c in cards:
        card = (c.model_card_arn, c.model_card_status)
        if c.model_package_group_name:
            by_group.setdefault((c.account_id, c.region, c.model_package_group_name), []).append(
                card
            )
        if c.model_package_arn:
            by_package.setdefault(c.model_package_arn, []).append(card)
        if c.model_id:
            by_model.setdefault(c.model_id, []).append(card)
    models_of: dict[str, list[str]] = {}
    if by_model:  # a card names its model by name or ARN
        for package_arn, model_arn, model_name in conn.execute(
            select(ModelContainer.model_package_arn, Model.model_arn, Model.model_name)
            .join(Model, Model.model_arn == ModelContainer.model_arn)
            .where(ModelContainer.model_package_arn.is_not(None), _in_regions(Model, scope))
        ):
            models_of.setdefault(str(package_arn), []).extend((model_arn, model_name))

    def enrich(package: Mapping[str, Any]) -> dict[str, Any]:
        arn = package["model_package_arn"]
        group = (package["account_id"], package["region"], package.get("model_package_group_name"))
        found = by_group.get(group, []) + by_package.get(arn, [])
        for model in models_of.get(arn, []):
            found += by_model.get(model, [])
        return {DOCUMENTING: sorted(set(found))}

    return enrich
