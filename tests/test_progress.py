"""Progress bars are drawn where a person watches and nowhere else (brief: "quiet when stderr is not a
terminal"): ``site-stats ingest`` and ``site-stats rollup`` with progress on (the default) write no bar into a
pipe (cron mail, CI logs), and do draw one on a real terminal (a pseudo-terminal as stderr), where a file name
holding an escape sequence is shown escaped, never sent to the terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
from pathlib import Path

from conftest import CLI, REPO, run_cli

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
RED = "\x1b[31m"


def a_log(path: Path, lines: int = 50) -> Path:
    path.write_text("".join(f'198.51.100.{i % 250 + 1} - - [01/Mar/2024:10:{i // 60:02d}:{i % 60:02d} +0000] '
                            f'"GET /p/{i} HTTP/1.1" 200 512 "-" "{UA}"\n' for i in range(lines)))
    return path


def test_no_bar_goes_into_a_pipe(tmp_path):
    log = a_log(tmp_path / "access.log")
    on = {"SITE_STATS_PROGRESS": "1"}  # the default; the test helper turns it off otherwise
    ingest = run_cli("ingest", str(log), "--warehouse", str(tmp_path / "wh"), env=on)
    rollup = run_cli("rollup", "--warehouse", str(tmp_path / "wh"), env=on)
    assert ingest.stderr == "" and rollup.stderr == "", (ingest.stderr, rollup.stderr)
    assert ingest.stdout.startswith("files: 1 (1 ingested") and "rollups rebuilt for 1 day(s)" in rollup.stdout


def on_a_terminal(args: list[str]) -> tuple[int, bytes]:
    """Run the CLI with a pseudo-terminal as stderr (stdout a pipe); its exit status and what the terminal got."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))  # rows, columns, as a window has
    env = {**os.environ, "SITE_STATS_PROGRESS": "1"}
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=terminal, env=env, cwd=REPO)
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError(f"no output for 120 s; so far: {seen!r}")
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's last writer closed it
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    return proc.wait(timeout=60), seen


def test_a_terminal_gets_the_bars_with_the_file_name_escaped(tmp_path):
    log = a_log(tmp_path / f"access{RED}.log")
    status, seen = on_a_terminal(["ingest", str(log), "--warehouse", str(tmp_path / "wh")])
    assert status == 0, seen
    text = seen.decode()
    assert "ingest: 100%" in text and "rollups: 100%" in text, text
    assert RED not in text
    assert "access\\x1b[31m.log" in text, text
    status, seen = on_a_terminal(["rollup", "--warehouse", str(tmp_path / "wh")])
    assert status == 0 and "rollups: 100%" in seen.decode(), seen
