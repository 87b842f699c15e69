"""Built-in rules on what is in production (DEP-0xx): each judges one endpoint by what it
serves (scanner.store.read.deployed: its configuration's variants, their models and
containers, and the model package version each container names).

What an endpoint serves can be unknown: its configuration or a model deleted while it runs,
or a package in an account or region mpscan has not read (a package shared from another
account is resolved when that account is scanned). Then a rule answers error, never pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from scanner.rules.base import ENDPOINT, Result, error, fail, rule
from scanner.store.read.deployed import SERVED

APPROVED = "Approved"
IN_SERVICE = "InService"
# Statuses in which an endpoint serves traffic (Creating, Failed, OutOfService... do not)
SERVING = (IN_SERVICE, "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed")
READS = ("endpoint_status", "endpoint_config_name", "production_variants")
CLI = "aws sagemaker update-endpoint --endpoint-name <endpoint> --endpoint-config-name <config>"
# What an endpoint serves: its configuration's variants, their models' containers, and the
# package versions they name (approval, version, group)
JOINS = (
    ("endpoint_config", "production_variants"),
    ("endpoint_config", "shadow_production_variants"),
    ("model", "primary_container"),
    ("model", "containers"),
    ("model_package", "model_approval_status"),
    ("model_package", "model_package_version"),
    ("model_package", "model_package_group_name"),
)
CONTROLS = (("nist-ai-rmf", "MANAGE 4.1"), ("iso-42001", "A.6.2.5"), ("soc2", "CC8.1"))


def _variant(s: Mapping[str, Any]) -> str:
    weight = s.get("current_weight")
    shown = "" if weight is None else f", weight {weight:g}"
    shadow = " (shadow)" if s.get("variant_kind") == "shadow" else ""
    return f"variant {s.get('variant_name')}{shadow}{shown}"


def _unknowns(e: Mapping[str, Any], packages: bool = True) -> Iterator[str]:
    """Why what the endpoint serves is not (wholly) known."""
    served = e.get(SERVED) or []
    if not served or any(s.get("variant_name") is None for s in served):
        yield f"its configuration {e.get('endpoint_config_name')!r} is not in the inventory"
    for s in served:
        if s.get("variant_name") is not None and s.get("model_arn") is None:
            yield f"{_variant(s)}: its model {s.get('model_name')!r} is not in the inventory"
        elif packages and _unread(s):
            account, region = (
                s["model_package_arn"].split(":")[4],
                s["model_package_arn"].split(":")[3],
            )
            yield (
                f"{_variant(s)}: {s['model_package_arn']} is in account {account} {region}, "
                "which mpscan has not read (scan it to judge)"
            )


def _unread(s: Mapping[str, Any]) -> bool:
    return (
        bool(s.get("model_package_arn"))
        and not s.get("package_found")
        and not s.get("package_region_read")
    )


def _packages(e: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Each served container that names a package in the inventory."""
    for s in e.get(SERVED) or []:
        if s.get("model_package_arn") and s.get("package_found"):
            yield s


def _verdict(failing: list[str], unknown: list[str]) -> Result | None:
    if failing:
        return fail("; ".join(dict.fromkeys(failing)))
    if unknown:
        return error("what it serves is unknown: " + "; ".join(dict.fromkeys(unknown)))
    return None


@rule(
    id="DEP-001",
    title="Endpoint serves a model package version that is not Approved",
    severity="critical",
    resource_type=ENDPOINT,
    rationale="The registry's approval is the gate between a model and production: an "
    "in-service endpoint serving a rejected or pending version runs a model nobody approved.",
    remediation="Point the endpoint at a configuration whose models are built from Approved "
    "versions, or approve the version after review.",
    remediation_cli=CLI,
    controls=CONTROLS,
    reads=READS,
    joins=JOINS,
)
def serves_unapproved(e, _):
    if e.get("endpoint_status") != IN_SERVICE:
        return None
    failing = [
        f"{_variant(s)} serves {s['model_package_arn']} "
        f"({s.get('model_approval_status') or 'no approval status'})"
        for s in _packages(e)
        if s.get("model_package_group_name") and s.get("model_approval_status") != APPROVED
    ]
    return _verdict(failing, list(_unknowns(e)))


