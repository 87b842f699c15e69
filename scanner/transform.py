"""transform: collected documents -> rows for each table. Pure functions, no I/O.

A package document is {"describe": DescribeModelPackage response, "tags": [...]};
a group document is {"summary", "shared", "describe"?, "policy"?, "tags"?}, where
"policy" is {"status": "present"|"none"|"unknown", "text"?, "error"?}. Search's records
have the same members (scanner.aws.search), so a document filled from one has the same
shape; its "via" says which call answered ("search" or "describe").
Timestamps arrive as ISO 8601 text (see scanner.stages.to_json).

Rows are keyed by column name: each response member becomes botocore's own snake_case
name. A row may name members the store has no column for yet (AWS adds members); the store
keeps those in `raw`, so nothing is lost, and it turns ISO 8601 text into timestamps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from scanner import kinds

# Part of every content hash: bump it when the rows built from the same response change, so
# the next scan rewrites every row once instead of keeping rows of the old shape.
ROWS_VERSION = "1"
INFERENCE = "InferenceSpecification"
ADDITIONAL = "AdditionalInferenceSpecifications"


def column_for(member: str) -> str:
    """The column of a response member: botocore's own snake_case."""
    return xform_name(member)


def members(response: dict[str, Any]) -> dict[str, Any]:
    return {column_for(member): value for member, value in response.items()}


def content_hash(*parts: Any) -> str:
    """Equal for equal responses, whatever their key order."""
    text = json.dumps([ROWS_VERSION, *parts], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _tag_map(tags: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {t["Key"]: t.get("Value") for t in tags or []}


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for each top-level member, policy or tag that differs between two
    `history_view`s of the same resource."""
    found = []
    for member in sorted(set(old["members"]) | set(new["members"])):
        before, after = old["members"].get(member), new["members"].get(member)
        if before != after:
            found.append((column_for(member), before, after))
    if old.get("policy") != new.get("policy"):
        found.append(("resource_policy", old.get("policy"), new.get("policy")))
    old_tags, new_tags = _tag_map(old["tags"]), _tag_map(new["tags"])
    for key in sorted(set(old_tags) | set(new_tags)):
        if old_tags.get(key, _ABSENT) != new_tags.get(key, _ABSENT):
            found.append((f"tag:{key}", old_tags.get(key), new_tags.get(key)))
    return found


_ABSENT = object()


def history_view(resource_type: str, raw: dict[str, Any], tags: list | None) -> dict[str, Any]:
    """What history compares, from a stored row's `raw` and `tags`: the parts its kind
    declares (scanner.kinds)."""
    parts = kinds.BY_NAME[resource_type].history
    if resource_type == kinds.MODEL_PACKAGE_GROUP.name:
        # a group's members: its listing summary, then what describe added
        members = {**raw.get("summary", {}), **(raw.get("describe") or {})}
    else:  # the describe answer itself
        members = raw
    view = {"members": members, "policy": raw.get("policy"), "tags": tags}
    return {part: view[part] for part in parts}


@dataclass
class PackageRows:
    package: dict[str, Any]
    containers: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    validation_statuses: list[dict[str, Any]] = field(default_factory=list)
    metric_sources: list[dict[str, Any]] = field(default_factory=list)

    def by_table(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "model_packages": [self.package],
            "model_package_containers": self.containers,
            "model_package_tags": self.tags,
            "model_package_validation_statuses": self.validation_statuses,
            "model_package_metric_sources": self.metric_sources,
        }


def package_rows(document: dict[str, Any], account_id: str, region: str) -> PackageRows:
    describe = document["describe"]
    arn = describe["ModelPackageArn"]
    tags = document.get("tags")  # None: ListTags was not read (a rule on tags says so)
    placed = containers(describe)
    package = {
        **members(describe),
        "model_package_arn": arn,
        "account_id": account_id,
        "region": region,
        "model_package_type": "Versioned"
        if describe.get("ModelPackageGroupName")
        else "Unversioned",
        "kms_key_id": (describe.get("SecurityConfig") or {}).get("KmsKeyId"),
        "container_images": container_images(placed),
        "tags": tags,
        "record_source": document.get("via"),
        "raw": describe,
        "content_hash": content_hash(describe, tags),
    }
    return PackageRows(
        package=package,
        containers=[{"model_package_arn": arn, **c} for c in placed],
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


IMAGE_PARTS = ("specification", "specification_name", "container_index", "image", "image_digest")


def container_images(placed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each container's place and image (of `containers`' rows), lifted out of the
    specifications: what a rule on images reads, at less than half the specifications'
    size (migration 0010 fills it in for stored packages)."""
    return [{part: c.get(part) for part in IMAGE_PARTS} for c in placed]


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

    def by_table(self) -> dict[str, list[dict[str, Any]]]:
        return {"model_package_groups": [self.group], "model_package_group_tags": self.tags}


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
    via = document.get("via") or ("listing" if document.get("shared") else None)
    document = {k: v for k, v in document.items() if k != "via"}  # what was read, not how
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
        "record_source": via,
        "raw": document,
        "content_hash": content_hash(document),
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


def rows_by_table(
    kind: kinds.Kind, document: dict[str, Any], account_id: str, region: str
) -> dict[str, list[dict[str, Any]]]:
    """A staged document of `kind` as rows, by table: the kind's table and its children."""
    if kind is kinds.MODEL_PACKAGE:
        return package_rows(document, account_id, region).by_table()
    if kind is kinds.MODEL_PACKAGE_GROUP:
        return group_rows(document, account_id, region).by_table()
    from scanner import transform_serving  # the serving kinds: models, endpoints, cards

    return transform_serving.ROWS[kind.name](document, account_id, region)
