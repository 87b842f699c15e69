"""get: model package groups, their resource policies and tags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.exceptions

PAGE_SIZE = 100


def list_model_package_groups(client, *, shared: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Pages of group summaries: the account's own, or those shared into it (`shared`)."""
    paginator = client.get_paginator("list_model_package_groups")
    pages = paginator.paginate(
        CrossAccountFilterOption="CrossAccount" if shared else "SameAccount",
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        yield page.get("ModelPackageGroupSummaryList", [])


def describe_model_package_group(client, name: str) -> dict[str, Any]:
    response = client.describe_model_package_group(ModelPackageGroupName=name)
    response.pop("ResponseMetadata", None)
    return response


def get_model_package_group_policy(client, name: str) -> str | None:
    """The group's resource policy (JSON text), or None: most groups have none.

    SageMaker answers ValidationException when a group has no policy; that is the
    normal case, not an error.
    """
    try:
        return client.get_model_package_group_policy(ModelPackageGroupName=name)["ResourcePolicy"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationException":
            return None
        raise
