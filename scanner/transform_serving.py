"""transform, for what is in production: model, endpoint configuration, endpoint and model
card documents -> rows. Pure functions, no I/O (scanner.transform's rules: botocore's
snake_case columns, the answer as received in `raw`, members with no column kept there).

A document is {"describe": the describe answer (or Search's record, with the same
members), "tags": [...] (not for endpoint configurations, which carry none), "via"}.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scanner.transform import content_hash, members

Rows = dict[str, list[dict[str, Any]]]


def _resource(
    document: dict[str, Any], key: str, arn_member: str, account_id: str, region: str
) -> tuple[str, dict[str, Any]]:
    describe = document["describe"]
    arn = describe[arn_member]
    tags = document.get("tags")
    row = {
        **members(describe),
        key: arn,
        "account_id": account_id,
        "region": region,
        "record_source": document.get("via"),
        "raw": describe,
        "content_hash": content_hash(describe, tags),
    }
    if "tags" in document:
        row["tags"] = tags
    return arn, row


def package_arn(name: str | None, model_arn: str) -> str | None:
    """The ARN of the package a container names: the ARN itself, or the unversioned package
    of that name in the model's own account and region."""
    if not name:
        return None
    if name.startswith("arn:"):
        return name
    partition, _, region, account = model_arn.split(":")[1:5]
    return f"arn:{partition}:sagemaker:{region}:{account}:model-package/{name}"


def model_rows(document: dict[str, Any], account_id: str, region: str) -> Rows:
    arn, row = _resource(document, "model_arn", "ModelArn", account_id, region)
    describe = document["describe"]
    placed = (
        [("PrimaryContainer", describe.get("PrimaryContainer"))]
        if describe.get("PrimaryContainer")
        else []
    )
    placed += [("Containers", c) for c in describe.get("Containers") or []]
    containers = [
        {
            "model_arn": arn,
            "place": place,
            "container_index": index,
            **members(container),
            "model_package_arn": package_arn(container.get("ModelPackageName"), arn),
            "raw": container,
        }
        for index, (place, container) in enumerate(placed)
    ]
    return {"models": [row], "model_containers": containers}


def _variants(describe: dict[str, Any], key: str, arn: str) -> list[dict[str, Any]]:
    return [
        {key: arn, "variant_kind": kind, "variant_index": index, **members(variant)}
        for kind, member in (
            ("production", "ProductionVariants"),
            ("shadow", "ShadowProductionVariants"),
        )
        for index, variant in enumerate(describe.get(member) or [])
    ]


def endpoint_config_rows(document: dict[str, Any], account_id: str, region: str) -> Rows:
    key = "endpoint_config_arn"
    arn, row = _resource(document, key, "EndpointConfigArn", account_id, region)
    variants = _variants(document["describe"], key, arn)
    return {"endpoint_configs": [row], "endpoint_config_variants": variants}


def endpoint_rows(document: dict[str, Any], account_id: str, region: str) -> Rows:
    arn, row = _resource(document, "endpoint_arn", "EndpointArn", account_id, region)
    variants = _variants(document["describe"], "endpoint_arn", arn)
    return {"endpoints": [row], "endpoint_variants": variants}


def card_content(text: str | None) -> dict[str, Any]:
    """A model card's Content (JSON text, the model card schema), parsed; {} if it is not."""
    try:
        content = json.loads(text or "{}")
    except ValueError:
        return {}
    return content if isinstance(content, dict) else {}


def _part(content: dict[str, Any], section: str, member: str) -> Any:
    part = content.get(section)
    value = part.get(member) if isinstance(part, dict) else None
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def model_card_rows(document: dict[str, Any], account_id: str, region: str) -> Rows:
    _, row = _resource(document, "model_card_arn", "ModelCardArn", account_id, region)
    content = card_content(document["describe"].get("Content"))
    risk = _part(content, "intended_uses", "risk_rating")
    row.update(
        kms_key_id=(document["describe"].get("SecurityConfig") or {}).get("KmsKeyId"),
        model_id=_part(content, "model_overview", "model_id"),
        risk_rating=None if risk is None else str(risk),
        model_package_group_name=_part(
            content, "model_package_details", "model_package_group_name"
        ),
        model_package_arn=_part(content, "model_package_details", "model_package_arn"),
    )
    return {"model_cards": [row]}


ROWS: dict[str, Callable[[dict[str, Any], str, str], Rows]] = {
    "model": model_rows,
    "endpoint_config": endpoint_config_rows,
    "endpoint": endpoint_rows,
    "model_card": model_card_rows,
}
