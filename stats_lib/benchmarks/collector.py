"""``make bench`` section ``collector``: sustained accepted events per second and latency under 50 concurrent
clients, with zero loss checked in the warehouse afterwards.

The server is ``site-stats serve`` (uvicorn, one worker) in its own process, exactly as a user runs it: every
event validated, its IP-derived fields computed, written to the write-ahead log and fsynced before its 202, then
enriched in batches as it moves into Parquet. The load
comes from one asyncio process of 50 keep-alive connections (each sends its next event when the previous one is
answered). Afterwards the server is stopped with SIGTERM, and every event answered 202 is looked up in the
warehouse by its id: the figures count only if none is missing or doubled.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIENTS = 50
DURATION = {"small": 3.0, "default": 15.0, "large": 60.0}
WARM_UP = 1.0
AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, n: int) -> bytes:
    body = json.dumps({"name": "pageview", "url": f"https://example.com/page/{n % 200}",
                       "referrer": "https://www.google.com/", "props": {"n": n}}).encode()
    head = (f"POST /api/event HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain;charset=UTF-8\r\n"
            f"User-Agent: {AGENT}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _client(port: int, ids, until: float, measure_from: float, out: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            n = next(ids)
            started = time.perf_counter()
            writer.write(_request(port, n))
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            status = int(status_line.split()[1])
            if status == 202:
                out["accepted"].append(n)
                if started >= measure_from:
                    out["latencies"].append(elapsed)
            else:
                out["refused"][status] = out["refused"].get(status, 0) + 1
    finally:
        writer.close()


async def _load(port: int, duration: float) -> dict:
    import itertools

    out: dict = {"accepted": [], "latencies": [], "refused": {}}
    ids = itertools.count()
    start = time.perf_counter()
    measure_from = start + WARM_UP
    until = measure_from + duration
    await asyncio.gather(*(_client(port, ids, until, measure_from, out) for _ in range(CLIENTS)))
    out["measured_seconds"] = time.perf_counter() - measure_from
    out["measured_events"] = len(out["latencies"])
    return out


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] if len(values) > 1 else values[0]


def _serve(warehouse: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "SITE_STATS_WAREHOUSE": str(warehouse), "SITE_STATS_PROGRESS": "0",
           "SITE_STATS_COLLECTOR_RATE": "1000000", "SITE_STATS_COLLECTOR_BURST": "1000000",
           "SITE_STATS_COLLECTOR_FLUSH_SECONDS": "2", "SITE_STATS_COLLECTOR_FLUSH_EVENTS": "20000"}
    proc = subprocess.Popen([sys.executable, "-m", "stats_lib.cli", "serve", "--site", "example.com",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return _wait_listening(proc, port)


PLAIN_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def event(request):
    await request.body()
    return JSONResponse({"status": "accepted"}, status_code=202)

app = Starlette(routes=[Route("/api/event", event, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools", access_log=False,
            log_level="warning")
"""


