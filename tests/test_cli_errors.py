"""Every user mistake and environment fault is ONE line on stderr with what to do, never a traceback, and the
contract's exit status: 2 for bad input or a fault that stopped the command, 1 when a run finished but some
files failed (issue 11, items 7, 8 and 9; the probes the issue lists, run through the real CLI).

Also: the ledger keeps failed files (``query failed_files``) without counting them as ingested, and a damaged
ledger record names its file and blocks nothing (item 12, second half).
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CLI, REPO, run_cli
from ip_scan import assert_no_raw_ip

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def combined(i: int) -> str:
    return f'198.51.100.{i % 250 + 1} - - [01/Mar/2024:10:{i // 60 % 60:02d}:{i % 60:02d} +0000] "GET /p/{i} HTTP/1.1" 200 512 "-" "{UA}"\n'


def a_log(folder: Path, lines: int = 20) -> Path:
    path = folder / "access.log"
    path.write_text("".join(combined(i) for i in range(lines)))
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A small warehouse, ingested once in-process; probes get copies."""
    import stats_lib
    from stats_lib.config import Settings

    folder = tmp_path_factory.mktemp("template")
    warehouse = folder / "warehouse"
    stats_lib.ingest([str(a_log(folder))], settings=Settings.from_env(warehouse=str(warehouse), progress=False))
    return warehouse


def a_file(folder: Path) -> Path:
    path = folder / "not-a-folder"
    path.write_text("x")
    return path


def not_a_warehouse(folder: Path) -> Path:
    path = folder / "Documents"
    path.mkdir()
    (path / "letter.txt").write_text("dear ...")
    return path


def truncated_parquet(warehouse: Path) -> Path:
    (part,) = warehouse.glob("events/dt=*/*.parquet")
    part.write_bytes(part.read_bytes()[:100])
    return warehouse


def unrecognised_folder(folder: Path) -> Path:
    junk = folder / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("these are my notes\n")
    (junk / "photo.jpg").write_bytes(bytes(range(256)) * 8)
    return junk


def truncated_gzip(folder: Path) -> Path:
    data = gzip.compress("".join(combined(i) for i in range(3000)).encode())
    path = folder / "cut.log.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


NO_NETWORK = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1",
              "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1", "AWS_EC2_METADATA_DISABLED": "true"}
NO_REGION = {"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_CONFIG_FILE": "/nonexistent",
             "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_EC2_METADATA_DISABLED": "true"}

