"""get: SageMaker Search, the registry's bulk read: up to 100 full records a call.

Search is an index, eventually consistent with the registry: the collector pairs each
record with the listing (the truth of what exists) and describes what Search lags on or
answers stale (scanner.aws.matching).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

PAGE_SIZE = 100  # Search's most; botocore's model gives no default (AWS answers 10)


def search_records(
    client, resource: str, sort_by: str = "CreationTime"
) -> Iterator[list[dict[str, Any]]]:
    """Pages of one resource type's records in the client's account and region, in
    ascending CreationTime (`sort_by`, as the record names it): the order the listings are
    read in."""
    paginator = client.get_paginator("search")
    pages = paginator.paginate(
        Resource=resource,
        SortBy=sort_by,
        SortOrder="Ascending",
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        yield [result[resource] for result in page.get("Results", []) if resource in result]
