"""get: one resource read again, as a describe-mode scan reads it, for an event.

A package: DescribeModelPackage and ListTags (two calls). An account's own group:
DescribeModelPackageGroup, GetModelPackageGroupPolicy and ListTags (three). An endpoint:
DescribeEndpoint and ListTags, then what it deploys, as a scan reads them: its
configuration (DescribeEndpointConfig) and each model its variants name (DescribeModel and
ListTags), so that what it serves is whole however the events of a deployment arrive. A
model card: DescribeModelCard and ListTags (two).
The document is the one the scan would stage, so the store keeps one shape whatever read
it. A resource AWS says does not exist (deleted since the event) comes back as None: it is
removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from scanner.aws.endpoint_configs import collect_endpoint_config
from scanner.aws.endpoints import collect_endpoint
from scanner.aws.errors import classify
from scanner.aws.groups import describe_model_package_group, group_document
from scanner.aws.model_cards import collect_model_card
from scanner.aws.model_packages import describe_model_package, list_tags
from scanner.aws.models import collect_model
from scanner.kinds import ENDPOINT, ENDPOINT_CONFIG, MODEL, MODEL_CARD, MODEL_PACKAGE


@dataclass
class Read:
    document: dict[str, Any] | None  # None: AWS says it does not exist
    arn: str | None  # the resource's ARN (None: gone, and named by a name only)
    calls: int
    # What was read with it, (kind, document) each: an endpoint's configuration and models
    also: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # What it names that AWS says is gone, (kind, name) each: removed with it
    gone: list[tuple[str, str]] = field(default_factory=list)


def read(client, kind: str, name: str) -> Read:
    """Read one resource of `kind` named `name` (an ARN, or a group's name). AWS errors
    other than "does not exist" propagate (the event is retried)."""
    if kind == MODEL_PACKAGE.name:
        return _package(client, name)
    if kind == ENDPOINT.name:
        return _endpoint(client, name)
    if kind == MODEL_CARD.name:
        return _card(client, name)
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


def _endpoint(client, name: str) -> Read:
    # DescribeEndpoint takes a name; an ARN (AddTags' resourceArn) ends with it, lower-cased
    summary = {"EndpointName": name.rsplit("/", 1)[-1]}
    document = _described(collect_endpoint, "DescribeEndpoint", client, summary)
    if document is None:
        return Read(None, name if name.startswith("arn:") else None, 1)
    describe = document["describe"]
    read = Read({**document, "via": "describe"}, describe["EndpointArn"], 2)
    config_name = describe.get("EndpointConfigName")
    if not config_name:
        return read
    config_summary = {"EndpointConfigName": config_name}
    config = _described(collect_endpoint_config, "DescribeEndpointConfig", client, config_summary)
    read.calls += 1
    if config is None:
        read.gone.append((ENDPOINT_CONFIG.name, config_name))
        return read
    read.also.append((ENDPOINT_CONFIG.name, {**config, "via": "describe"}))
    variants = (config["describe"].get("ProductionVariants") or []) + (
        config["describe"].get("ShadowProductionVariants") or []
    )
    for model_name in dict.fromkeys(v["ModelName"] for v in variants if v.get("ModelName")):
        model = _described(collect_model, "DescribeModel", client, {"ModelName": model_name})
        read.calls += 1
        if model is None:
            read.gone.append((MODEL.name, model_name))
        else:
            read.also.append((MODEL.name, {**model, "via": "describe"}))
            read.calls += 1
    return read


def _card(client, name: str) -> Read:
    summary = {"ModelCardName": name}
    document = _described(collect_model_card, "DescribeModelCard", client, summary)
    if document is None:
        return Read(None, name if name.startswith("arn:") else None, 1)
    return Read({**document, "via": "describe"}, document["describe"]["ModelCardArn"], 2)


def _described(call, operation: str, client, named: Any) -> dict[str, Any] | None:
    """What `call` answers for the resource `named` (a name, or a scan's summary of it: the
    describe, or the document a describe-mode scan stages); None when AWS says the resource
    does not exist."""
    try:
        return call(client, named)
    except botocore.exceptions.ClientError as exc:
        if classify(exc, operation=operation) != "gone":
            raise
        return None


def _group_summary_members(client) -> list[str]:
    """What ListModelPackageGroups says of a group (botocore's ModelPackageGroupSummary):
    an event's document carries the summary a scan's listing would have given."""
    return list(client.meta.service_model.shape_for("ModelPackageGroupSummary").members)
