"""``site-stats`` ends its process without Python's object-by-object teardown (``cli.run``), and still ends it
as Python would: its output complete, its exit status, the exit handlers run once, its other threads waited for."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import REPO

SCRIPT = textwrap.dedent("""
    import atexit, sys, threading, time
    from pathlib import Path
    from stats_lib import cli

    done = Path(sys.argv[1])
    def late():
        time.sleep(0.5)
        done.write_text("thread finished")
    threading.Thread(target=late).start()  # not a daemon: the exit waits for it
    atexit.register(lambda: print("exit handler ran"))
    sys.argv = ["site-stats", *sys.argv[2:]]
    cli.run()
    print("not reached")
""")


def run(tmp_path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    done = tmp_path / "done.txt"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(done), *args], capture_output=True, text=True, cwd=REPO,
                          env={"SITE_STATS_PROGRESS": "0", "PATH": "/usr/bin:/bin"}, timeout=120)
    return proc, done.read_text() if done.exists() else ""


def test_a_command_ends_with_its_output_its_status_and_exit_handlers(tmp_path):
    log = tmp_path / "access.log"
    log.write_text("".join(f'198.51.100.{i} - - [01/Mar/2024:10:00:{i:02d} +0000] "GET /p/{i % 3} HTTP/1.1" 200 512 '
                           f'"-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"\n'
                           for i in range(1, 40)))
    wh = str(tmp_path / "wh")
    proc, thread = run(tmp_path, "ingest", str(log), "--warehouse", wh)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("files: 1 (1 ingested") and proc.stdout.endswith("exit handler ran\n"), proc.stdout
    assert proc.stdout.count("exit handler ran") == 1 and "not reached" not in proc.stdout
    assert thread == "thread finished"
    proc, _ = run(tmp_path, "query", "top_pages", "--warehouse", wh, "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.splitlines()[0].startswith("path,"), proc.stdout
    assert len(proc.stdout.splitlines()) == 1 + 3 + 1  # header, the 3 pages, the exit handler's line


def test_a_failed_command_keeps_its_exit_status(tmp_path):
    proc, thread = run(tmp_path, "query", "no_such_query", "--warehouse", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and proc.stderr.startswith("site-stats: "), (proc.returncode, proc.stderr)
    assert proc.stdout == "exit handler ran\n" and thread == "thread finished"
