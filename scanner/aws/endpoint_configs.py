"""get: endpoint configurations, which map each production and shadow variant to its model.
No bulk API answers them: one DescribeEndpointConfig a configuration, in either mode."""

from __future__ import annotations

from typing import Any

from scanner.aws.listing import Listing
from scanner.aws.serving import described, listed
from scanner.kinds import ENDPOINT_CONFIG


def collect_endpoint_config(client, summary: dict[str, Any]) -> dict[str, Any]:
    name = summary["EndpointConfigName"]
    return {"describe": described(client.describe_endpoint_config(EndpointConfigName=name))}


LISTINGS = (
    Listing(
        ENDPOINT_CONFIG,
        "ListEndpointConfigs",
        listed("list_endpoint_configs", "EndpointConfigs"),
        arn="EndpointConfigArn",
        fetch=collect_endpoint_config,
        fetch_operation="DescribeEndpointConfig",
    ),
)
