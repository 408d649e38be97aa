"""The warehouse lock: one writer at a time on a local warehouse (ingest, prune, forget).

An OS file lock (``fcntl.flock``, exclusive) on ``<warehouse>/_lock``. The holder writes who it is (pid, host,
start time, command) into the file, so a second run can say for whom it waits; it waits up to
``Settings.lock_timeout_seconds`` (env ``SITE_STATS_LOCK_TIMEOUT``) and then fails with ``WarehouseLocked``.
The kernel releases the lock when its holder dies, even by ``kill -9``: there is no stale lock to clean up.

Under the lock the start-up clean-up of temporary files cannot hit a live writer (every writer holds it);
temporary names also carry the writer's host and pid, and a temporary file of a process that is still alive on
this host is never deleted (a belt to those braces).

An S3 warehouse has no lock here: its writes are made safe by conditional writes (the ``aws`` helper's layer);
``NoLock`` stands in for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..dates import utc_timestamp
from ..errors import WarehouseLocked

LOCK_NAME = "_lock"


def _say(message: str) -> None:
    print(f"site-stats: {message}", file=sys.stderr, flush=True)


def holder_text(info: dict) -> str:
    """'pid 123 on host h since 2026-12-01T09:00:00+00:00 (ingest)' from a lock file's record."""
    if not info:
        return "another run (it did not say who it is)"
    what = f" ({info['command']})" if info.get("command") else ""
    return f"pid {info.get('pid', '?')} on host {info.get('host', '?')} since {info.get('started', '?')}{what}"


class WarehouseLock:
    """An exclusive lock on a local warehouse folder; use as a context manager."""

    def __init__(self, root: str | Path, *, timeout: float = 600.0, command: str = "",
                 notify: Callable[[str], None] = _say, poll: float = 0.1) -> None:
        self.path = Path(root) / LOCK_NAME
        self.timeout = timeout
        self.command = command
        self.notify = notify
        self.poll = poll
        self._fd: int | None = None

    def holder(self) -> dict:
        """What the current holder wrote about itself ({} when unknown)."""
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not _try_lock(fd):
                self.notify(f"waiting for the warehouse lock held by {holder_text(self.holder())} "
                            f"(up to {self.timeout:g}s)")
                deadline = time.monotonic() + self.timeout
                delay = self.poll
                while not _try_lock(fd):
                    if time.monotonic() >= deadline:
                        raise WarehouseLocked(
                            f"the warehouse {self.path.parent} is still locked by {holder_text(self.holder())} "
                            f"after {self.timeout:g}s",
                            "wait for that run to finish, or raise SITE_STATS_LOCK_TIMEOUT")
                    time.sleep(delay)
                    delay = min(delay * 1.5, 1.0)
            me = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                  "started": utc_timestamp()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WarehouseLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def NoLock() -> Iterator[None]:  # noqa: N802 - stands where a WarehouseLock would
    """The lock of a warehouse that needs none here (S3: conditional writes keep it consistent)."""
    yield


# -- temporary files ----------------------------------------------------------------------------------------
def tmp_tag() -> str:
    """The part of a temporary file name that says whose it is: '<host>.<pid>'."""
    return f"{socket.gethostname().replace('.', '_')}.{os.getpid()}"


def is_live_tmp(path: Path) -> bool:
    """Whether ``path`` (``<name>.<host>.<pid>.tmp``) belongs to a process still running on this host."""
    parts = path.name.split(".")
    if len(parts) < 4 or not parts[-2].isdigit():
        return False
    host, pid = parts[-3], int(parts[-2])
    if host != socket.gethostname().replace(".", "_") or pid == os.getpid():
        return False
    return _running(pid)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs; a zombie (ended, its exit status not yet collected) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (not Linux): running, as far as can be told
        return True
    return stat[stat.rindex(")") + 2] != "Z"
