"""CloudFront standard logs, legacy W3C form (tab-separated, ``#Version`` / ``#Fields`` header).

The ``#Fields`` line decides the columns (files with 24, 26 and 33 fields exist). Without a header, a line's
field count picks the matching prefix of the canonical field list. Values are percent-encoded; older files
double-encode the user agent (``%2520``). ``-`` is null; status ``000`` (client aborted) is kept as status 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc

from .base import LineReader, dash_to_none, float_column, int_column, raw_table

NAME = "cloudfront"

FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
    "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
    "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
    "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte "
    "x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"
).split()
KNOWN_WIDTHS = (24, 26, 33)

# RAW column <- CloudFront field
_WANTED = {
    "c-ip": "client_ip",
    "cs-method": "method",
    "cs-uri-stem": "path",
    "cs-uri-query": "query",
    "sc-status": "status",
    "sc-bytes": "bytes_sent",
    "cs(Referer)": "referrer",
    "cs(User-Agent)": "user_agent",
    "sc-content-type": "content_type",
    "cs-protocol": "protocol",
    "x-edge-location": "edge_location",
    "x-edge-result-type": "edge_result_type",
    "time-taken": "time_taken_ms",
    "c-country": "country_hint",  # standard logging v2 in W3C output
}


def sniff(lines: list[str]) -> bool:
    """True when the sample looks like a CloudFront standard log."""
    for line in lines:
        if line.startswith("#Fields:"):  # web distributions; RTMP streaming logs (x-event, no cs-method) are not
            return "x-edge-location" in line and "cs-method" in line
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) in (*KNOWN_WIDTHS, 34) and len(parts[0]) == 10 and parts[0][4] == "-" and ":" in parts[1]:
            return True
        return False
    return False


def decode(value: str | None) -> str | None:
    """Percent-decode once, and a second time when the field was double-encoded (``%2520``)."""
    if value is None:
        return None
    once = unquote(value, errors="replace")
    if "%25" in value and "%" in once:
        once = unquote(once, errors="replace")
    return once


def parse(reader: LineReader) -> Iterator[pa.Table]:
    fields: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, line in reader:
        if not line.strip():
            continue
        if line.startswith("#"):
            if line.startswith("#Fields:"):
                fields = line[len("#Fields:") :].split()
            continue
        parts = line.split("\t")
        width = len(fields) if fields else None
        if width is not None and len(parts) == width + 1 and parts[-1] == "":
            parts.pop()  # a trailing tab
        if width is None:
            if len(parts) > len(FIELDS) or len(parts) < KNOWN_WIDTHS[0]:
                reader.reject(number, f"expected 24 to 33 tab-separated fields, found {len(parts)}", line)
                continue
        elif len(parts) != width:
            reader.reject(number, f"expected {width} tab-separated fields, found {len(parts)}", line)
            continue
        rows.append((number, parts))
        if len(rows) >= reader.batch_size:
            yield from _to_table(rows, fields, reader)
            rows = []
    if rows:
        yield from _to_table(rows, fields, reader)


def _to_table(rows: list[tuple[int, list[str]]], fields: list[str] | None, reader: LineReader) -> Iterator[pa.Table]:
    # Group rows by width so header-less files with mixed widths still map names correctly.
    by_width: dict[int, list[tuple[int, list[str]]]] = {}
    for row in rows:
        by_width.setdefault(len(row[1]), []).append(row)
    for width, group in by_width.items():
        names = fields if fields else FIELDS[:width]
        index = {name: i for i, name in enumerate(names)}
        columns = list(zip(*(parts for _, parts in group)))
        numbers = [n for n, _ in group]

        def col(name: str) -> list[str | None]:
            i = index.get(name)
            if i is None:
                return [None] * len(group)
            return [dash_to_none(v) for v in columns[i]]

        dates, times = col("date"), col("time")
        stamp = pa.array([f"{d}T{t}" if d and t else None for d, t in zip(dates, times)], pa.string())
        ts = pc.strptime(stamp, format="%Y-%m-%dT%H:%M:%S", unit="ms", error_is_null=True)
        status = int_column(pa.array(col("sc-status"), pa.string()), pa.int16())
        bad = pc.or_(pc.is_null(ts), pc.is_null(status)).to_pylist()
        data: dict[str, list] = {}
        for field, target in _WANTED.items():
            values = col(field)
            if field in ("cs(User-Agent)", "cs(Referer)", "cs-uri-stem", "sc-content-type"):
                values = _decode_distinct(values)
            if field == "cs(User-Agent)":
                values = ["" if v is None else v for v in values]  # recorded but empty: a bot by definition
            data[target] = values
        host = col("x-host-header")
        cs_host = col("cs(Host)")
        data["host"] = [h or c for h, c in zip(host, cs_host)]
        data["line_number"] = numbers
        table = raw_table({k: v for k, v in data.items() if k not in ("status", "bytes_sent", "time_taken_ms")})
        table = table.set_column(table.schema.get_field_index("ts"), "ts", ts)
        table = table.set_column(table.schema.get_field_index("status"), "status", status)
        bytes_sent = int_column(pa.array(data["bytes_sent"], pa.string()), pa.int64())
        table = table.set_column(table.schema.get_field_index("bytes_sent"), "bytes_sent", bytes_sent)
        seconds = float_column(pa.array(data["time_taken_ms"], pa.string()))
        table = table.set_column(
            table.schema.get_field_index("time_taken_ms"), "time_taken_ms", pc.multiply(seconds, 1000.0)
        )
        if any(bad):
            for (number, parts), is_bad, d, t, s in zip(group, bad, dates, times, col("sc-status")):
                if is_bad:
                    reason = "bad status" if d and t and s is not None and not s.isdigit() else "bad date or time"
                    reader.reject(number, reason, "\t".join(parts))
            table = table.filter(pc.invert(pa.array(bad)))
        yield table


def _decode_distinct(values: list[str | None]) -> list[str | None]:
    cache: dict[str, str | None] = {}
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        d = cache.get(v)
        if d is None:
            d = cache[v] = decode(v)
        out.append(d)
    return out
