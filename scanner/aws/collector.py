"""Collect one account and region: list pages feed the calls that fill each record.

Every listing the get modules declare (scanner.aws.LISTINGS: packages, own groups, shared
groups) runs in its own thread while a bounded pool fills what has been listed so far. A
semaphore bounds the work in flight, so memory stays flat however large the registry is.
Each finished resource goes to `emit` (the store's writer) at once; nothing is accumulated
here.

Each chain of pages (a listing, Search's records) is read one page ahead of its use
(scanner.prefetch), so a page's call does not wait for the previous page's work.

Two collection modes (`[scan] collect`). `describe`: each listed resource is described and
its tags listed. `search` (the default): Search's records, 100 a call, are paired with the
listing as both arrive (scanner.aws.matching); a resource Search lags on, answers stale, or
answers older than the stored row is described as in the other mode. A region where
Search fails (denied, say) is described whole, and its outcome says why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.exceptions

from scanner import aws
from scanner.aws.errors import classify, describe_error, error_code
from scanner.aws.listing import Fetch, Listing, Record, Summary
from scanner.aws.matching import Matcher, stale
from scanner.aws.search import search_records
from scanner.aws.session import ClientFactory
from scanner.kinds import Kind
from scanner.prefetch import prefetched
from scanner.stages import Halt, Progress, RegionOutcome, Status, to_json

Emit = Callable[[str, str, str, dict[str, Any]], None]
# Queues a call on the region's pool: (operation, function, its arguments...)
Submit = Callable[..., None]
# kind, account id, ARNs -> for each stored one, the members search mode needs from its row
# (the kind's `search_lacks` and the record's last-modified member), by member name
Known = Callable[[Kind, str, list[str]], dict[str, dict[str, Any]]]
SETTLE = 100  # listed resources whose stored rows are read in one query
log = logging.getLogger(__name__)


class RegionCollector:
    def __init__(
        self,
        factory: ClientFactory,
        account_id: str,
        region: str,
        emit: Emit,
        *,
        concurrency: int,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        label: str | None = None,
        collect: str = "search",
        known: Known | None = None,
    ) -> None:
        self.factory = factory
        self.account_id = account_id
        self.region = region
        self.label = label or region  # how progress names it ("account region" when many)
        self.emit = emit
        self.concurrency = concurrency
        self.progress = progress or Progress()
        self.outcome = RegionOutcome(account_id, region, collect=collect)
        self._known = known
        self._search_off = threading.Event()  # Search failed here: describe the rest
        self._stop = stop or threading.Event()
        self._failed = threading.Event()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency * 4)
        self._seen: set[tuple[str, str]] = set()  # (kind, ARN) listed in this region

    def _client(self) -> Any:  # a boto3 SageMaker client
        return self.factory.client("sagemaker", self.region)

    def _halted(self) -> bool:
        return self._failed.is_set() or self._stop.is_set()

    def _fail(self, exc: BaseException, operation: str, kind: str | None = None) -> None:
        with self._lock:
            if self._failed.is_set():
                return
            self.outcome.status = Status.FAILED
            self.outcome.error_kind = kind or classify(exc, operation=operation)
            self.outcome.error_code = error_code(exc)
            self.outcome.error_message = describe_error(exc)
            self._failed.set()

    def _guard(self, operation: str, fn: Callable[..., None], *args: Any) -> None:
        if self._halted():
            return
        try:
            fn(*args)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            # Only an item may vanish; a listing cut short must fail the region, or the
            # packages it did not reach would be pruned.
            listing = operation.startswith("List")
            if not listing and classify(exc, operation=operation) == "gone":
                with self._lock:
                    self.outcome.vanished += 1
                return
            self._fail(exc, operation)
        except Halt as exc:
            self._fail(exc, operation, kind="store")
        except Exception as exc:  # a bug: fail the region loudly, with its traceback
            log.error(
                "region %s of account %s failed by an internal error during %s "
                "(please report it with this traceback)",
                self.region,
                self.account_id,
                operation,
                exc_info=True,
                extra={"account_id": self.account_id, "region": self.region},
            )
            self._fail(exc, operation, kind="internal")
        except BaseException as exc:
            self._fail(exc, operation)
            raise

    def run(self) -> RegionOutcome:
        with ThreadPoolExecutor(self.concurrency, f"mpscan-{self.region}") as pool:

            def submit(operation: str, fn: Callable[..., None], *args: Any) -> None:
                self._slots.acquire()
                future = pool.submit(self._guard, operation, fn, *args)
                future.add_done_callback(lambda _: self._slots.release())

            listings = aws.LISTINGS
            with ThreadPoolExecutor(len(listings), f"mpscan-{self.region}-list") as lister_pool:
                for listing in listings:
                    lister_pool.submit(self._guard, listing.operation, self._list, listing, submit)
            # Each pool's exit waits for its work: the listings, then every call they submitted.
        if self._stop.is_set() and not self._failed.is_set():
            self.outcome.status = Status.INTERRUPTED
            self.outcome.error_kind = "interrupted"
            self.outcome.error_message = "scan interrupted"
        return self.outcome

    def _pages(self, pages: Iterable[list[dict[str, Any]]], kind: str) -> Iterator[dict[str, Any]]:
        for page in pages:
            if self._halted():
                return
            log.debug("%s: listed a page of %d %s", self.region, len(page), kind)
            self.progress.listed(self.label, kind, len(page))
            yield from page

    def _listed(self, listing: Listing, client: Any) -> Iterator[Summary]:
        for summary in self._pages(prefetched(listing.pages(client)), listing.kind.name):
            if listing.keep(summary, self.account_id) and self._claim(
                listing.kind.name, summary[listing.arn]
            ):  # (not listed already: a group both owned and shared)
                yield summary

    def _list(self, listing: Listing, submit: Submit) -> None:
        client = self._client()
        if listing.search is not None and self.outcome.collect == "search":
            self._list_searched(listing, client, submit)
            return
        for summary in self._listed(listing, client):
            if listing.fetch is not None:
                self._fetch(listing, summary, submit)
            elif listing.document is not None:
                self._emit(listing.kind, listing.document(summary))
            else:
                raise TypeError(f"{listing.operation}: its Listing declares no fetch or document")

    def _fetch(self, listing: Listing, summary: Summary, submit: Submit) -> None:
        assert listing.fetch is not None
        with self._lock:
            self.outcome.described += 1
        submit(listing.fetch_operation, self._collect, listing.kind, listing.fetch, summary)

    def _list_searched(self, listing: Listing, client: Any, submit: Submit) -> None:
        matcher = Matcher(self._records(listing, client), listing.arn)
        batch: list[tuple[Summary, Record | None]] = []
        for summary in self._listed(listing, client):
            batch.append((summary, matcher.record_for(summary)))
            if len(batch) >= SETTLE:
                self._settle(listing, batch, submit)
                batch = []
        self._settle(listing, batch, submit)

    def _records(self, listing: Listing, client: Any) -> Iterator[Record]:
        """The kind's Search records, until Search fails here (then none: all described)."""
        if self._search_off.is_set():
            return
        assert listing.search is not None
        unwrap, sort_by = listing.search.unwrap, listing.search.sort_by
        try:
            for page in prefetched(search_records(client, listing.kind.search, sort_by)):
                if self._halted() or self._search_off.is_set():
                    return
                log.debug("%s: searched a page of %d %s", self.region, len(page), listing.kind)
                yield from (page if unwrap is None else [unwrap(r) for r in page])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._search_failed(listing, exc)

    def _search_failed(self, listing: Listing, exc: BaseException) -> None:
        with self._lock:
            first = not self._search_off.is_set()
            self._search_off.set()
            if first:
                self.outcome.collect = "describe"
                self.outcome.collect_note = (
                    f"Search {listing.kind.search}: {classify(exc, operation='Search')} "
                    f"({describe_error(exc)}); described instead"
                )
        if first:
            log.info(
                "%s of account %s: %s",
                self.region,
                self.account_id,
                self.outcome.collect_note,
                extra={"account_id": self.account_id, "region": self.region},
            )

    def _settle(
        self, listing: Listing, batch: list[tuple[Summary, Record | None]], submit: Submit
    ) -> None:
        """Fill each listed resource from its record, or describe it where the record
        cannot be used."""
        assert listing.search is not None
        kind = listing.kind
        found = [summary[listing.arn] for summary, record in batch if record is not None]
        stored = self._known(kind, self.account_id, found) if self._known and found else {}
        for summary, record in batch:
            arn = summary[listing.arn]
            why = stale(listing.search, summary, record, stored.get(arn))
            if why is not None:  # (record is None too: Search lags, or failed here)
                if not self._search_off.is_set():  # a failed Search is said once, not per item
                    log.debug("%s: %s: %s, described", self.region, arn, why)
                self._fetch(listing, summary, submit)
                continue
            assert record is not None
            with self._lock:
                self.outcome.searched += 1
            kept = {m: v for m, v in (stored.get(arn) or {}).items() if m in kind.search_lacks}
            submit(listing.search.fill_operation, self._fill, listing, summary, record, kept)

    def _fill(self, listing: Listing, summary: Summary, record: Record, kept: dict) -> None:
        """A resource from its Search record; the members Search lacks keep the values its
        last describe stored (docs/schema.md: describe-only)."""
        assert listing.search is not None
        document = listing.search.document(self._client(), summary, record)
        if kept and "describe" in document:
            document["describe"] = {**kept, **document["describe"]}
        document["via"] = "search"
        self._emit(listing.kind, document)

    def _collect(self, kind: Kind, fetch: Fetch, summary: dict[str, Any]) -> None:
        document = fetch(self._client(), summary)
        document["via"] = "describe"
        self._emit(kind, document)

    def _claim(self, kind: str, arn: str) -> bool:
        with self._lock:
            if (kind, arn) in self._seen:
                return False
            self._seen.add((kind, arn))
            return True

    def _emit(self, kind: Kind, document: dict[str, Any]) -> None:
        self.emit(kind.name, self.account_id, self.region, to_json(document))
        with self._lock:
            setattr(self.outcome, kind.counted_as, getattr(self.outcome, kind.counted_as) + 1)
        self.progress.collected(self.label, kind.name)