@rule(
    id="DEP-002",
    title="Endpoint serves a model package that is not in the registry",
    severity="high",
    resource_type=ENDPOINT,
    rationale="A model built from a package that was deleted has no registry record left: "
    "no approval, metrics or lineage to audit what is serving traffic.",
    remediation="Register the model again and redeploy from the registry, or retire the endpoint.",
    remediation_cli=CLI,
    controls=CONTROLS,
    reads=READS,
    joins=JOINS,
)
def serves_missing_package(e, _):
    if e.get("endpoint_status") not in SERVING:
        return None
    failing = [
        f"{_variant(s)} serves {s['model_package_arn']}, which is not in the registry (deleted)"
        for s in e.get(SERVED) or []
        if s.get("model_package_arn")
        and not s.get("package_found")
        and s.get("package_region_read")
    ]
    return _verdict(failing, list(_unknowns(e)))


@rule(
    id="DEP-003",
    title="Endpoint serves a package version with open critical or high findings",
    severity="high",
    resource_type=ENDPOINT,
    rationale="A finding on a version is a finding in production once an endpoint serves it: "
    "the unwaived critical and high failures of the built-in rules and of custom SQL rules.",
    remediation="Fix the findings (a new version) and redeploy, or waive them with a reason.",
    remediation_cli=CLI,
    controls=CONTROLS,
    reads=READS,
    joins=JOINS,
)
def serves_flagged_package(e, _):
    if e.get("endpoint_status") not in SERVING:
        return None
    failing = [
        f"{_variant(s)} serves {s['model_package_arn']}: {', '.join(s['severe_findings'])}"
        for s in _packages(e)
        if s.get("severe_findings")
    ]
    return _verdict(failing, list(_unknowns(e)))


@rule(
    id="DEP-004",
    title="Endpoint serves a model that is not from the registry",
    severity="medium",
    resource_type=ENDPOINT,
    rationale="A model whose containers name no model package was deployed around the "
    "registry: no approval, version or lineage stands behind it.",
    remediation="Register the model as a package version and create the model from it "
    "(ModelPackageName).",
    remediation_cli="aws sagemaker create-model --model-name <model> --execution-role-arn "
    "<role> --primary-container ModelPackageName=<package-version-arn>",
    controls=CONTROLS,
    reads=READS,
    joins=JOINS,
)
def serves_unregistered_model(e, _):
    if e.get("endpoint_status") not in SERVING:
        return None
    by_model: dict[str, list[Mapping[str, Any]]] = {}
    for s in e.get(SERVED) or []:
        if s.get("model_arn"):
            by_model.setdefault(s["model_arn"], []).append(s)
    failing = [
        f"{_variant(rows[0])} serves model {rows[0].get('model_name')}, whose containers "
        "name no model package"
        for rows in by_model.values()
        if not any(r.get("model_package_arn") for r in rows)
    ]
    return _verdict(failing, list(_unknowns(e, packages=False)))


@rule(
    id="DEP-005",
    title="Endpoint serves an older version than its group's latest approved",
    severity="low",
    resource_type=ENDPOINT,
    rationale="A newer approved version exists: the endpoint lags behind what reviewers "
    "approved last (a forgotten rollout, or a rollback nobody recorded).",
    remediation="Roll out the latest approved version, or record why the endpoint stays "
    "behind (a waiver).",
    remediation_cli=CLI,
    controls=CONTROLS,
    reads=READS,
    joins=JOINS,
)
def serves_older_version(e, _):
    if e.get("endpoint_status") not in SERVING:
        return None
    failing = [
        f"{_variant(s)} serves version {s['model_package_version']} of "
        f"{s['model_package_group_name']}; the latest approved is {s['latest_approved_version']}"
        for s in _packages(e)
        if s.get("latest_approved_version") is not None
        and s.get("model_package_version") is not None
        and s["model_package_version"] < s["latest_approved_version"]
    ]
    return _verdict(failing, list(_unknowns(e)))
