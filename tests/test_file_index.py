"""A periodic run does not read again the files it has read before (``LocalWarehouse.known_key``): a local file
whose identity (size, modification and status-change times, device, inode) is the one it had when hashed keeps
its source key; any change makes the run hash it again, and a damaged entry only costs that hashing."""

from __future__ import annotations

import os
from pathlib import Path

import stats_lib
from stats_lib.warehouse.local import LocalWarehouse


def _bytes_read() -> int:
    """What this process has read through read() calls so far (the kernel's count, /proc/self/io)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def _log(path: Path, paths: list[str]) -> None:
    lines = [f'203.0.113.{i % 250} - - [01/Mar/2026:10:{i % 60:02d}:00 +0000] "GET {p} HTTP/1.1" 200 512 "-" '
             f'"Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"' for i, p in enumerate(paths)]
    path.write_text("\n".join(lines) + "\n")


def test_a_file_read_before_is_skipped_without_reading_it(corpora, settings):
    log = corpora / "elastic-examples-apache-logs/apache_logs"  # 2.4 MB, read in place
    first = stats_lib.ingest([str(log)], settings=settings)
    assert first.count("ingested") == 1 and first.events > 0
    before = _bytes_read()
    again = stats_lib.ingest([str(log)], settings=settings)
    read = _bytes_read() - before
    assert again.count("already ingested") == 1 and again.events == 0
    assert read < log.stat().st_size / 4, f"{read} bytes read to skip a file of {log.stat().st_size}"


def test_a_file_written_again_with_its_old_size_and_time_is_read_again(tmp_path, settings):
    log = tmp_path / "access.log"
    _log(log, ["/a"] * 40)
    stamp = log.stat()
    assert stats_lib.ingest([str(log)], format="combined", settings=settings).events == 40
    _log(log, ["/b"] * 40)  # other bytes, the same size (a one-letter path changed)...
    os.utime(log, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # ...and the old modification time
    assert log.stat().st_size == stamp.st_size and log.stat().st_mtime_ns == stamp.st_mtime_ns
    again = stats_lib.ingest([str(log)], format="combined", settings=settings)
    assert again.count("ingested") == 1 and again.events == 40
    paths = stats_lib.query("top_pages", "2026-03-01", "2026-03-01", settings=settings)
    assert sorted(paths["path"]) == ["/a", "/b"]


def test_a_damaged_entry_only_costs_hashing_the_file_again(tmp_path, settings):
    log = tmp_path / "access.log"
    _log(log, ["/a"] * 10)
    stats_lib.ingest([str(log)], format="combined", settings=settings)
    entries = list(LocalWarehouse(settings.warehouse).files_dir.glob("*.json"))
    assert len(entries) == 1
    entries[0].write_bytes(b'{"path": "cut in the mid')
    again = stats_lib.ingest([str(log)], format="combined", settings=settings)
    assert again.count("already ingested") == 1 and again.events == 0
    house = LocalWarehouse(settings.warehouse)
    assert house.known_key(log.resolve(), log.stat()) == house.ledger()[0]["key"]  # written again, whole
