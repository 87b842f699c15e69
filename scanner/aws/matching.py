"""Pairing listed resources with their Search records, and when a record cannot be used.

Both arrive in ascending CreationTime (scanner.aws.search, the listings' SortBy), so the
pairing is a merge: a record is held only until the listing has passed its creation time.
Memory holds the records of one creation instant, however large the registry. Records out
of that order, or missing (Search lags behind new resources), pair with nothing, and the
resource is described instead: correct either way, only slower.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from scanner.aws.listing import Record, Searched, Summary

CREATED = "CreationTime"


class Matcher:
    def __init__(self, records: Iterator[Record], arn: str) -> None:
        self._records = records
        self._arn = arn
        self._head: Record | None = None
        self._done = False
        self._held: dict[str, Record] = {}

    def record_for(self, summary: Summary) -> Record | None:
        """The record of a listed resource, if Search returned one; call in listing order."""
        created = summary.get(CREATED)
        while not self._done:
            if self._head is None:
                self._head = next(self._records, None)
                if self._head is None:
                    self._done = True
                    break
            if created is not None and _after(self._head.get(CREATED), created):
                break
            self._held[self._head.get(self._arn, "")] = self._head
            self._head = None
        record = self._held.pop(summary[self._arn], None)
        if created is not None:  # no later summary is older: earlier records cannot pair
            for arn in [a for a, r in self._held.items() if _after(created, r.get(CREATED))]:
                del self._held[arn]
        return record


def _after(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and a > b


def stale(
    searched: Searched, summary: Summary, record: Record | None, stored: dict[str, Any] | None
) -> str | None:
    """Why a record cannot fill the resource's row (None: it can): absent, contradicted by
    the listing, or older than what a previous scan stored."""
    if record is None:
        return "not in Search's results yet"
    for member in searched.agree:
        if summary.get(member) != record.get(member):
            return f"Search's record disagrees with the listing on {member}"
    if searched.modified is not None and stored:
        before = stored.get(searched.modified)
        after = record.get(searched.modified)
        if before is not None and (after is None or after < before):
            return f"Search's record is older than the stored one ({searched.modified})"
    return None