def _serve_plain(port: int) -> subprocess.Popen:
    """The baseline: a plain Starlette endpoint answering 202 (no validation, enrichment, WAL or fsync)."""
    proc = subprocess.Popen([sys.executable, "-c", PLAIN_APP, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    return _wait_listening(proc, port)


def _wait_listening(proc: subprocess.Popen, port: int) -> subprocess.Popen:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"the server did not start: {err[-2000:]}") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start within 60 s")


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_per_request(proc: subprocess.Popen, load) -> tuple[dict, float | None]:
    """Run the load; (its figures, the server's CPU microseconds per answered request). CPU time is what the
    server itself spent, so it varies far less with the machine's other load than rates and latencies do."""
    before = _cpu_seconds(proc.pid)
    out = _runner()(load)
    after = _cpu_seconds(proc.pid)
    answered = len(out["accepted"]) + sum(out["refused"].values())
    cpu = (after - before) / answered * 1e6 if before is not None and after is not None and answered else None
    return out, cpu


def _stored_ids(warehouse: Path) -> list[int]:
    import duckdb

    files = [str(p) for p in sorted((warehouse / "events").glob("dt=*/*.parquet"))]
    if not files:
        return []
    rows = duckdb.execute("SELECT CAST(json_extract(props, '$.n') AS BIGINT) FROM read_parquet(?)", [files]).fetchall()
    return [r[0] for r in rows]


def _runner():
    try:
        import uvloop

        return uvloop.run
    except ModuleNotFoundError:
        return asyncio.run


def baseline(duration: float) -> dict:
    """The same load against the plain endpoint: what this machine gives Starlette + uvicorn right now."""
    port = _free_port()
    proc = _serve_plain(port)
    try:
        out, cpu = _cpu_per_request(proc, _load(port, duration))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    lat = sorted(out["latencies"])
    return {"events_per_second": out["measured_events"] / out["measured_seconds"],
            "p50_ms": _percentile(lat, 50) * 1000, "p99_ms": _percentile(lat, 99) * 1000, "cpu_us": cpu}


def measure(duration: float) -> dict:
    """Run the server and the load; return the figures (and the loss check)."""
    with tempfile.TemporaryDirectory(prefix="site-stats-bench-collector-") as tmp:
        warehouse = Path(tmp) / "warehouse"
        port = _free_port()
        proc = _serve(warehouse, port)
        try:
            out, cpu = _cpu_per_request(proc, _load(port, duration))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        stored = _stored_ids(warehouse)
    accepted = set(out["accepted"])
    lat = sorted(out["latencies"])
    return {
        "events_per_second": out["measured_events"] / out["measured_seconds"],
        "p50_ms": _percentile(lat, 50) * 1000, "p99_ms": _percentile(lat, 99) * 1000, "max_ms": lat[-1] * 1000,
        "accepted": len(out["accepted"]), "refused": out["refused"], "stored": len(stored),
        "lost": len(accepted - set(stored)), "doubled": len(stored) - len(set(stored)),
        "seconds": out["measured_seconds"], "cpu_us": cpu,
    }


def run(options) -> str:
    duration = DURATION.get(getattr(options, "scale", "default"), DURATION["default"])
    figures = measure(duration)
    plain = baseline(duration)
    load = os.getloadavg()[0]
    verdict = ("zero loss" if figures["lost"] == 0 and figures["doubled"] == 0
               else f"LOSS: {figures['lost']} missing, {figures['doubled']} doubled")
    refused = ", ".join(f"{n} x {s}" for s, n in sorted(figures["refused"].items())) or "none"
    return f"""## collector

`site-stats serve` (uvicorn, one worker; validation, IP-derived fields, WAL write and fsync before each 202, group
commit; the rest of the enrichment per segment on its way into Parquet) under
{CLIENTS} concurrent keep-alive clients for {figures['seconds']:.1f} s after a {WARM_UP:.0f} s warm-up, on this
shared 2-core machine (the load generator runs on the same machine and takes a core of its own; load average
{load:.1f} when the run ended). Baseline, same load in the same run: a plain Starlette endpoint answering 202
without validation, enrichment, WAL or fsync. The server's CPU time per answered request (from /proc) varies far
less with the machine's other load than the rates and latencies do.

| figure | collector | plain endpoint | target |
|---|---|---|---|
| accepted events per second | {figures['events_per_second']:,.0f} | {plain['events_per_second']:,.0f} | >= 3,000 |
| latency p50 | {figures['p50_ms']:.1f} ms | {plain['p50_ms']:.1f} ms | |
| latency p99 | {figures['p99_ms']:.1f} ms | {plain['p99_ms']:.1f} ms | < 50 ms |
| latency max | {figures['max_ms']:.1f} ms | | |
| server CPU per answered request | {_micros(figures['cpu_us'])} | {_micros(plain['cpu_us'])} | |
| answered 202 / stored in the warehouse | {figures['accepted']:,} / {figures['stored']:,} ({verdict}) | | zero loss |
| refused | {refused} | | none |
"""


def _micros(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.0f} µs"


if __name__ == "__main__":
    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0), indent=1))
