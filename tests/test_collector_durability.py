"""An event answered 202 is never lost, and stored exactly once: SIGKILL during a burst, crashes between the steps
of moving a WAL segment into Parquet, and a write cut short by a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import json
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from collector_support import CHROME_UA, CollectorServer, stored, wait_until
from ip_scan import assert_no_raw_ip

from stats_lib.collector.sinks import LocalSink
from stats_lib.collector.store import raw_row
from stats_lib.config import Settings


def test_sigkill_during_a_burst_loses_no_accepted_event(tmp_path):
    warehouse = tmp_path / "warehouse"
    env = {"SITE_STATS_COLLECTOR_FLUSH_EVENTS": "60", "SITE_STATS_COLLECTOR_FLUSH_SECONDS": "0.3"}
    server = CollectorServer(warehouse, **env).start()
    accepted: list[int] = []
    sent: list[int] = []
    lock = threading.Lock()
    counter = iter(range(1_000_000))
    stop = threading.Event()

    def client(worker: int) -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
                sent.append(n)
            try:
                answer = server.send({"name": "burst", "url": f"https://example.com/burst/{worker}",
                                      "props": {"n": n}}, source=f"127.0.{10 + worker}.1")
            except OSError:  # the server is gone
                return
            if answer.status == 202:
                with lock:
                    accepted.append(n)

    with ThreadPoolExecutor(16) as pool:
        for worker in range(16):
            pool.submit(client, worker)
        wait_until(lambda: len(accepted) >= 600, "600 accepted events")
        server.kill()  # SIGKILL while the clients are still sending
        stop.set()
    wal_left = sorted((warehouse / "_wal").glob("*.wal"))
    assert wal_left, "the kill should leave events in the write-ahead log"

    restarted = CollectorServer(warehouse, **env)
    restarted.port = server.port
    with restarted:  # start-up moves the dead process's segments into the warehouse; SIGTERM flushes the rest
        pass
    assert list((warehouse / "_wal").glob("*.wal")) == []
    rows = stored(warehouse, "event_name = 'burst'")
    numbers = [json.loads(r["props"])["n"] for r in rows]
    print(f"kill test: sent {len(sent)}, answered 202 {len(accepted)}, stored {len(numbers)}, "
          f"WAL segments left by the kill {len(wal_left)}")
    assert len(numbers) == len(set(numbers)), "an event was stored twice"
    assert set(accepted) <= set(numbers), f"{len(set(accepted) - set(numbers))} accepted events were lost"
    assert set(numbers) <= set(sent)


@pytest.fixture
def sink_settings(tmp_path) -> Settings:
    return Settings.from_env(warehouse=str(tmp_path / "warehouse"), progress=False, sites=("example.com",),
                             collector_flush_seconds=3600.0, collector_flush_events=1_000_000)


def _accept(sink: LocalSink, paths: list[str]) -> None:
    """Submit events through the real group commit, as the app does."""
    async def run() -> None:
        now = dt.datetime(2026, 11, 30, 12, 0)
        await asyncio.gather(*(sink.submit(raw_row(
            ts=now, client_ip="81.2.69.142", site="example.com", path=path, query=None, referrer=None,
            user_agent=CHROME_UA, name="pageview", props={"i": i}, protocol="https")) for i, path in enumerate(paths)))

    asyncio.run(run())


def _restart(settings: Settings) -> None:
    """A new process's sink: start (recovery) and a clean stop."""
    again = LocalSink(settings)
    again.start()
    again.stop()


def _paths(settings: Settings) -> list[str]:
    return sorted(r["path"] for r in stored(Path(settings.warehouse)))


def test_group_commit_writes_concurrent_events_together(sink_settings):
    sink = LocalSink(sink_settings)
    _accept(sink, [f"/p{i}" for i in range(50)])
    segment = sink.wal._current
    assert segment is not None and segment.events == 50
    records = segment.path.read_bytes().rstrip(b"\0")  # the space reserved ahead holds zeros
    assert len(records.splitlines()) == 50 and b"\0" not in records  # one record per event...
    assert sink.batches < 50  # ... in fewer writes (and fsyncs) than events
    assert_no_raw_ip(segment.path, ips=["81.2.69.142"])  # only what the IP gives is in the WAL, never the IP
    assert oct(segment.path.stat().st_mode & 0o777) == "0o600"


