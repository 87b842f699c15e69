"""How a resource kind is collected: which listings say what exists and how each listed
item becomes the document the store stages. Each get module declares its listings; the
collector runs them all, whatever the kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from scanner.kinds import Kind

Summary = dict[str, Any]
Document = dict[str, Any]
Fetch = Callable[[Any, Summary], Document]  # client, summary -> the staged document


def _everything(_summary: Summary, _account_id: str) -> bool:
    return True


@dataclass(frozen=True)
class Listing:
    kind: Kind
    operation: str  # the List call, as errors and progress name it
    pages: Callable[[Any], Iterator[list[Summary]]]  # client -> pages of summaries
    arn: str  # the summary member naming the resource (one item per resource and account)
    # client, summary -> the staged document; None: the summary is all there is to read
    fetch: Fetch | None = None
    fetch_operation: str = ""  # the first call of `fetch`, as errors name it
    document: Callable[[Summary], Document] | None = None  # when `fetch` is None
    keep: Callable[[Summary, str], bool] = _everything  # summary, account id -> listed here?
