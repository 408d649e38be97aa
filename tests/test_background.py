"""The background producer that lets parsing overlap enrichment: order, errors, early stops."""

from __future__ import annotations

import threading
import time

import pytest

from stats_lib._background import ahead


def test_items_come_in_order_from_another_thread():
    threads = []

    def produce():
        for i in range(50):
            threads.append(threading.current_thread().name)
            yield i

    assert list(ahead(produce(), depth=3)) == list(range(50))
    assert set(threads) == {"site-stats-parse"}


def test_a_producer_error_is_raised_where_its_item_would_have_come():
    def produce():
        yield 1
        yield 2
        raise ValueError("line 3 is not a log line")

    got = []
    with pytest.raises(ValueError, match="line 3"):
        for item in ahead(produce()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_producer_and_bounds_what_it_made():
    made = []

    def produce():
        for i in range(10_000):
            made.append(i)
            yield i

    def workers() -> int:
        return sum(t.name == "site-stats-parse" for t in threading.enumerate())

    before = workers()
    items = ahead(produce(), depth=2)
    assert next(items) == 0
    assert workers() == before + 1
    time.sleep(0.2)  # the producer runs ahead, but only ``depth`` items (plus the one it holds)
    assert len(made) <= 4
    items.close()  # what a `break` or an exception in the consumer does
    assert workers() == before
    assert len(made) <= 4


def test_a_kept_thread_serves_call_after_call_and_survives_errors_and_early_stops():
    """``pool=``: every call's items come in order from the one kept thread, which outlives an error and an
    early stop (after which the source has been closed, with nothing of it left running)."""
    from stats_lib._background import parse_thread

    seen: list[int] = []
    closed: list[str] = []

    def produce(n: int, fail_at: int | None = None):
        try:
            for i in range(n):
                if i == fail_at:
                    raise ValueError(f"bad item {i}")
                seen.append(threading.get_ident())
                yield i
        finally:
            closed.append("closed")

    with parse_thread() as pool:
        assert list(ahead(produce(20), pool=pool)) == list(range(20))
        with pytest.raises(ValueError, match="bad item 3"):
            list(ahead(produce(10, fail_at=3), pool=pool))
        early = ahead(produce(10_000), depth=2, pool=pool)
        assert next(early) == 0
        early.close()
        assert closed == ["closed"] * 3
        assert list(ahead(produce(5), pool=pool)) == list(range(5))
    assert len(set(seen)) == 1 and seen[0] != threading.get_ident()
