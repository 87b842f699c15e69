"""transform: collected documents -> rows for each table. Pure functions, no I/O.

A package document is {"describe": DescribeModelPackage response, "tags": [...]};
a group document is {"summary", "shared", "describe"?, "policy"?, "tags"?}, where
"policy" is {"status": "present"|"none"|"unknown", "text"?, "error"?}.
Timestamps arrive as ISO 8601 text (see scanner.stages.to_json).

Rows are keyed by column name: each response member becomes botocore's own snake_case
name. A row may name members the store has no column for yet (AWS adds members); the store
keeps those in `raw`, so nothing is lost, and it turns ISO 8601 text into timestamps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

INFERENCE = "InferenceSpecification"
ADDITIONAL = "AdditionalInferenceSpecifications"


def column_for(member: str) -> str:
    """The column of a response member: botocore's own snake_case."""
    return xform_name(member)


def members(response: dict[str, Any]) -> dict[str, Any]:
    return {column_for(member): value for member, value in response.items()}


@dataclass
class PackageRows:
    package: dict[str, Any]
    containers: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    validation_statuses: list[dict[str, Any]] = field(default_factory=list)
    metric_sources: list[dict[str, Any]] = field(default_factory=list)


def package_rows(document: dict[str, Any], account_id: str, region: str) -> PackageRows:
    describe = document["describe"]
    arn = describe["ModelPackageArn"]
    tags = document.get("tags")  # None: ListTags was not read (a rule on tags says so)
    package = {
        **members(describe),
        "model_package_arn": arn,
        "account_id": account_id,
        "region": region,
        "model_package_type": "Versioned"
        if describe.get("ModelPackageGroupName")
        else "Unversioned",
        "kms_key_id": (describe.get("SecurityConfig") or {}).get("KmsKeyId"),
        "tags": tags,
        "raw": describe,
    }
    return PackageRows(
        package=package,
        containers=[{"model_package_arn": arn, **c} for c in containers(describe)],
        tags=[
            {"model_package_arn": arn, "key": t["Key"], "value": t.get("Value")} for t in tags or []
        ],
        validation_statuses=[
            {"model_package_arn": arn, **s} for s in validation_statuses(describe)
        ],
        metric_sources=[{"model_package_arn": arn, **m} for m in metric_sources(describe)],
    )


def containers(describe: dict[str, Any]) -> list[dict[str, Any]]:
    """Each container of the inference and additional inference specifications."""
    placed = [(INFERENCE, None, describe.get(INFERENCE) or {})]
    placed += [(ADDITIONAL, s.get("Name"), s) for s in describe.get(ADDITIONAL) or []]
    return [
        {
            "specification": spec,
            "specification_name": name,
            "container_index": index,
            **members(container),
            "raw": container,
        }
        for spec, name, body in placed
        for index, container in enumerate(body.get("Containers") or [])
    ]


def validation_statuses(describe: dict[str, Any]) -> list[dict[str, Any]]:
    details = describe.get("ModelPackageStatusDetails") or {}
    return [
        {"kind": kind, **members(item)}
        for kind in ("ValidationStatuses", "ImageScanStatuses")
        for item in details.get(kind) or []
    ]


def metric_sources(describe: dict[str, Any]) -> list[dict[str, Any]]:
    """Every MetricsSource/FileSource under ModelMetrics and DriftCheckBaselines."""
    return [
        {"section": section, "category": category, "name": name, **members(source)}
        for section in ("ModelMetrics", "DriftCheckBaselines")
        for category, entries in (describe.get(section) or {}).items()
        for name, source in (entries or {}).items()
        if isinstance(source, dict) and "S3Uri" in source
    ]


@dataclass
class GroupRows:
    group: dict[str, Any]
    tags: list[dict[str, Any]] = field(default_factory=list)


def parse_policy(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"unparsed": text}  # the exact text is in raw either way


SHARED_POLICY = "shared into this account: the policy is its owner's (scan the owner's account)"


def _policy_columns(document: dict[str, Any]) -> dict[str, Any]:
    if document.get("shared"):
        return {"resource_policy_status": "unknown", "resource_policy_error": SHARED_POLICY}
    policy = document.get("policy") or {"status": "unknown", "error": "not collected"}
    return {
        "resource_policy": parse_policy(policy.get("text")),
        "resource_policy_status": policy["status"],
        "resource_policy_error": policy.get("error"),
    }


def group_rows(document: dict[str, Any], account_id: str, region: str) -> GroupRows:
    summary = document["summary"]
    arn = summary["ModelPackageGroupArn"]
    tags = document.get("tags")
    group = {
        **members(summary),
        **members(document.get("describe") or {}),
        "model_package_group_arn": arn,
        "account_id": account_id,
        "owner_account_id": arn.split(":")[4],
        "region": region,
        "shared": bool(document.get("shared")),
        "resource_policy": None,
        **_policy_columns(document),
        "tags": tags,
        "raw": document,
    }
    return GroupRows(
        group=group,
        tags=[
            {
                "account_id": account_id,
                "model_package_group_arn": arn,
                "key": t["Key"],
                "value": t.get("Value"),
            }
            for t in tags or []
        ],
    )