# name -> (build(tmp, a copy of a small warehouse) -> (args, env), exit status, text the one line must hold)
PROBES = {
    "ingest --warehouse a file": (lambda t, w: (["ingest", str(a_log(t)), "--warehouse", str(a_file(t))], {}), 2, "is a file"),
    "report --warehouse a file": (lambda t, w: (["report", "--warehouse", str(a_file(t))], {}), 2, "is a file"),
    "query --warehouse a file": (lambda t, w: (["query", "daily", "--warehouse", str(a_file(t))], {}), 2, "is a file"),
    "report --out a file": (lambda t, w: (["report", "--warehouse", str(w), "--out", str(a_file(t))], {}),
                            2, "--out"),
    "mistyped --warehouse (query)": (lambda t, w: (["query", "daily", "--warehouse", str(t / "warehuose")], {}), 2,
                                     "no warehouse at"),
    "mistyped --warehouse (report)": (lambda t, w: (["report", "--warehouse", str(t / "warehuose")], {}), 2,
                                      "no warehouse at"),
    "a folder that is not a warehouse (query)": (
        lambda t, w: (["query", "daily", "--warehouse", str(not_a_warehouse(t))], {}), 2, "not a site-stats warehouse"),
    "a folder that is not a warehouse (ingest)": (
        lambda t, w: (["ingest", str(a_log(t)), "--warehouse", str(not_a_warehouse(t))], {}), 2,
        "not a site-stats warehouse"),
    "--start after --end (query)": (
        lambda t, w: (["query", "daily", "--start", "2024-03-02", "--end", "2024-03-01", "--warehouse", str(w)], {}),
        2, "is after --end"),
    "--start after --end (report)": (
        lambda t, w: (["report", "--start", "2024-03-02", "--end", "2024-03-01", "--warehouse", str(w)], {}),
        2, "is after --end"),
    "bad date": (lambda t, w: (["query", "daily", "--start", "2024-13-01"], {}), 2, "bad date"),
    "unknown query": (lambda t, w: (["query", "nonsense", "--warehouse", str(w)], {}), 2, "unknown query"),
    "unknown format": (lambda t, w: (["ingest", str(a_log(t)), "--format", "nonsense", "--warehouse", str(t / "w")], {}),
                       2, "unknown format"),
    "missing source": (lambda t, w: (["ingest", str(t / "missing.log"), "--warehouse", str(t / "w")], {}), 2,
                       "missing.log"),
    "SITE_STATS_SALT_RETENTION_DAYS=abc": (
        lambda t, w: (["query", "daily", "--warehouse", str(w)], {"SITE_STATS_SALT_RETENTION_DAYS": "abc"}),
        2, "SITE_STATS_SALT_RETENTION_DAYS"),
    "SITE_STATS_LOCK_TIMEOUT=soon": (
        lambda t, w: (["ingest", str(a_log(t)), "--warehouse", str(t / "w")], {"SITE_STATS_LOCK_TIMEOUT": "soon"}),
        2, "SITE_STATS_LOCK_TIMEOUT"),
    "a truncated Parquet file in the warehouse": (
        lambda t, w: (["query", "daily", "--warehouse", str(truncated_parquet(w))], {}), 2, "damaged file"),
    "ingest s3:// with no network": (
        lambda t, w: (["ingest", "s3://site-logs/cloudfront/", "--warehouse", str(t / "w")], NO_NETWORK), 2,
        "cannot reach"),
    "query an s3:// warehouse with no network": (
        lambda t, w: (["query", "daily", "--warehouse", "s3://lake/warehouse"], NO_NETWORK), 2, "cannot reach"),
    "--engine athena without a region": (
        lambda t, w: (["query", "daily", "--engine", "athena"], NO_REGION), 2, "region"),
    "a folder of unrecognised files": (
        lambda t, w: (["ingest", str(unrecognised_folder(t)), "--warehouse", str(t / "w")], {}), 1, "failed"),
    "a truncated gzip": (lambda t, w: (["ingest", str(truncated_gzip(t)), "--warehouse", str(t / "w")], {}), 1,
                         "damaged"),
    "prune without --yes, no terminal": (
        lambda t, w: (["prune", "--keep-days", "0", "--warehouse", str(w)], {}), 2, "add --yes"),
}


def _check(proc: subprocess.CompletedProcess, status: int, needle: str) -> str:
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert lines[0].startswith("site-stats") and needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("name", PROBES)
def test_probe_is_one_line_and_the_right_status(name, tmp_path, template):
    build, status, needle = PROBES[name]
    warehouse = tmp_path / "copy-of-warehouse"
    shutil.copytree(template, warehouse)
    args, env = build(tmp_path, warehouse)
    proc = run_cli(*args, env=env, check=False)
    _check(proc, status, needle)


@pytest.mark.parametrize("what", ["missing bucket as a source", "missing bucket as the warehouse"])
def test_missing_bucket_is_one_line(what, aws, tmp_path):
    args = (["ingest", "s3://no-such-bucket/logs/", "--warehouse", str(tmp_path / "w")] if "source" in what
            else ["query", "daily", "--warehouse", "s3://no-such-bucket/warehouse"])
    proc = run_cli(*args, env=aws, check=False)
    line = _check(proc, 2, "no-such-bucket")
    assert "(no rows)" not in proc.stdout, line


def test_an_empty_s3_prefix_is_not_a_warehouse(aws):
    proc = run_cli("query", "daily", "--warehouse", "s3://site-logs/typo", env=aws, check=False)
    _check(proc, 2, "no warehouse at")


def _full_disk_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))  # writes past 64 KB fail with EFBIG


