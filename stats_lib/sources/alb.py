"""Elastic Load Balancing access logs: Application Load Balancer (``alb``) and Classic Load Balancer (``elb``).

ALB line (space-separated, quoted request / user agent / several later fields)::

    type time elb client:port target:port request_processing_time target_processing_time
    response_processing_time elb_status_code target_status_code received_bytes sent_bytes "request"
    "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" ... (more, growing)

Classic ELB line: the same without ``type``, ending at ``ssl_cipher ssl_protocol``.

Only the fields up to the user agent are needed, so missing or extra trailing fields are fine. ``-1`` timings
(no target reached, e.g. status 460) are null. The time taken is the target (backend) processing time. Lines that
are well formed but are not HTTP requests are skipped with a reason: classic ELB TCP/SSL listener lines
(request ``"- - - "``), NLB ``tls`` access-log lines and ALB connection-log lines, which also end up in the same
buckets. Both formats share one parser, so a file mixing them is read whichever name was chosen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from .base import (
    LineReader,
    SourceFormat,
    client_address,
    decode_distinct,
    finish,
    float_column,
    iso_time_column,
    split_request,
    ua_values,
)

NAME = "alb"

ALB_TYPES = {"http", "https", "h2", "grpcs", "ws", "wss"}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$")
_IP_PORT = re.compile(r"^(\[?[0-9A-Fa-f:.]+\]?):\d+$")
_IP = re.compile(r"^[0-9A-Fa-f:.]+$")

SKIP_TCP = "ELB TCP/SSL listener line (no HTTP request)"
SKIP_NLB = "NLB TLS access-log line (not an HTTP request)"
SKIP_CONNECTION = "ALB connection-log line (not an HTTP request)"


def _kind(tokens: list[str]) -> str | None:
    """'alb', 'elb', 'nlb', 'connection' or None for one tokenised line."""
    if len(tokens) >= 3 and tokens[0] == "tls" and _ISO.match(tokens[2]):
        return "nlb"
    if len(tokens) >= 13 and tokens[0] in ALB_TYPES and _ISO.match(tokens[1]) and _IP_PORT.match(tokens[3]):
        return "alb"
    if len(tokens) >= 12 and _ISO.match(tokens[0]) and _IP_PORT.match(tokens[2]):
        return "elb"
    if len(tokens) >= 7 and _ISO.match(tokens[0]) and _IP.match(tokens[1]) and tokens[2].isdigit() and tokens[3].isdigit():
        return "connection"
    return None


def _first_kind(lines: list[str]) -> str | None:
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        return _kind(_TOKEN.findall(line))
    return None


def sniff(lines: list[str]) -> bool:
    """ALB (or NLB tls / ALB connection log, which only produce skips) by the first data line."""
    return _first_kind(lines) in ("alb", "nlb", "connection")


def sniff_elb(lines: list[str]) -> bool:
    """Classic ELB by the first data line."""
    return _first_kind(lines) == "elb"


def _strip(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def parse(reader: LineReader) -> Iterator[pa.Table]:
    rows: list[tuple[int, str, tuple]] = []
    for number, line in reader.records():  # blank and '#' lines are counted, not yielded
        tokens = _TOKEN.findall(line)
        kind = _kind(tokens)
        if kind == "nlb":
            reader.skip(number, SKIP_NLB, line)
            continue
        if kind == "connection":
            reader.skip(number, SKIP_CONNECTION, line)
            continue
        if kind is None:
            reader.reject(number, "not an ALB/ELB log line", line)
            continue
        f = tokens[1:] if kind == "alb" else tokens  # classic layout from here on
        request = _strip(f[11])
        if request.strip() in ("- - -", ""):
            reader.skip(number, SKIP_TCP, line)
            continue
        agent = _strip(f[12]) if len(f) > 12 else None
        domain = _strip(f[17]) if kind == "alb" and len(f) > 17 else None
        rows.append((number, line, (f[0], f[2], f[5], f[7], f[10], request, agent, domain)))
        if len(rows) >= reader.batch_size:
            yield _table(rows, reader)
            rows = []
    if rows:
        yield _table(rows, reader)


def _table(rows: list[tuple[int, str, tuple]], reader: LineReader) -> pa.Table:
    numbers = [r[0] for r in rows]
    lines = [r[1] for r in rows]
    when, client, target_time, status, sent, request, agent, domain = (list(c) for c in zip(*(r[2] for r in rows)))
    parts = [split_request(r) for r in request]
    seconds = [None if t in ("-", "-1") else t for t in target_time]
    data: dict[str, list | pa.Array] = {
        "ts": iso_time_column(when),
        "client_ip": [client_address(c) for c in client],
        "method": [p[0] for p in parts],
        "host": [p[2] or (d if d not in (None, "-") else None) for p, d in zip(parts, domain)],
        "path": decode_distinct([p[3] for p in parts]),
        "query": [p[4] for p in parts],
        "status": status,
        "bytes_sent": sent,
        "user_agent": ua_values(agent),
        "protocol": [p[1] for p in parts],
        "time_taken_ms": _millis(seconds),
    }
    return finish(reader, numbers, lines, data, required=("ts", "status"))


def _millis(seconds: list[str | None]) -> pa.Array:
    return pc.round(pc.multiply(float_column(pa.array(seconds, pa.string())), 1000.0), 6)


ALB = SourceFormat(NAME, sniff, parse)
ELB = SourceFormat("elb", sniff_elb, parse)
