"""Parallel ingest (worker processes) gives exactly the warehouse of a one-process ingest of the same files.

Two warehouses are built from the same inputs, one with ``ingest_workers=1`` (everything in the run's process),
one with ``ingest_workers=2``; every query of ``queries/`` must answer the same rows, the stored events must be
the same rows (visitor ids included: the same salts), and the per-file outcomes and ledger the same.
"""

from __future__ import annotations

import gzip
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

import stats_lib
from stats_lib import samples
from stats_lib.api import QuerySession
from stats_lib.config import Settings
from stats_lib.engines import sql

stats_lib_ingest = importlib.import_module("stats_lib.ingest")  # the module (``stats_lib.ingest`` is the function)

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
VOLATILE = ["ingested_at", "attempted_at", "last_attempt"]  # when a file was read: the runs differ there


def inputs(folder: Path) -> Path:
    samples.generate(folder, days=3, visitors_per_day=60, seed=11)
    (folder / "expected-daily.json").unlink()
    lines = [f'198.51.100.{i} - - [0{1 + i % 3}/Mar/2026:10:00:0{i % 10} +0000] "GET /web/{i} HTTP/1.1" 200 5 "-" "{UA}"\n'
             for i in range(1, 40)]
    (folder / "access.log").write_text("".join(lines) + "\n\n")
    data = gzip.compress("".join(lines).encode())
    (folder / "cut.log.gz").write_bytes(data[: len(data) // 2])
    (folder / "unknown.bin").write_bytes(b"\x00\x01garbage\n" * 20)
    return folder


def build(folder: Path, warehouse: Path, workers: int):
    # salts kept long enough that the first run's survive its end (its purge) to seed the second
    settings = Settings.from_env(warehouse=str(warehouse), progress=False).with_(ingest_workers=workers,
                                                                                salt_retention_days=3650)
    return settings, stats_lib.ingest([str(folder)], settings=settings)


def answers(settings) -> dict[str, pd.DataFrame]:
    out = {}
    steps = {f"step{i}": "" for i in range(1, 9)} | {"step1": "/", "step2": "/pricing"}
    with QuerySession(settings) as session:
        for name in sql.available():
            extra = steps if name == "funnel" else {}
            frame = session.query(name, **extra).drop(columns=VOLATILE, errors="ignore")
            out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True) if len(frame) else frame
    return out


def events(warehouse: Path) -> pd.DataFrame:
    table = pq.read_table(warehouse / "events").to_pandas()
    return table.sort_values(["source_file", "line_number"]).reset_index(drop=True)


def test_parallel_ingest_gives_the_same_warehouse_as_one_process(tmp_path, monkeypatch):
    folder = inputs(tmp_path / "logs")
    readers = tmp_path / "readers.txt"  # which process read each file (the workers are forks: they log too)
    module = importlib.import_module("stats_lib.ingest")
    read_file = module._ingest_file

    def logged(path, run, **kw):
        with open(readers, "a") as out:
            out.write(f"{os.getpid()}\n")
        return read_file(path, run, **kw)

    monkeypatch.setattr(module, "_ingest_file", logged)
    # the workers create the days' salts themselves; a copy of that salt folder then seeds the one-process run,
    # so equal visitor ids mean every worker used the one salt of each day
    two_settings, two = build(folder, tmp_path / "two", 2)
    assert len(set(readers.read_text().split())) == 3  # the run's process (first file) and two workers
    readers.unlink()
    (tmp_path / "one").mkdir()
    shutil.copytree(tmp_path / "two" / "_salts", tmp_path / "one" / "_salts")
    one_settings, one = build(folder, tmp_path / "one", 1)
    assert set(readers.read_text().split()) == {str(os.getpid())}
    assert len(list((tmp_path / "one" / "_salts").iterdir())) >= 3

    assert len(one.files) >= 12 and one.events > 1000
    outcome = lambda s: [(Path(f.path).name, f.status, f.lines, f.events, f.rejected, f.headers, f.blank,  # noqa: E731
                          bool(f.damage)) for f in s.files]
    assert outcome(one) == outcome(two)
    assert {f.status for f in one.files} == {"ingested", "failed"} and any(f.damage for f in one.files)
    pd.testing.assert_frame_equal(events(tmp_path / "one"), events(tmp_path / "two"))
    first, second = answers(one_settings), answers(two_settings)
    assert set(first) == set(sql.available()) and len(first) > 20
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)
    assert sum(len(frame) for frame in first.values()) > 200  # the queries answer something



def test_the_ingest_processes_keep_freed_memory_for_the_next_file():
    """``_memory.keep_freed_memory`` (called by ``site-stats ingest`` and each worker): glibc's thresholds take
    the values and Arrow allocates from jemalloc with purging off; in a child, so this process keeps its defaults."""
    import subprocess
    import sys

    code = ("import pyarrow as pa; from stats_lib._memory import keep_freed_memory; ok = keep_freed_memory(); "
            "b = pa.allocate_buffer(1 << 20); print(ok, pa.default_memory_pool().backend_name, pa.total_allocated_bytes() >= 1 << 20)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "jemalloc", "True"]


_COUNT_FORKS = """
import json, os, sys
import stats_lib
from stats_lib.config import Settings
forks = []
os.register_at_fork(after_in_parent=lambda: forks.append(1))
settings = Settings.from_env(warehouse=sys.argv[2], progress=False).with_(ingest_workers=2, salt_retention_days=3650)
summary = stats_lib.ingest([sys.argv[1]], settings=settings)
print(json.dumps({"forks": len(forks), "statuses": [f.status for f in summary.files], "events": summary.events}))
"""


def test_a_periodic_run_reads_its_one_new_file_itself_and_forks_no_worker(tmp_path):
    """A folder whose files are all ingested but the last: the run's own process hashes the others (skipped) and
    reads the new one, with no worker process to start (before, two were forked for it); the new file's events
    are all written."""
    from stats_lib.benchmarks import ingest as bench

    folder, _ = bench.corpus("small", tmp_path)
    files = sorted(folder.glob("*.gz"))
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    for path in files[:-1]:
        (earlier / path.name).symlink_to(path)
    warehouse = tmp_path / "warehouse"
    build(earlier, warehouse, 2)
    run = subprocess.run([sys.executable, "-c", _COUNT_FORKS, str(folder), str(warehouse)], capture_output=True,
                         text=True, check=True, env={**os.environ, "SITE_STATS_PROGRESS": "0"})
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["statuses"] == ["already ingested"] * (len(files) - 1) + ["ingested"]
    assert got["events"] == len(gzip.decompress(files[-1].read_bytes()).decode().splitlines()) - 2  # two header lines
    total = sum(p.stat().st_size for p in files)
    assert got["forks"] == (1 if total >= stats_lib_ingest.HELPER_MIN_BYTES else 0)  # the detector's helper at most
