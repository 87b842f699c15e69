"""Pages read one ahead (scanner.prefetch): the same pages in the same order, no more
than one read before the consumer asks, errors where their page would be, and a consumer
that stops stops the reader."""

from __future__ import annotations

import threading
import time

import pytest

from scanner.prefetch import prefetched


class Pages:
    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.read = 0
        self.done = threading.Event()

    def __iter__(self):
        try:
            for n in range(self.count):
                if n == self.fail_at:
                    raise RuntimeError(f"page {n} refused")
                self.read += 1
                yield [n]
        finally:
            self.done.set()


def settle(pages: Pages, read: int) -> None:
    deadline = time.monotonic() + 5
    while pages.read < read and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # long enough for a reader that would read further to do so


def test_the_same_pages_in_order_and_at_most_one_ahead():
    pages = Pages(5)
    got = []
    for page in prefetched(pages):
        settle(pages, min(page[0] + 2, 5))
        assert pages.read <= page[0] + 2  # this page, and the next one at most
        got.append(page)
    assert got == [[0], [1], [2], [3], [4]]
    assert list(prefetched(Pages(0))) == []


def test_an_error_is_raised_where_its_page_would_be():
    got = []
    with pytest.raises(RuntimeError, match="page 2 refused"):
        for page in prefetched(Pages(5, fail_at=2)):
            got.append(page)
    assert got == [[0], [1]]


def test_a_consumer_that_stops_stops_the_reader():
    pages = Pages(100)
    for page in prefetched(pages):
        if page == [1]:
            break
    assert pages.done.wait(5)  # the reader has left the iterator
    assert pages.read <= 3
