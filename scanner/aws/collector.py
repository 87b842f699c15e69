"""Collect one account and region: list pages feed describe and tag calls as they arrive.

Every listing the get modules declare (scanner.aws.LISTINGS: packages, own groups, shared
groups) runs in its own thread while a bounded pool
describes and tags what has been listed so far. A semaphore bounds the work in flight, so
memory stays flat however large the registry is. Each finished resource goes to `emit`
(the store's writer) at once; nothing is accumulated here.
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
from scanner.aws.listing import Fetch, Listing
from scanner.aws.session import ClientFactory
from scanner.kinds import Kind
from scanner.stages import Halt, Progress, RegionOutcome, Status, to_json

Emit = Callable[[str, str, str, dict[str, Any]], None]
# Queues a call on the region's pool: (operation, function, its arguments...)
Submit = Callable[..., None]
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
    ) -> None:
        self.factory = factory
        self.account_id = account_id
        self.region = region
        self.label = label or region  # how progress names it ("account region" when many)
        self.emit = emit
        self.concurrency = concurrency
        self.progress = progress or Progress()
        self.outcome = RegionOutcome(account_id, region)
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

    def _list(self, listing: Listing, submit: Submit) -> None:
        client = self._client()
        fetch, document = listing.fetch, listing.document
        for summary in self._pages(listing.pages(client), listing.kind.name):
            if not listing.keep(summary, self.account_id):
                continue
            if not self._claim(listing.kind.name, summary[listing.arn]):
                continue  # listed already (a group both owned and shared)
            if fetch is not None:
                submit(listing.fetch_operation, self._collect, listing.kind, fetch, summary)
            elif document is not None:
                self._emit(listing.kind, document(summary))
            else:
                raise TypeError(f"{listing.operation}: its Listing declares no fetch or document")

    def _collect(self, kind: Kind, fetch: Fetch, summary: dict[str, Any]) -> None:
        self._emit(kind, fetch(self._client(), summary))

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
