"""get: one resource read again, as a describe-mode scan reads it, for an event.

A package: DescribeModelPackage and ListTags (two calls). An account's own group:
DescribeModelPackageGroup, GetModelPackageGroupPolicy and ListTags (three). The document is
the one the scan would stage, so the store keeps one shape whatever read it. A resource
AWS says does not exist (deleted since the event) comes back as None: it is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from scanner.aws.errors import classify
from scanner.aws.groups import describe_model_package_group, group_document
from scanner.aws.model_packages import describe_model_package, list_tags
from scanner.kinds import MODEL_PACKAGE


@dataclass
class Read:
    document: dict[str, Any] | None  # None: AWS says it does not exist
    arn: str | None  # the resource's ARN (None: gone, and named by a name only)
    calls: int


def read(client, kind: str, name: str) -> Read:
    """Read one resource of `kind` named `name` (an ARN, or a group's name). AWS errors
    other than "does not exist" propagate (the event is retried)."""
    if kind == MODEL_PACKAGE.name:
        return _package(client, name)
    return _group(client, name)


def _package(client, name: str) -> Read:
    describe = _described(describe_model_package, "DescribeModelPackage", client, name)
    if describe is None:
        return Read(None, name if name.startswith("arn:") else None, 1)
    arn = describe["ModelPackageArn"]
    document = {"describe": describe, "tags": list_tags(client, arn), "via": "describe"}
    return Read(document, arn, 2)


def _group(client, name: str) -> Read:
    describe = _described(describe_model_package_group, "DescribeModelPackageGroup", client, name)
    if describe is None:
        return Read(None, name if name.startswith("arn:") else None, 1)
    summary = {m: describe[m] for m in _group_summary_members(client) if m in describe}
    document = group_document(client, summary, describe)
    document["via"] = "describe"
    return Read(document, describe["ModelPackageGroupArn"], 3)


def _described(call, operation: str, client, name: str) -> dict[str, Any] | None:
    """The describe's answer; None when AWS says the resource does not exist."""
    try:
        return call(client, name)
    except botocore.exceptions.ClientError as exc:
        if classify(exc, operation=operation) != "gone":
            raise
        return None


def _group_summary_members(client) -> list[str]:
    """What ListModelPackageGroups says of a group (botocore's ModelPackageGroupSummary):
    an event's document carries the summary a scan's listing would have given."""
    return list(client.meta.service_model.shape_for("ModelPackageGroupSummary").members)
