"""Apache / Nginx access logs: NCSA common, combined, and their virtual-host variants.

- ``common``:          ``%h %l %u %t "%r" %>s %b``  (no referrer, no user agent: ``user_agent`` stays null)
- ``combined``:        common + ``"%{Referer}i" "%{User-agent}i"``  (Nginx's default ``combined`` is the same)
- ``vhost_common``:    ``%v`` (optionally ``%v:%p``) + common
- ``vhost_combined``:  ``%v`` (optionally ``%v:%p``) + combined

The time ``[10/Feb/2012:16:42:07 -0500]`` is converted to UTC with its offset. ``-`` byte counts are null.
Anything after the last expected field (Icecast's duration, ``%D``) is ignored. A line that does not match the
format is rejected. Each variant is a ``LogFormat`` with the ``NAME``/``sniff``/``parse`` interface of a source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from .base import LineReader, clf_time_column, decode_distinct, finish, split_request, ua_values

_Q = r'"((?:[^"\\]|\\.)*)"'  # a quoted field, with backslash escapes
_TIME = r"\[(\d{1,2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]"
_COMMON = r"(\S+) (\S+) (\S+) " + _TIME + " " + _Q + r" (\d{3}|-) (\d+|-)"
_COMBINED = _COMMON + " " + _Q + " " + _Q
_END = r"(?=\s|$)"


@dataclass(frozen=True)
class LogFormat:
    """One line-regex variant of the NCSA family."""

    NAME: str
    regex: re.Pattern[str]
    vhost: bool
    combined: bool

    def sniff(self, lines: list[str]) -> bool:
        """True when at least 80% of the sample's data lines (and at least one) match this variant."""
        data = [line for line in lines if line.strip() and not line.startswith("#")]
        if not data:
            return False
        hits = sum(1 for line in data if self.regex.match(line))
        return hits > 0 and hits >= 0.8 * len(data)

    def parse(self, reader: LineReader) -> Iterator[pa.Table]:
        return _parse(self, reader)


def _variant(name: str, vhost: bool, combined: bool) -> LogFormat:
    body = _COMBINED if combined else _COMMON
    prefix = r"^(\S+) " if vhost else r"^()"
    return LogFormat(name, re.compile(prefix + body + _END), vhost, combined)


VHOST_COMBINED = _variant("vhost_combined", vhost=True, combined=True)
VHOST_COMMON = _variant("vhost_common", vhost=True, combined=False)
COMBINED = _variant("combined", vhost=False, combined=True)
COMMON = _variant("common", vhost=False, combined=False)
VARIANTS = (VHOST_COMBINED, VHOST_COMMON, COMBINED, COMMON)  # detection order: most specific first


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\\\", "\\") if "\\" in value else value


def _parse(fmt: LogFormat, reader: LineReader) -> Iterator[pa.Table]:
    rows: list[tuple[int, str, tuple[str, ...]]] = []
    for number, line in reader.records():  # blank and '#' lines are counted, not yielded
        m = fmt.regex.match(line)
        if m is None:
            reader.reject(number, f"not a {fmt.NAME} log line", line)
            continue
        rows.append((number, line, m.groups()))
        if len(rows) >= reader.batch_size:
            yield _table(fmt, rows, reader)
            rows = []
    if rows:
        yield _table(fmt, rows, reader)


def _table(fmt: LogFormat, rows: list[tuple[int, str, tuple[str, ...]]], reader: LineReader) -> pa.Table:
    numbers = [r[0] for r in rows]
    lines = [r[1] for r in rows]
    cols = list(zip(*(r[2] for r in rows)))
    vhost, ip, _ident, _user, when, request, status, size = cols[:8]
    requests = [split_request(_unescape(r)) for r in request]
    method, scheme, url_host, path, query = (list(c) for c in zip(*requests))
    data: dict[str, list | pa.Array] = {
        "ts": clf_time_column(list(when)),
        "client_ip": list(ip),
        "method": method,
        "host": [v or h for v, h in zip(vhost, url_host)] if fmt.vhost else url_host,
        "path": decode_distinct(path),
        "query": query,
        "status": list(status),
        "bytes_sent": list(size),
        "protocol": scheme,
    }
    if fmt.combined:
        referrer, agent = cols[8], cols[9]
        data["referrer"] = [None if r in ("", "-") else _unescape(r) for r in referrer]
        data["user_agent"] = ua_values([_unescape(a) for a in agent])
    return finish(reader, numbers, lines, data, required=("ts", "status"))


