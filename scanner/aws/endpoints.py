"""get: endpoints: status, configuration, and each variant's current weight and instances."""

from __future__ import annotations

from typing import Any

from scanner.aws.listing import Listing, Searched
from scanner.aws.serving import from_record, listed, tagged
from scanner.kinds import ENDPOINT


def collect_endpoint(client, summary: dict[str, Any]) -> dict[str, Any]:
    describe = client.describe_endpoint(EndpointName=summary["EndpointName"])
    return tagged(client, describe, describe["EndpointArn"])


LISTINGS = (
    Listing(
        ENDPOINT,
        "ListEndpoints",
        listed("list_endpoints", "Endpoints"),
        arn="EndpointArn",
        fetch=collect_endpoint,
        fetch_operation="DescribeEndpoint",
        search=Searched(
            agree=("EndpointArn", "CreationTime", "EndpointStatus"),
            document=from_record("DescribeEndpoint"),
            modified="LastModifiedTime",
        ),
    ),
)
