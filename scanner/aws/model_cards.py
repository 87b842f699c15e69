"""get: model cards (the latest version of each), which document a model or a model
package group."""

from __future__ import annotations

from typing import Any

from scanner.aws.listing import Listing, Searched
from scanner.aws.serving import from_record, listed, tagged
from scanner.kinds import MODEL_CARD


def collect_model_card(client, summary: dict[str, Any]) -> dict[str, Any]:
    describe = client.describe_model_card(ModelCardName=summary["ModelCardName"])
    return tagged(client, describe, describe["ModelCardArn"])


LISTINGS = (
    Listing(
        MODEL_CARD,
        "ListModelCards",
        listed("list_model_cards", "ModelCardSummaries"),
        arn="ModelCardArn",
        fetch=collect_model_card,
        fetch_operation="DescribeModelCard",
        search=Searched(
            agree=("ModelCardArn", "CreationTime", "ModelCardStatus"),
            document=from_record("DescribeModelCard"),
            modified="LastModifiedTime",
        ),
    ),
)
