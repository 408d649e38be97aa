"""Concurrent runs are safe (issue 11, item 4; and item 2, private salts).

- Two ingests started at once end with exactly the query results of one clean run.
- A run waits for the warehouse lock saying for whom (pid, host, start), or fails after the timeout with one line.
- The start-up clean-up never deletes a live process's temporary files.
- Salts: folder 0700, files 0600; many processes creating the same day's salt at once always end with ONE salt.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import CLI, REPO, run_cli

from stats_lib.api import query
from stats_lib.config import Settings
from stats_lib.engines.sql import available
from stats_lib.samples import generate
from stats_lib.warehouse.local import LocalWarehouse
from stats_lib.warehouse.lock import WarehouseLock, tmp_tag
from stats_lib.warehouse.salts import LocalSaltFolder

END = dt.date(2026, 11, 7)
VOLATILE = {"ingested_at", "attempted_at", "last_attempt"}  # times of the run itself
APPROXIMATE = {"p50_ms", "p95_ms"}  # APPROX_PERCENTILE: depends on the order DuckDB's threads read rows


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in a fixed order (queries order by counts; rows that tie come in any order)."""
    keys = [c for c in frame.columns if c not in APPROXIMATE]
    return frame.sort_values(keys, na_position="first", kind="stable").reset_index(drop=True) if keys else frame


def _same(got: pd.DataFrame, want: pd.DataFrame, name: str) -> None:
    got, want = _rows(got), _rows(want)
    exact = [c for c in want.columns if c not in APPROXIMATE]
    pd.testing.assert_frame_equal(got[exact], want[exact], check_dtype=False, obj=name)
    for column in set(want.columns) & APPROXIMATE:
        pd.testing.assert_series_equal(got[column], want[column], check_dtype=False, rtol=0.02, obj=name)


def _all_results(warehouse) -> dict[str, pd.DataFrame]:
    settings = Settings.from_env(warehouse=str(warehouse), progress=False)
    results = {}
    for name in available():
        try:
            frame = query(name, settings=settings)
        except ValueError as exc:  # a query that needs parameters beyond the standard ones
            assert "needs parameters" in str(exc)
            continue
        results[name] = frame.drop(columns=[c for c in frame.columns if c in VOLATILE])
    return results


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logs")
    generate(folder, days=4, end=END, seed=11, visitors_per_day=150)
    (folder / "expected-daily.json").unlink()
    return folder


