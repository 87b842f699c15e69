"""How a resource kind is collected: which listings say what exists and how each listed
item becomes the document the store stages. Each get module declares its listings; the
collector runs them all, whatever the kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from scanner.kinds import Kind

Summary = dict[str, Any]
Record = dict[str, Any]
Document = dict[str, Any]
Fetch = Callable[[Any, Summary], Document]  # client, summary -> the staged document


def _everything(_summary: Summary, _account_id: str) -> bool:
    return True


@dataclass(frozen=True)
class Searched:
    """How Search fills a listing's records in search mode (`[scan] collect`)."""

    # Summary members a record must equal: one that disagrees with the listing is stale
    agree: tuple[str, ...]
    # client, summary, record -> the staged document (making the calls no bulk API answers)
    document: Callable[[Any, Summary, Record], Document]
    # A record whose member is older than the stored row's is stale (None: never known)
    modified: str | None = None
    fill_operation: str = "Search"  # the first call of `document`, as errors name it
    sort_by: str = "CreationTime"  # the record's creation time, as Search names it
    # A search result's record as the listing names its members (a Model's: its `Model`)
    unwrap: Callable[[Record], Record] | None = None


@dataclass(frozen=True)
class Listing:
    kind: Kind
    operation: str  # the List call, as errors and progress name it
    # client -> pages of summaries, in ascending CreationTime (Search's records are paired
    # with them in that order)
    pages: Callable[[Any], Iterator[list[Summary]]]
    arn: str  # the summary member naming the resource (one item per resource and account)
    # client, summary -> the staged document; None: the summary is all there is to read
    fetch: Fetch | None = None
    fetch_operation: str = ""  # the first call of `fetch`, as errors name it
    document: Callable[[Summary], Document] | None = None  # when `fetch` is None
    keep: Callable[[Summary, str], bool] = _everything  # summary, account id -> listed here?
    search: Searched | None = None  # None: every item is fetched, whatever the mode
