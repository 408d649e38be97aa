"""A real collector for tests: ``site-stats serve`` in a subprocess on a free loopback port, and helpers to send
events from a chosen loopback source address (each test its own /24, so rate limits do not mix) and to read
back what the warehouse holds."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
CHROME_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
             "Safari/537.36")


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range. A port from that range (what binding port 0 gives)
    can be the source port the kernel picks for our own connection while the server is not listening yet: the
    socket then connects to itself and reads its request back as the answer (seen under load as
    ``BadStatusLine: GET /health HTTP/1.1``)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(max(1024, low - 12000), low), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free loopback port below the ephemeral range")


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class CollectorServer:
    """``site-stats serve`` as a user runs it, with the collector settings given as environment variables."""

    def __init__(self, warehouse: Path, sites: tuple[str, ...] = ("example.com",), *, options: tuple[str, ...] = (),
                 **env: str) -> None:
        """``options``: more ``site-stats serve`` arguments (``--verbose``)."""
        self.warehouse = Path(warehouse)
        self.sites = sites
        self.options = options
        self.port = free_port()
        self.env = {"SITE_STATS_COLLECTOR_FLUSH_SECONDS": "0.2", "SITE_STATS_COLLECTOR_RATE": "1000",
                    "SITE_STATS_COLLECTOR_BURST": "1000", **env}
        self.proc: subprocess.Popen | None = None
        self.log = self.warehouse.parent / f"collector-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CollectorServer:
        env = {**os.environ, "SITE_STATS_PROGRESS": "0", "SITE_STATS_WAREHOUSE": str(self.warehouse), **self.env}
        args = [sys.executable, "-m", "stats_lib.cli", "serve", "--port", str(self.port), *self.options]
        for site in self.sites:
            args += ["--site", site]
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the collector exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if self.request("GET", "/health").status == 200:
                    return self
            except (OSError, http.client.HTTPException):  # not listening yet
                pass
            time.sleep(0.1)
        raise AssertionError(f"the collector did not start:\n{self.log.read_text()}")

    def stop(self) -> int:
        """SIGTERM (a clean shutdown: everything is flushed); the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                source: str = "127.0.0.1", timeout: float = 30) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def send(self, event: dict | bytes, *, content_type: str = "text/plain;charset=UTF-8", user_agent: str = CHROME_UA,
             source: str = "127.0.0.1", path: str = "/api/event", headers: dict | None = None) -> Answer:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        sent = {"Content-Type": content_type, "User-Agent": user_agent, **(headers or {})}
        return self.request("POST", path, body, {k: v for k, v in sent.items() if v is not None}, source)

    def __enter__(self) -> CollectorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stored(warehouse: Path, where: str = "true", params: list | None = None) -> list[dict]:
    """The warehouse's events (as dicts) matching a SQL condition, read with DuckDB independently of our engine."""
    files = sorted((Path(warehouse) / "events").glob("dt=*/*.parquet"))
    if not files:
        return []
    con = duckdb.connect()
    rel = con.execute(f"SELECT * FROM read_parquet(?, union_by_name = true) WHERE {where} ORDER BY ts, line_number",
                      [[str(f) for f in files], *(params or [])])
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row)) for row in rel.fetchall()]


def wait_until(check, what: str, timeout: float = 60.0):
    """Poll ``check()`` until it returns something truthy (the WAL moves into Parquet every 0.2 s here)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