def _ingest(logs, warehouse) -> subprocess.Popen:
    env = {**os.environ, "SITE_STATS_PROGRESS": "0"}
    return subprocess.Popen([*CLI, "ingest", str(logs), "--warehouse", str(warehouse)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_ingests_at_once_equal_one_clean_run(logs, tmp_path):
    clean = tmp_path / "clean"
    run_cli("ingest", str(logs), "--warehouse", str(clean))
    expected = _all_results(clean)
    assert expected["daily"]["hits"].sum() > 0
    for trial in range(2):
        warehouse = tmp_path / f"both-{trial}"
        first, second = _ingest(logs, warehouse), _ingest(logs, warehouse)
        outs = [p.communicate(timeout=300) for p in (first, second)]
        assert [p.returncode for p in (first, second)] == [0, 0], outs
        got = _all_results(warehouse)
        assert got.keys() == expected.keys()
        for name, frame in expected.items():
            _same(got[name], frame, name)
        assert not list(warehouse.rglob("*.tmp"))
        stdouts = sorted(out for out, _ in outs)  # one run ingested every file, the other found them done
        assert "0 ingested" in stdouts[0] or "0 ingested" in stdouts[1]


def test_a_second_run_waits_saying_for_whom(logs, tmp_path):
    warehouse = tmp_path / "wh"
    LocalWarehouse(warehouse).ensure()
    with WarehouseLock(warehouse, command="test holder"):
        proc = _ingest(logs, warehouse)
        line = proc.stderr.readline()  # printed before it waits
        assert f"waiting for the warehouse lock held by pid {os.getpid()} on host {socket.gethostname()}" in line
        assert "(test holder)" in line
        assert proc.poll() is None  # still waiting while we hold the lock
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "ingested" in out and "Traceback" not in err


def test_a_run_that_cannot_get_the_lock_fails_with_one_line(logs, tmp_path):
    warehouse = tmp_path / "wh"
    LocalWarehouse(warehouse).ensure()
    with WarehouseLock(warehouse, command="test holder"):
        proc = run_cli("ingest", str(logs), "--warehouse", str(warehouse), check=False,
                       env={"SITE_STATS_LOCK_TIMEOUT": "0.3"})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 2, proc.stderr  # the "waiting" note, then the error
    assert lines[1].startswith("site-stats: error: the warehouse") and f"pid {os.getpid()}" in lines[1]
    assert "SITE_STATS_LOCK_TIMEOUT" in lines[1]
    assert not list((warehouse / "_ledger").glob("*.json"))


def test_clean_up_keeps_a_live_process_temporary_files(tmp_path):
    house = LocalWarehouse(tmp_path / "wh")
    house.ensure()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = socket.gethostname().replace(".", "_")
        live = house.events_dir / "dt=2026-11-01" / f"x.parquet.{host}.{sleeper.pid}.tmp"
        live.parent.mkdir(parents=True)
        live.write_bytes(b"half written")
        dead = house.events_dir / "dt=2026-11-01" / "y.parquet.tmp"  # an old-style name: no owner
        dead.write_bytes(b"left over")
        assert house.clean_partial() == 1
        assert live.exists() and not dead.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert house.clean_partial() == 1 and not live.exists()  # its writer is gone now
    assert tmp_tag() == f"{socket.gethostname().replace('.', '_')}.{os.getpid()}"


def test_clean_up_removes_the_files_of_an_ended_process_not_yet_reaped(tmp_path):
    """A writer that has ended but whose exit status nobody has collected yet (a zombie: the workers of a killed
    ingest, until init reaps them) no longer writes: its temporary files go."""
    house = LocalWarehouse(tmp_path / "wh")
    house.ensure()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 20
    while Path(f"/proc/{ended.pid}/stat").read_text().split(") ")[-1][0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)  # exited, not waited for: a zombie
    host = socket.gethostname().replace(".", "_")
    left = house.events_dir / "dt=2026-11-01" / f"x.parquet.{host}.{ended.pid}.tmp"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half written")
    assert house.clean_partial() == 1 and not left.exists()
    ended.wait()


# -- salts ------------------------------------------------------------------------------------------------------
def test_salts_are_private(logs, tmp_path):
    warehouse = tmp_path / "wh"
    old = warehouse / "_salts"
    old.mkdir(parents=True, mode=0o755)
    os.chmod(old, 0o755)
    (old / "2026-11-06.key").write_text(secrets.token_hex(32))
    os.chmod(old / "2026-11-06.key", 0o644)  # as an older version left them
    run_cli("ingest", str(logs), "--warehouse", str(warehouse))
    assert stat.S_IMODE(old.stat().st_mode) == 0o700
    files = list(old.iterdir())
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files), [
        (p.name, oct(p.stat().st_mode)) for p in files]
    salts = LocalSaltFolder(tmp_path / "fresh" / "_salts")
    salts.create("2026-11-01", b"\x01" * 32)
    assert stat.S_IMODE(salts.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((salts.folder / "2026-11-01.key").stat().st_mode) == 0o600


def _create_many(folder: str, days: list[str], barrier, queue) -> None:
    store = LocalSaltFolder(folder)
    got = []
    for day in days:
        barrier.wait()
        try:
            got.append(store.create(day, secrets.token_bytes(32)).hex())
        except Exception as exc:  # reported, not raised: the parent asserts there were none
            got.append(f"error: {type(exc).__name__}: {exc}")
    queue.put(got)


def test_concurrent_salt_creation_ends_with_one_salt(tmp_path):
    ctx = multiprocessing.get_context("fork")
    days = [(dt.date(2026, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(150)]
    workers = 4
    barrier, queue = ctx.Barrier(workers), ctx.Queue()
    folder = tmp_path / "_salts"
    procs = [ctx.Process(target=_create_many, args=(str(folder), days, barrier, queue)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [v for r in results for v in r if v.startswith("error")]
    assert errors == []
    split = [day for i, day in enumerate(days) if len({r[i] for r in results}) != 1]
    assert split == [], f"{len(split)} of {len(days)} days got different salts in different processes"
    stored = LocalSaltFolder(folder)
    assert [stored.read(day).hex() for day in days] == results[0]
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{d}.key" for d in days)  # no temporary left


def _die_while_writing_a_salt(folder: str) -> None:
    """A writer killed between writing its temporary salt and linking it (os._exit at the fsync: no clean-up)."""
    os.fsync = lambda fd: os._exit(9)
    LocalSaltFolder(folder).create("2026-11-01", secrets.token_bytes(32))


def test_a_salt_writer_killed_mid_create_leaves_nothing_behind_the_next_run(tmp_path):
    """The temporary salt of a writer that died mid-create goes at the next start (it was kept for an hour before,
    which a killed ingest's re-run found as a left-over ``.tmp``); a running writer's is kept."""
    house = LocalWarehouse(tmp_path / "wh")
    house.ensure()
    ctx = multiprocessing.get_context("fork")
    killed = ctx.Process(target=_die_while_writing_a_salt, args=(str(house.salts_dir),))
    killed.start()
    killed.join(timeout=30)
    assert killed.exitcode == 9
    (left,) = house.salts_dir.glob("*.tmp")
    assert left.name.endswith(f".{killed.pid}.tmp") and not (house.salts_dir / "2026-11-01.key").exists()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = house.salts_dir / f".2026-11-02.{secrets.token_hex(8)}.{tmp_tag().rsplit('.', 1)[0]}.{sleeper.pid}.tmp"
        live.write_text("00")
        LocalSaltFolder(house.salts_dir).secure()
        assert not left.exists() and live.exists()
        left.write_text("00")  # left again: the warehouse's clean-up (held lock) removes it too, the live one stays
        assert house.clean_partial() == 1 and not left.exists() and live.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
