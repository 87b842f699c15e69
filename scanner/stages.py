"""What the stages hand each other: resource kinds, the statuses of scans and regions, a
region's outcome, the JSON form of a response, and the progress interface. It imports
nothing of mpscan's, so get (scanner.aws), transform and load (scanner.store) can all depend
on it and on nothing downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

PACKAGE = "model_package"
# A finding's severities, most severe first: rules, the store's counts and the reports
# all order by this one tuple.
SEVERITIES = ("critical", "high", "medium", "low", "info")
GROUP = "model_package_group"


class Status(StrEnum):
    """The one vocabulary of a scan's status (`scans.status`) and a region's
    (`scan_regions.status`, `RegionOutcome.status`). Members equal their text, which is
    what the database holds and what the JSON output and reports show."""

    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"  # a scan's only: some regions complete, some not
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    NEVER = "never"  # a region `mpscan status` expects and no scan finished; never stored


@dataclass
class RegionOutcome:
    account_id: str
    region: str
    status: str = Status.COMPLETE  # or FAILED, or INTERRUPTED (error_kind "interrupted" too)
    packages: int = 0
    groups: int = 0
    models: int = 0
    endpoint_configs: int = 0
    endpoints: int = 0
    model_cards: int = 0
    vanished: int = 0
    added: int = 0  # set by the store when the region is promoted
    removed: int = 0
    error_kind: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    # How records were read: "search" (Search, describing what it lagged on) or "describe";
    # collect_note says why a region asked for search was described instead.
    collect: str = "describe"
    collect_note: str | None = None
    searched: int = 0  # resources filled from Search's records
    described: int = 0  # resources read by describe calls (in search mode: lagging or stale)


class Halt(Exception):
    """A later stage failed (the store's writer): the collectors stop without blaming AWS
    or logging a bug; the scan reports the stage's own error."""


class Progress:
    """What the collector reports; the CLI draws it, tests and services ignore it."""

    def listed(self, region: str, kind: str, count: int) -> None: ...

    def collected(self, region: str, kind: str) -> None: ...

    def status(self, text: str) -> None:
        """What the scan is waiting for, when the wait is long enough to be noticed."""


# What no engine holds as text: PostgreSQL's text and jsonb refuse NUL, SQLite's string
# functions stop at it, and neither stores a lone UTF-16 surrogate (which a JSON escape
# such as \ud800 decodes to). Each becomes U+FFFD, the Unicode replacement character, so the
# rest of the value is stored whole and stays searchable with LIKE (docs/schema.md).
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """`text` with NUL and lone surrogates replaced by U+FFFD; anything else unchanged."""
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # a pair held as two code points becomes its character; a lone one, one U+FFFD
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def to_json(value: Any) -> Any:
    """A response as JSON-ready data: timestamps become ISO 8601 with their offset, text
    becomes storable on every engine (see `storable`)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {to_json(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
