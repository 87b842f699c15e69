"""Pages read one ahead: the next page's call is in flight while this page is used.

AWS: a listing thread in search mode reads two chains of pages (the listing and Search's
records) and works through each page before it asks for the next: read in turn, every
call's latency adds up. Here the next page of each chain is read by a thread of a shared
pool while the consumer works through this one: exactly one page ahead, so no page is read
that the consumer would not have asked for but the one after where it stops (a failed
region, a listing at its end). The pool's threads outlive a region: an organisation's
thousands of small regions (one page each) do not each start threads of their own.
PostgreSQL: the judge's FETCHes from its server-side cursor (scanner.rules.evaluate), so
the server makes the next rows while these are judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")
_END = object()
# At most one read in flight per chain; more chains than threads wait their turn.
_READERS = ThreadPoolExecutor(64, thread_name_prefix="mpscan-page-ahead")


def prefetched(pages: Iterable[T]) -> Iterator[T]:
    """The pages of `pages`, each read (by the pool) while the consumer works through the
    one before it; an error reading a page is raised where that page would be."""
    iterator = iter(pages)
    ahead = _READERS.submit(next, iterator, _END)
    while True:
        page = ahead.result()
        if page is _END:
            return
        ahead = _READERS.submit(next, iterator, _END)
        yield cast(T, page)
