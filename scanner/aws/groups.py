"""get: model package groups, their resource policies and tags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.exceptions

from scanner.aws.errors import describe_error
from scanner.aws.listing import Listing, Searched
from scanner.aws.model_packages import list_tags
from scanner.kinds import MODEL_PACKAGE_GROUP

PAGE_SIZE = 100


def list_model_package_groups(client, *, shared: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Pages of group summaries: the account's own, or those shared into it (`shared`)."""
    paginator = client.get_paginator("list_model_package_groups")
    pages = paginator.paginate(
        CrossAccountFilterOption="CrossAccount" if shared else "SameAccount",
        SortBy="CreationTime",
        SortOrder="Ascending",
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        yield page.get("ModelPackageGroupSummaryList", [])


def describe_model_package_group(client, name: str) -> dict[str, Any]:
    response = client.describe_model_package_group(ModelPackageGroupName=name)
    response.pop("ResponseMetadata", None)
    return response


# What SageMaker answers, as a ValidationException, for a group that has no resource
# policy: "Cannot find resource policy for arn:aws:sagemaker:...:model-package-group/NAME".
NO_POLICY_MESSAGE = "cannot find resource policy"


def get_model_package_group_policy(client, name: str) -> dict[str, Any]:
    """The group's resource policy: {"status": "present", "text": ...}, {"status": "none"}
    when AWS says the group has none (most groups), or {"status": "unknown", "error": ...}
    when it could not be read (denied, throttled, any other answer): a policy nobody saw
    must never pass for an absent one.
    """
    try:
        text = client.get_model_package_group_policy(ModelPackageGroupName=name)["ResourcePolicy"]
    except botocore.exceptions.ClientError as exc:
        if has_no_policy(exc.response.get("Error", {})):
            return {"status": "none"}
        return {"status": "unknown", "error": describe_error(exc)}
    except botocore.exceptions.BotoCoreError as exc:
        return {"status": "unknown", "error": describe_error(exc)}
    return {"status": "present", "text": text}


def has_no_policy(error: dict[str, Any]) -> bool:
    """Whether an error (botocore's parsed `Error`) is AWS saying the group has no policy."""
    return (
        error.get("Code") == "ValidationException"
        and NO_POLICY_MESSAGE in str(error.get("Message", "")).lower()
    )


def collect_group(client, summary: dict[str, Any]) -> dict[str, Any]:
    """An account's own group: its describe, resource policy and tags."""
    describe = describe_model_package_group(client, summary["ModelPackageGroupName"])
    return group_document(client, summary, describe)


def group_document(client, summary: dict[str, Any], describe: dict[str, Any]) -> dict[str, Any]:
    """An own group's document from its summary and describe: the policy and tags read."""
    return {
        "summary": summary,
        "shared": False,
        "describe": describe,
        "policy": get_model_package_group_policy(client, summary["ModelPackageGroupName"]),
        "tags": list_tags(client, summary["ModelPackageGroupArn"]),
    }


def group_from_record(client, summary: dict[str, Any], record: dict[str, Any]) -> dict:
    """An account's own group from its Search record (DescribeModelPackageGroup's members
    with the tags); its resource policy still takes a call: no bulk API answers it."""
    return {
        "summary": summary,
        "shared": False,
        "describe": {k: v for k, v in record.items() if k != "Tags"},
        "policy": get_model_package_group_policy(client, summary["ModelPackageGroupName"]),
        "tags": list(record.get("Tags") or []),
    }


def _shared_pages(client) -> Iterator[list[dict[str, Any]]]:
    return list_model_package_groups(client, shared=True)


def _another_accounts(summary: dict[str, Any], account_id: str) -> bool:
    return summary["ModelPackageGroupArn"].split(":")[4] != account_id


LISTINGS = (
    Listing(
        MODEL_PACKAGE_GROUP,
        "ListModelPackageGroups",
        list_model_package_groups,
        arn="ModelPackageGroupArn",
        fetch=collect_group,
        fetch_operation="DescribeModelPackageGroup",
        search=Searched(
            agree=(
                "ModelPackageGroupArn",
                "CreationTime",
                "ModelPackageGroupStatus",
                "ModelPackageGroupDescription",
            ),
            document=group_from_record,
            fill_operation="GetModelPackageGroupPolicy",
        ),
    ),
    # Groups shared into the account: the owner's policy and tags are the owner's business,
    # so the summary is all that is kept.
    Listing(
        MODEL_PACKAGE_GROUP,
        "ListModelPackageGroups",
        _shared_pages,
        arn="ModelPackageGroupArn",
        document=lambda summary: {"summary": summary, "shared": True},
        keep=_another_accounts,
    ),
)
