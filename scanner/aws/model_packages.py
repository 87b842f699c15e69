"""get: model packages. Only API calls here; rows are made in scanner.transform."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.aws.listing import Listing, Searched
from scanner.kinds import MODEL_PACKAGE

PAGE_SIZE = 100


def list_model_packages(client) -> Iterator[list[dict[str, Any]]]:
    """Pages of package summaries, versioned and unversioned.

    ListModelPackages returns only *unversioned* packages unless ModelPackageType is
    given; the registry's versions are the ones that matter, so ask for Both.
    """
    paginator = client.get_paginator("list_model_packages")
    pages = paginator.paginate(
        ModelPackageType="Both",
        SortBy="CreationTime",
        SortOrder="Ascending",
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        yield page.get("ModelPackageSummaryList", [])


def describe_model_package(client, arn: str) -> dict[str, Any]:
    response = client.describe_model_package(ModelPackageName=arn)
    response.pop("ResponseMetadata", None)
    return response


def list_tags(client, arn: str) -> list[dict[str, str]]:
    """All tags of a resource, every page (shared by packages and groups)."""
    tags: list[dict[str, str]] = []
    paginator = client.get_paginator("list_tags")
    for page in paginator.paginate(ResourceArn=arn, PaginationConfig={"PageSize": PAGE_SIZE}):
        tags.extend(page.get("Tags", []))
    return tags


def collect_model_package(client, summary: dict[str, Any]) -> dict[str, Any]:
    arn = summary["ModelPackageArn"]
    return {"describe": describe_model_package(client, arn), "tags": list_tags(client, arn)}


def package_from_record(_client, _summary: dict[str, Any], record: dict[str, Any]) -> dict:
    """A package's document from its Search record: the record is DescribeModelPackage's
    answer (but for the kind's `search_lacks`) with the package's tags."""
    describe = {k: v for k, v in record.items() if k != "Tags"}
    return {"describe": describe, "tags": list(record.get("Tags") or [])}


SEARCHED = Searched(
    agree=(
        "ModelPackageArn",
        "CreationTime",
        "ModelPackageStatus",
        "ModelApprovalStatus",
        "ModelPackageDescription",
        "ModelLifeCycle",
    ),
    document=package_from_record,
    modified="LastModifiedTime",
)


LISTINGS = (
    Listing(
        MODEL_PACKAGE,
        "ListModelPackages",
        list_model_packages,
        arn="ModelPackageArn",
        fetch=collect_model_package,
        fetch_operation="DescribeModelPackage",
        search=SEARCHED,
    ),
)
