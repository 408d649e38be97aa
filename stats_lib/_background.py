"""Run a generator on a background thread, a few items ahead of its consumer.

``ahead(items)`` lets a producer (the log parser: Arrow kernels that release the GIL) work on the next batch
while the caller enriches and writes the current one, so the two overlap on a machine with more than one core.
At most ``depth`` items wait in between (bounded memory); items keep their order; an exception in the producer
is raised in the consumer, at the point where its item would have come; and when the consumer stops early
(an error, a ``break``, Ctrl-C), the producer is told to stop and is joined.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of ``items``, produced on a background thread up to ``depth`` items ahead."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_Failed(exc))
            return
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # a generator stopped early runs its clean-up here (open files)
        put(_END)

    worker = threading.Thread(target=produce, name="site-stats-parse", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join()
