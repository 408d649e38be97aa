"""The write-ahead log: an accepted event is on disk (written and fsynced) before it is answered 202.

A segment is a file ``<folder>/<name>.wal`` of JSON lines, one line per event (``store.WAL_SCHEMA``).
Concurrent requests share one synchronous write (``GroupCommit``; the file is ``O_DSYNC``: a write returns once
it is on disk, like write + ``fdatasync``): while one batch is being written, the next requests gather behind it. A segment is sealed when it is old or full enough; sealed segments are
moved into the warehouse by the sink, which deletes a segment only once its Parquet files and ledger record are
in place. Segments left by a crashed process are sealed segments for the next one. A line cut short by a crash
was never answered (its write had not returned), so readers skip a torn last line, and stop at the first zero
byte (space reserved ahead and not written yet: ``Segment``).

The segments hold no raw IP (what needs the full address is computed before they are written: ``store``) and are
private to their owner (0600).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..dates import utc_stamp
from ..warehouse.local import _fsync  # works on a folder too: makes a new file's name durable

SUFFIX = ".wal"
MAX_BATCH = 2000  # events per group commit
PREALLOCATE = 4 << 20  # bytes a segment's reserved space grows by (about 10,000 events)


@dataclass
class Segment:
    """One open segment. Its space is reserved ahead (``PREALLOCATE`` bytes at a time, zeros until written), so
    a group commit overwrites reserved space: the synchronous write then flushes data, not the file system's
    journal (growing a file is a metadata change that waits for every other file's pending changes: on a busy
    disk that is where the slow commits come from). Readers stop at the first zero byte."""

    path: Path
    fd: int
    opened: float  # monotonic
    events: int = 0
    size: int = 0  # bytes of records written
    reserved: int = 0  # bytes reserved on disk (zeros past ``size``)

    @property
    def name(self) -> str:
        return self.path.stem

    def write(self, data: bytes) -> None:
        """Write ``data`` after the records durably: the file is opened ``O_DSYNC``, so a ``write`` returns once
        its bytes are on disk, as ``write`` + ``fdatasync`` would, in one system call (one release of the GIL).
        A write that fails is zeroed again, so no half line is left for the next batch to follow."""
        end = self.size + len(data)
        if end > self.reserved:
            self._reserve(max(PREALLOCATE, end - self.reserved))
        at = self.size
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(self.fd, view, at)
                view, at = view[written:], at + written
        except OSError:  # zeros over all of it: a synchronous write that failed (EIO) may still have left its bytes
            with contextlib.suppress(OSError):  # if this fails too, the reader keeps the damaged line as a reject
                os.pwrite(self.fd, bytes(len(data)), self.size)
            raise
        self.size = end

    def _reserve(self, more: int) -> None:
        try:
            os.posix_fallocate(self.fd, self.reserved, more)
            os.fsync(self.fd)  # the new size is on disk before anything is written into it
            self.reserved += more
        except OSError:  # a file system without fallocate: the writes grow the file as they go
            self.reserved = 1 << 62

    def close(self) -> None:
        """Give back the reserved space past the records, and close."""
        with contextlib.suppress(OSError):  # not needed for correctness: readers stop at the first zero byte
            os.ftruncate(self.fd, self.size)
        os.close(self.fd)


class WriteAheadLog:
    """Segments in a private folder; ``append`` is called by one writer thread at a time (``GroupCommit``)."""

    def __init__(self, folder: Path, *, max_events: int, max_seconds: float,
                 on_sealed: Callable[[Path], None]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self.max_events = max(1, max_events)
        self.max_seconds = max_seconds
        self.on_sealed = on_sealed
        self._current: Segment | None = None
        self._lock = threading.Lock()

    def leftovers(self) -> list[Path]:
        """Segments written by an earlier process (before this one appended anything): to be flushed first."""
        current = self._current.path if self._current else None
        return sorted(p for p in self.folder.glob(f"*{SUFFIX}") if p != current)

    def append(self, data: bytes, count: int) -> None:
        """Write ``data`` (``count`` events) durably, then seal the segment if it is full."""
        with self._lock:
            segment = self._current or self._open()
            segment.write(data)
            segment.events += count
            if segment.events >= self.max_events:
                self._seal()

    def seal_if_due(self) -> None:
        """Seal the current segment when it holds events and is older than ``max_seconds``."""
        with self._lock:
            segment = self._current
            if segment is not None and segment.events and time.monotonic() - segment.opened >= self.max_seconds:
                self._seal()

    def seal(self) -> None:
        with self._lock:
            if self._current is not None:
                self._seal()

    def _open(self) -> Segment:
        path = self.folder / f"collector-{utc_stamp()}-{secrets.token_hex(4)}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_DSYNC, 0o600)
        _fsync(self.folder)  # the new file's name survives a crash
        self._current = Segment(path, fd, time.monotonic())
        return self._current

    def _seal(self) -> None:
        segment, self._current = self._current, None
        assert segment is not None  # only called with a segment open
        segment.close()
        if segment.events:
            self.on_sealed(segment.path)
        else:
            segment.path.unlink(missing_ok=True)


class GroupCommit:
    """Concurrent ``submit(item)``s gathered into batches for ``write(items)``, which runs on one writer thread,
    one batch at a time: while a batch is being written (and fsynced, without the GIL) the next one gathers on
    the event loop, and starts the moment the last one is done. Each ``submit`` returns once its batch is
    written, or raises the batch's error. Two thread hand-offs per batch, none per event."""

    def __init__(self, write: Callable[[list], None], *, max_batch: int = MAX_BATCH) -> None:
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[object, asyncio.Future]] = []
        self._writing = False
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="wal-writer")

    async def submit(self, item: object) -> None:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((item, future))
        if not self._writing:
            self._start(loop)
        await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: hand the gathered items to the writer thread."""
        batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
        self._writing = True
        written = loop.run_in_executor(self._writer, self._write, [item for item, _ in batch])
        written.add_done_callback(lambda done: self._written(loop, batch, done))

    def _written(self, loop: asyncio.AbstractEventLoop, batch: list, done: asyncio.Future) -> None:
        """On the loop, when a batch is written: start the next one first (its write begins now), then answer."""
        self._writing = False
        if self._pending:
            self._start(loop)
        error = RuntimeError("the write-ahead log was closed") if done.cancelled() else done.exception()
        _settle(batch, error)

    def close(self) -> None:
        self._writer.shutdown(wait=True)


def _settle(batch: list[tuple[object, asyncio.Future]], error: BaseException | None) -> None:
    for _, future in batch:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
