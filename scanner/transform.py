"""transform: collected documents -> rows for each table. Pure functions, no I/O.

A package document is {"describe": DescribeModelPackage response, "tags": [...]};
a group document is {"summary", "shared", "describe"?, "policy"? (text), "tags"?}.
Timestamps arrive as ISO 8601 text (see scanner.stages.to_json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore import xform_name
from sqlalchemy import DateTime

from scanner.store.schema import ModelPackage, ModelPackageGroup

PACKAGE_COLUMNS = {c.name: c for c in ModelPackage.__table__.columns}
GROUP_COLUMNS = {c.name: c for c in ModelPackageGroup.__table__.columns}
TIMESTAMP_COLUMNS = {
    name for name, c in {**PACKAGE_COLUMNS, **GROUP_COLUMNS}.items() if isinstance(c.type, DateTime)
}


def column_for(member: str) -> str:
    """The column of a top-level response member: botocore's own snake_case."""
    return xform_name(member)


def _value(column: str, value: Any) -> Any:
    if column in TIMESTAMP_COLUMNS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _members_to_columns(response: dict[str, Any], columns: dict[str, Any]) -> dict[str, Any]:
    # A member AWS adds later has no column yet; it stays in `raw`, so nothing is lost.
    row = {}
    for member, value in response.items():
        column = column_for(member)
        if column in columns:
            row[column] = _value(column, value)
    return row


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
    tags = document.get("tags") or []
    package = {
        **_members_to_columns(describe, PACKAGE_COLUMNS),
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
        tags=[{"model_package_arn": arn, "key": t["Key"], "value": t.get("Value")} for t in tags],
        validation_statuses=[
            {"model_package_arn": arn, **s} for s in validation_statuses(describe)
        ],
        metric_sources=[{"model_package_arn": arn, **m} for m in metric_sources(describe)],
    )


def _container_row(spec: str, name: str | None, index: int, c: dict[str, Any]) -> dict[str, Any]:
    return {
        "specification": spec,
        "specification_name": name,
        "container_index": index,
        "image": c.get("Image"),
        "image_digest": c.get("ImageDigest"),
        "model_data_url": c.get("ModelDataUrl"),
        "framework": c.get("Framework"),
        "framework_version": c.get("FrameworkVersion"),
        "nearest_model_name": c.get("NearestModelName"),
        "container_hostname": c.get("ContainerHostname"),
        "product_id": c.get("ProductId"),
        "environment": c.get("Environment"),
        "model_data_source": c.get("ModelDataSource"),
        "raw": c,
    }


def containers(describe: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    main = describe.get("InferenceSpecification") or {}
    for i, c in enumerate(main.get("Containers") or []):
        rows.append(_container_row("InferenceSpecification", None, i, c))
    for spec in describe.get("AdditionalInferenceSpecifications") or []:
        for i, c in enumerate(spec.get("Containers") or []):
            rows.append(_container_row("AdditionalInferenceSpecifications", spec.get("Name"), i, c))
    return rows


def validation_statuses(describe: dict[str, Any]) -> list[dict[str, Any]]:
    details = describe.get("ModelPackageStatusDetails") or {}
    return [
        {
            "kind": kind,
            "name": s.get("Name"),
            "status": s.get("Status"),
            "failure_reason": s.get("FailureReason"),
        }
        for kind in ("ValidationStatuses", "ImageScanStatuses")
        for s in details.get(kind) or []
    ]


def metric_sources(describe: dict[str, Any]) -> list[dict[str, Any]]:
    """Every MetricsSource/FileSource under ModelMetrics and DriftCheckBaselines."""
    rows = []
    for section in ("ModelMetrics", "DriftCheckBaselines"):
        for category, entries in (describe.get(section) or {}).items():
            for name, source in (entries or {}).items():
                if isinstance(source, dict) and "S3Uri" in source:
                    rows.append(
                        {
                            "section": section,
                            "category": category,
                            "name": name,
                            "s3_uri": source.get("S3Uri"),
                            "content_type": source.get("ContentType"),
                            "content_digest": source.get("ContentDigest"),
                        }
                    )
    return rows


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


def group_rows(document: dict[str, Any], account_id: str, region: str) -> GroupRows:
    summary = document["summary"]
    describe = document.get("describe") or {}
    arn = summary["ModelPackageGroupArn"]
    tags = document.get("tags")
    group = {
        **_members_to_columns(summary, GROUP_COLUMNS),
        **_members_to_columns(describe, GROUP_COLUMNS),
        "model_package_group_arn": arn,
        "account_id": account_id,
        "owner_account_id": arn.split(":")[4],
        "region": region,
        "shared": bool(document.get("shared")),
        "resource_policy": parse_policy(document.get("policy")),
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
