"""``--verbose`` logs what an ingest did (a line per file, then the run) on stderr; without it stderr stays empty."""

from __future__ import annotations

from conftest import run_cli
from ip_scan import assert_no_raw_ip

LINES = [
    '203.0.113.9 - - [01/Nov/2026:09:58:00 +0000] "GET /y HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    '203.0.113.9 - - [01/Nov/2026:09:59:00 +0000] "GET /x HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    '203.0.113.7 - - [01/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    '203.0.113.8 - - [01/Nov/2026:10:00:05 +0000] "GET /about HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    "this is not a log line",
]


def _logs(tmp_path):
    folder = tmp_path / "from-203.0.113.10"  # an address in the paths the log lines name
    folder.mkdir()
    for name in ("a.log", "b.log"):
        (folder / name).write_text("\n".join(LINES) + "\n")
    (folder / "b.log").write_text("\n".join(LINES[:4]) + "\n")
    return folder


def test_verbose_ingest_logs_each_file_and_the_run(tmp_path):
    folder = _logs(tmp_path)
    proc = run_cli("ingest", str(folder), "--warehouse", str(tmp_path / "wh"), "--verbose", check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    a = [line for line in lines if "a.log: ingested" in line]
    b = [line for line in lines if "b.log: ingested" in line]
    assert len(a) == 1 and "4 events, 1 rejected" in a[0], lines
    assert len(b) == 1 and "4 events, 0 rejected" in b[0], lines
    assert any(line.startswith("site-stats: run: 2 files, 9 lines, 8 events written") for line in lines), lines
    # (the ledger keeps the path as given: it names the user's file, it is no client's address)
    assert_no_raw_ip(texts={"stderr": proc.stderr, "stdout": proc.stdout}, ips=[f"203.0.113.{n}" for n in (7, 8, 9, 10)])


def test_without_verbose_stderr_is_empty(tmp_path):
    folder = _logs(tmp_path)
    proc = run_cli("ingest", str(folder), "--warehouse", str(tmp_path / "wh"), check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "events written: 8" in proc.stdout
