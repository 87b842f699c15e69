"""get: models (what an endpoint configuration's variants serve), their containers and tags."""

from __future__ import annotations

from typing import Any

from scanner.aws.listing import Listing, Searched
from scanner.aws.serving import from_record, listed, tagged
from scanner.kinds import MODEL


def collect_model(client, summary: dict[str, Any]) -> dict[str, Any]:
    describe = client.describe_model(ModelName=summary["ModelName"])
    return tagged(client, describe, describe["ModelArn"])


def _model_of(result: dict[str, Any]) -> dict[str, Any]:
    """Search's Model result is a ModelDashboardModel: the model itself is its `Model`."""
    return result.get("Model") or {}


LISTINGS = (
    Listing(
        MODEL,
        "ListModels",
        listed("list_models", "Models"),
        arn="ModelArn",
        fetch=collect_model,
        fetch_operation="DescribeModel",
        search=Searched(
            agree=("ModelArn", "ModelName", "CreationTime"),
            document=from_record("DescribeModel"),
            sort_by="Model.CreationTime",
            unwrap=_model_of,
        ),
    ),
)
