"""Pages read one ahead: the next page's call is in flight while this page is used.

A listing thread in search mode reads two chains of pages (the listing and Search's
records) and works through each page before it asks for the next: read in turn, every
call's latency adds up. Here each chain is read by a thread of its own, at most `ahead`
pages before the consumer, so that no more pages are read than the consumer asks for,
plus those ahead; a consumer that stops (a failed region, the listing at its end) stops
the reader after the call it is making.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_POLL = 0.1  # seconds between looks at whether the consumer has stopped
_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(pages: Iterable[T], *, ahead: int = 1, name: str = "mpscan-prefetch") -> Iterator[T]:
    """The pages of `pages`, each read (by a thread of its own) while the consumer works
    through the one before it; an error reading a page is raised where that page would be."""
    wanted = threading.Semaphore(ahead)  # pages the reader may read before they are taken
    ready: queue.SimpleQueue = queue.SimpleQueue()
    stopped = threading.Event()

    def read() -> None:
        try:
            iterator = iter(pages)
            while True:
                while not wanted.acquire(timeout=_POLL):
                    if stopped.is_set():
                        return
                if stopped.is_set():
                    return
                page = next(iterator, _END)
                ready.put(page)
                if page is _END:
                    return
        except BaseException as exc:  # raised in the consumer, with its traceback
            ready.put(_Failed(exc))

    reader = threading.Thread(target=read, name=name, daemon=True)
    reader.start()
    try:
        while True:
            page = ready.get()
            if page is _END:
                return
            if isinstance(page, _Failed):
                raise page.error
            wanted.release()
            yield page
    finally:
        stopped.set()