def test_a_full_disk_is_one_line(tmp_path):
    log = tmp_path / "big.log"
    log.write_text("".join(combined(i) for i in range(30_000)))  # ~3.5 MB: its Parquet passes 64 KB
    env = {**os.environ, "SITE_STATS_PROGRESS": "0"}
    # the limit is set in the child only: the parent (pytest) and its files are unaffected
    proc = subprocess.run([*CLI, "ingest", str(log), "--warehouse", str(tmp_path / "w")], capture_output=True,
                          text=True, env=env, cwd=REPO, preexec_fn=_full_disk_limit)
    _check(proc, 2, "disk is full")
    again = run_cli("ingest", str(log), "--warehouse", str(tmp_path / "w"))  # with room: nothing was lost
    assert "events written: 30000" in again.stdout


def test_empty_warehouse_answers_no_rows(tmp_path):
    (tmp_path / "w" / "_ledger").mkdir(parents=True)
    for name in ("ingest_ledger", "daily", "failed_files"):
        proc = run_cli("query", name, "--warehouse", str(tmp_path / "w"), check=False)
        assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "(no rows)", ""), name


# -- the ledger: failed files and damaged records --------------------------------------------------------------
def test_failed_files_are_listed_not_counted_and_retried(tmp_path):
    folder = unrecognised_folder(tmp_path)
    warehouse = tmp_path / "w"
    first = run_cli("ingest", str(folder), "--warehouse", str(warehouse), check=False)
    assert first.returncode == 1 and first.stdout.count("failed: ") == 2
    rows = json.loads(run_cli("query", "failed_files", "--warehouse", str(warehouse), "--format", "json").stdout)
    assert sorted(Path(r["source"]).name for r in rows) == ["notes.txt", "photo.jpg"]
    assert all(r["status"] == "failed" and "format not recognised" in r["reason"] and r["last_attempt"] for r in rows)
    ledger = json.loads(run_cli("query", "ingest_ledger", "--warehouse", str(warehouse), "--format", "json").stdout)
    assert ledger == []  # not counted as ingested
    # the user fixes one file (it was a log after all): the retry reads it, and its failure is gone
    (folder / "notes.txt").write_text("".join(combined(i) for i in range(5)))
    second = run_cli("ingest", str(folder), "--warehouse", str(warehouse), check=False)
    assert second.returncode == 1 and "1 ingested" in second.stdout
    rows = json.loads(run_cli("query", "failed_files", "--warehouse", str(warehouse), "--format", "json").stdout)
    assert [Path(r["source"]).name for r in rows] == ["photo.jpg"]


def test_a_failure_reason_never_holds_a_client_ip(tmp_path):
    path = tmp_path / "odd.log"
    path.write_text("client 203.0.113.77 said hello\n" * 3)
    warehouse = tmp_path / "w"
    proc = run_cli("ingest", str(path), "--warehouse", str(warehouse), check=False)
    assert proc.returncode == 1
    read = assert_no_raw_ip(warehouse, texts={"stdout": proc.stdout, "stderr": proc.stderr}, ips=["203.0.113.77"]).read
    assert any(file.startswith("_ledger") for file, _ in read)


def test_a_damaged_ledger_record_is_named_and_blocks_nothing(tmp_path):
    log = a_log(tmp_path)
    other = tmp_path / "other.log"
    other.write_text("".join(combined(i) for i in range(100, 110)))
    warehouse = tmp_path / "w"
    run_cli("ingest", str(log), "--warehouse", str(warehouse))
    (record,) = (warehouse / "_ledger").glob("*.json")
    record.write_text('{"key": "abc", "events": ')  # cut short (a crash of an editor, a full disk...)
    proc = run_cli("ingest", str(log), str(other), "--warehouse", str(warehouse))
    warning = proc.stderr.strip().splitlines()
    assert len(warning) == 1 and str(record) in warning[0] and "damaged" in warning[0], proc.stderr
    assert "2 ingested" in proc.stdout  # the damaged one was read again, the next file was not blocked
    daily = json.loads(run_cli("query", "daily", "--warehouse", str(warehouse), "--format", "json").stdout)
    assert [r["hits"] for r in daily] == [30]  # 20 + 10: the re-read file was not counted twice
    json.loads(record.read_text())  # rewritten whole
    queried = run_cli("query", "ingest_ledger", "--warehouse", str(warehouse))
    assert queried.stderr == ""