def test_a_crash_before_the_ledger_record_is_repaired_exactly_once(sink_settings, monkeypatch):
    sink = LocalSink(sink_settings)
    _accept(sink, ["/a", "/b", "/c"])
    sink.wal.seal()
    segment = sink._sealed.get()
    with monkeypatch.context() as patch:  # the process dies after the Parquet file, before the ledger record
        patch.setattr(sink.house, "record_source", lambda *a: (_ for _ in ()).throw(OSError("killed")))
        with pytest.raises(OSError):
            sink.flush_segment(segment)
    assert segment.exists() and _paths(sink_settings) == ["/a", "/b", "/c"]
    _restart(sink_settings)  # the next start rewrites the same file: no duplicates
    assert not segment.exists()
    assert _paths(sink_settings) == ["/a", "/b", "/c"]


def test_a_crash_after_the_ledger_record_only_deletes_the_segment(sink_settings, tmp_path):
    sink = LocalSink(sink_settings)
    _accept(sink, ["/a", "/b"])
    sink.wal.seal()
    segment = sink._sealed.get()
    copy = tmp_path / "copy"
    shutil.copy(segment, copy)
    sink.flush_segment(segment)
    shutil.copy(copy, segment)  # as if the process died before deleting it
    _restart(sink_settings)
    assert not segment.exists()
    assert _paths(sink_settings) == ["/a", "/b"]


def test_a_torn_last_line_was_never_answered_and_is_skipped(sink_settings):
    sink = LocalSink(sink_settings)
    _accept(sink, ["/kept"])
    path = sink.wal._current.path
    with open(path, "ab") as fh:
        fh.write(b'{"events":[{"ts":1,"path":"/torn"')  # a write cut by a crash (its fsync never returned)
    _restart(sink_settings)
    assert _paths(sink_settings) == ["/kept"]


def test_a_segment_reserves_space_ahead_and_gives_it_back_when_sealed(sink_settings):
    sink = LocalSink(sink_settings)
    _accept(sink, ["/r"])
    segment = sink.wal._current
    assert segment.path.stat().st_size > segment.size > 0  # zeros past the record, written into, never appended
    sink.wal.seal()
    assert segment.path.stat().st_size == segment.size
    _restart(sink_settings)
    assert _paths(sink_settings) == ["/r"]


def test_a_failed_write_leaves_nothing_behind(sink_settings, monkeypatch):
    """A write that fails half way (a full disk) was answered 503: its half is zeroed again, so the next batch,
    written in its place, is not read after a line of an event the client was told to send again."""
    sink = LocalSink(sink_settings)
    _accept(sink, ["/before"])
    segment = sink.wal._current
    pwrite = os.pwrite

    def half_then_full(fd: int, data, offset: int) -> int:
        if len(data) > 1 and any(data):  # the batch, not the zeros that undo it
            pwrite(fd, bytes(data[: len(data) * 3 // 4]), offset)
            raise OSError(errno.ENOSPC, "No space left on device")
        return pwrite(fd, data, offset)

    with monkeypatch.context() as patch:
        patch.setattr(os, "pwrite", half_then_full)
        with pytest.raises(OSError):
            segment.write(b"".join(b'{"ts":1,"path":"/refused-%d"}\n' % n for n in range(100)))  # > a record
    _accept(sink, ["/after"])
    _restart(sink_settings)
    assert _paths(sink_settings) == ["/after", "/before"]


def test_a_segment_left_with_only_a_torn_line_is_moved_empty_and_deleted(sink_settings):
    folder = Path(sink_settings.wal_dir)
    folder.mkdir(parents=True)
    left = folder / "collector-20261130T120000000000-0badcafe.wal"
    left.write_bytes(b'{"ts":1,"path":"/torn"' + bytes(4096))  # killed inside its first write, space reserved
    _restart(sink_settings)
    assert not left.exists() and _paths(sink_settings) == []


def test_a_clean_stop_brings_the_rollups_up_to_date(sink_settings):
    from stats_lib.warehouse.rollups import RollupState, Store

    sink = LocalSink(sink_settings)
    sink.start()
    _accept(sink, ["/r1", "/r2"])
    sink.stop()
    state = RollupState.load(Store.for_warehouse(sink_settings.warehouse, sink_settings))
    assert list(state.event_days) == ["2026-11-30"] and state.stale_days() == []
