"""The foundation end to end: generated CloudFront logs -> ingest -> exact daily metrics; idempotent, crash-safe
ingestion; no raw IP anywhere in the warehouse."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CLI, REPO, run_cli
from ip_scan import assert_no_raw_ip

from stats_lib.samples import generate

END = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    s = generate(logs, days=5, end=END, seed=11, visitors_per_day=80)
    expected = json.loads((logs / "expected-daily.json").read_text())
    (logs / "expected-daily.json").unlink()
    return logs, s, expected


def daily_json(warehouse: Path, *extra: str) -> list[dict]:
    out = run_cli("query", "daily", "--warehouse", str(warehouse), "--format", "json", *extra).stdout
    return json.loads(out)


def test_generator_expectations_equal_daily_query(sample, warehouse):
    logs, _, expected = sample
    out = run_cli("ingest", str(logs), "--warehouse", str(warehouse)).stdout
    assert "lines rejected: 0" in out and "failed)" in out
    got = daily_json(warehouse)
    assert [r["day"] for r in got] == [e["day"] for e in expected]
    for row, want in zip(got, expected):
        assert set(row) == set(want)
        for key, value in want.items():
            if key != "day":
                assert row[key] == pytest.approx(value, rel=1e-12), (row["day"], key)


def test_date_range_and_site_filters(sample, warehouse):
    logs, _, expected = sample
    run_cli("ingest", str(logs), "--warehouse", str(warehouse))
    days = [e["day"] for e in expected]
    got = daily_json(warehouse, "--start", days[1], "--end", days[2])
    assert [r["day"] for r in got] == days[1:3]
    assert daily_json(warehouse, "--site", "www.EXAMPLE.com")[0]["hits"] == expected[0]["hits"]
    assert daily_json(warehouse, "--site", "other.org") == []


def test_reingest_changes_nothing_and_a_new_file_adds_exactly_its_events(tmp_path, warehouse):
    # Recent days, so the late file arrives while its day's salt still exists (the normal case).
    logs = tmp_path / "logs"
    generate(logs, days=2, end=dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1), seed=3,
             visitors_per_day=80)
    expected = json.loads((logs / "expected-daily.json").read_text())
    (logs / "expected-daily.json").unlink()
    files = sorted(p for p in logs.iterdir() if p.name.endswith(".gz"))
    first, last = tmp_path / "first", tmp_path / "last"
    first.mkdir(), last.mkdir()
    for f in files[:-1]:
        shutil.copy(f, first / f.name)
    shutil.copy(files[-1], last / files[-1].name)

    run_cli("ingest", str(first), "--warehouse", str(warehouse))
    before = daily_json(warehouse)
    again = run_cli("ingest", str(first), "--warehouse", str(warehouse)).stdout
    assert f"{len(files) - 1} already ingested" in again and "events written: 0" in again
    assert daily_json(warehouse) == before
    run_cli("ingest", str(logs), "--warehouse", str(warehouse))  # the whole folder: only the new file is read
    after = daily_json(warehouse)
    assert after[-1]["hits"] == expected[-1]["hits"]
    assert [r["hits"] for r in after] == [e["hits"] for e in expected]
    assert [r["visitors"] for r in after] == [e["visitors"] for e in expected]
    assert [r["sessions"] for r in after] == [e["sessions"] for e in expected]


def test_a_regenerated_sample_is_the_same_bytes_and_is_not_counted_twice(tmp_path, warehouse):
    """`make demo` run twice regenerates its logs: identical content must find them already ingested."""
    for run in ("one", "two"):
        generate(tmp_path / run, days=1, end=dt.date(2026, 11, 1), seed=5, visitors_per_day=20)
        (tmp_path / run / "expected-daily.json").unlink()  # not a log: ingest would fail it (exit status 1)
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())
    assert all((tmp_path / "one" / n).read_bytes() == (tmp_path / "two" / n).read_bytes() for n in names)
    gz = [(tmp_path / "one" / n).read_bytes() for n in names if n.endswith(".gz")]
    assert gz and all(data[4:8] == bytes(4) and not data[3] & 0x08 for data in gz)  # no time, no name in the header
    run_cli("ingest", str(tmp_path / "one"), "--warehouse", str(warehouse))
    second = run_cli("ingest", str(tmp_path / "two"), "--warehouse", str(warehouse)).stdout
    assert "0 ingested" in second and "events written: 0" in second


def test_late_file_after_the_salt_was_deleted_warns(sample, tmp_path, warehouse):
    logs, _, _ = sample
    files = sorted(logs.glob("*.gz"))
    run_cli("ingest", str(files[0]), "--warehouse", str(warehouse))  # an old day: its salt is deleted after the run
    day = files[0].name.split(".")[1][:10]
    assert not (warehouse / "_salts" / f"{day}.key").exists()
    assert (warehouse / "_salts" / f"{day}.deleted").exists()
    out = run_cli("ingest", str(files[1]), "--warehouse", str(warehouse)).stdout
    assert f"warning: the salt for {day} was already deleted" in out


def _processes_of(warehouse: Path) -> list[int]:
    """Live (not zombie) processes whose command line names ``warehouse``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if str(warehouse).encode() in (entry / "cmdline").read_bytes():
                stat = (entry / "stat").read_text()
                if stat[stat.rindex(")") + 2] != "Z":
                    found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def test_killed_ingest_rerun_gives_clean_counts(tmp_path):
    logs = tmp_path / "logs"
    generate(logs, days=12, end=END, seed=5, visitors_per_day=400)
    expected = json.loads((logs / "expected-daily.json").read_text())
    (logs / "expected-daily.json").unlink()
    total = len(list(logs.glob("*.gz")))
    warehouse = tmp_path / "warehouse"
    env = {**os.environ, "SITE_STATS_PROGRESS": "0"}
    proc = subprocess.Popen([*CLI, "ingest", str(logs), "--warehouse", str(warehouse)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ledger = warehouse / "_ledger"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(ledger.glob("*.json"))) < total // 3:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10  # its worker and helper processes end with it (and close the lock's file)
    while _processes_of(warehouse) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_of(warehouse), "processes of the killed ingest live on"
    done = len(list(ledger.glob("*.json")))
    assert 0 < done < total, f"the kill came too late or too early to prove anything ({done}/{total})"
    run_cli("ingest", str(logs), "--warehouse", str(warehouse))
    got = daily_json(warehouse)
    assert [{k: r[k] for k in ("day", "hits", "pageviews", "visitors", "sessions", "bounces")} for r in got] == [
        {k: e[k] for k in ("day", "hits", "pageviews", "visitors", "sessions", "bounces")} for e in expected
    ]
    assert not list(warehouse.rglob("*.tmp"))


def test_no_input_ip_is_written_anywhere(sample, warehouse, corpora):
    logs, s, _ = sample
    cloudfront = [corpora / "elastic-integrations-aws/test-cloudfront.log",
                  corpora / "aws-samples-cloudfront-log-analysis/sample-cloudfront-access-logs.gz"]
    run_cli("ingest", str(logs), *map(str, cloudfront), "--warehouse", str(warehouse))
    ips = s.client_ips() | {"89.160.20.112", "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", "81.2.69.143", "127.0.0.1",
                            "3.120.138.129", "13.233.35.131", "52.209.5.129"}
    read = assert_no_raw_ip(warehouse, ips=ips).read
    assert sum(column == "user_agent" for _, column in read) >= 5  # every day's events were read


def test_bad_input_is_one_line_error(warehouse, tmp_path):
    for args, message in [
        (("ingest", str(tmp_path / "missing.log")), "no such file"),
        (("ingest", str(tmp_path), "--format", "nonsense"), "unknown format"),
        (("query", "nonsense"), "unknown query"),
        (("query", "daily", "--start", "2026-13-01"), "bad date"),
    ]:
        proc = run_cli(*args, "--warehouse", str(warehouse), check=False)
        assert proc.returncode != 0
        assert message in proc.stderr.lower()
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) <= 3  # argparse prints usage + one line
