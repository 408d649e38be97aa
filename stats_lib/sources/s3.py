"""Amazon S3 server access logs (space-separated, one request per line).

Fields, oldest form first (17), then the ones AWS appended over the years (up to 26)::

    bucket_owner bucket [time] remote_ip requester request_id operation key "request_uri" http_status
    error_code bytes_sent object_size total_time turnaround_time "referer" "user_agent"
    version_id host_id signature_version cipher_suite authentication_type host_header tls_version
    access_point_arn acl_required

``-`` is null. The user agent may hold commas and quotes, so it is taken up to the last quote on the line (no
later field is ever quoted). Lines without a request URI (``BATCH.DELETE.OBJECT``, lifecycle ``S3.EXPIRE.OBJECT``)
are hits whose path comes from the object key. ``operation`` is kept: only ``WEBSITE.GET.OBJECT`` and
``REST.GET.OBJECT`` can be pageviews. The site (``host``) is the Host header when it is the site's own domain
(a website bucket behind a custom domain), else the bucket name (website buckets are named after their domain).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyarrow as pa

from .base import LineReader, clf_time_column, decode_distinct, finish, split_request, ua_values

NAME = "s3"

_Q = r'("[^"]*"|-)'
_LINE = re.compile(
    r"^(\S+) (\S+) \[([^\]]+)\] (\S+) (\S+) (\S+) ([A-Z0-9_]+(?:\.[A-Z0-9_]+)+) (\S+) "  # owner .. key
    + _Q
    + r" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) "  # status error bytes size total turnaround
    + _Q
    + r' ("(.*)"|-)(?: ([^"]*))?$'  # referer, user agent (greedy: up to the last quote), trailing fields
)
_SNIFF = re.compile(r"^\S+ \S+ \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] \S+ \S+ \S+ [A-Z0-9_]+\.[A-Z0-9_.]+ ")


def sniff(lines: list[str]) -> bool:
    """True when the first data line has the S3 prefix (owner, bucket, [time], ip, requester, id, OPERATION)."""
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        return bool(_SNIFF.match(line))
    return False


def _unquote_field(value: str) -> str | None:
    if value == "-":
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return None if value in ("", "-") else value


def parse(reader: LineReader) -> Iterator[pa.Table]:
    rows: list[tuple[int, str, tuple]] = []
    for number, line in reader.records():  # blank and '#' lines are counted, not yielded
        m = _LINE.match(line)
        if m is None:
            reader.reject(number, "not an S3 access log line", line)
            continue
        rows.append((number, line, m.groups()))
        if len(rows) >= reader.batch_size:
            yield _table(rows, reader)
            rows = []
    if rows:
        yield _table(rows, reader)


def _site(bucket: str, host_header: str | None) -> str:
    if host_header and not host_header.lower().endswith(".amazonaws.com") and host_header != "-":
        return host_header
    return bucket


def _table(rows: list[tuple[int, str, tuple]], reader: LineReader) -> pa.Table:
    numbers = [r[0] for r in rows]
    lines = [r[1] for r in rows]
    g = list(zip(*(r[2] for r in rows)))
    (_owner, bucket, when, ip, _requester, _rid, operation, key, request_uri, status, _err, sent, _size, total,
     _turn, referer, agent_field, agent, tail) = g
    trailing = [(t or "").split(" ") if t else [] for t in tail]
    host_header = [t[5] if len(t) > 5 else None for t in trailing]
    tls = [t[6] if len(t) > 6 else None for t in trailing]
    requests = [split_request(_unquote_field(r)) for r in request_uri]
    method = [r[0] for r in requests]
    path = [
        r[3] if r[3] is not None else (None if k in ("-", "") else "/" + k)
        for r, k in zip(requests, key)
    ]
    data: dict[str, list | pa.Array] = {
        "ts": clf_time_column(list(when)),
        "client_ip": [None if v == "-" else v for v in ip],
        "method": method,
        "host": [_site(b, h) for b, h in zip(bucket, host_header)],
        "path": decode_distinct(path),
        "query": [r[4] for r in requests],
        "status": list(status),
        "bytes_sent": list(sent),
        "referrer": [_unquote_field(v) for v in referer],
        "user_agent": ua_values([a if f != "-" else None for f, a in zip(agent_field, agent)]),
        "protocol": [None if t is None else ("http" if t == "-" else "https") for t in tls],
        "operation": list(operation),
        "time_taken_ms": list(total),
    }
    return finish(reader, numbers, lines, data, required=("ts",))
