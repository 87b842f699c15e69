"""get: what the serving kinds' modules share (models, endpoint configurations, endpoints,
model cards): their listings' pages and how a Search record becomes a describe answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from scanner.aws.model_packages import list_tags

PAGE_SIZE = 100


def listed(operation: str, members: str) -> Callable[[Any], Iterator[list[dict[str, Any]]]]:
    """The pages of a List call's summaries, oldest first (Search is read in that order)."""

    def pages(client) -> Iterator[list[dict[str, Any]]]:
        paginator = client.get_paginator(operation)
        for page in paginator.paginate(
            SortBy="CreationTime",
            SortOrder="Ascending",
            PaginationConfig={"PageSize": PAGE_SIZE},
        ):
            yield page.get(members, [])

    return pages


def described(response: dict[str, Any]) -> dict[str, Any]:
    response.pop("ResponseMetadata", None)
    return response


def tagged(client, describe: dict[str, Any], arn: str) -> dict[str, Any]:
    """A describe-mode document: the describe answer and the resource's tags."""
    return {"describe": described(describe), "tags": list_tags(client, arn)}


def from_record(operation: str) -> Callable[[Any, dict[str, Any], dict[str, Any]], dict]:
    """A search-mode document from a record: the members the describe call `operation`
    answers (the record may carry more, which describe mode would never store) and Tags."""

    def document(client, _summary: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        members = client.meta.service_model.operation_model(operation).output_shape.members
        describe = {k: v for k, v in record.items() if k in members}
        return {"describe": describe, "tags": list(record.get("Tags") or [])}

    return document
