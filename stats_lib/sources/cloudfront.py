"""CloudFront standard logs, legacy W3C form (tab-separated, ``#Version`` / ``#Fields`` header).

The ``#Fields`` line decides the columns (files with 24, 26 and 33 fields exist). Without a header, a line's
field count picks the matching prefix of the canonical field list. Values are percent-encoded; older files
double-encode the user agent (``%2520``). ``-`` is null; status ``000`` (client aborted) is kept as status 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .._arrow import flat, per_distinct
from ..schema import RAW_SCHEMA
from .base import LineReader, float_column, int_column
from .blocks import byte_blocks, checked_lines, plain_lines

NAME = "cloudfront"

FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
    "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
    "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
    "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte "
    "x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"
).split()
KNOWN_WIDTHS = (24, 26, 33)
CSV_BLOCK_BYTES = 1 << 20  # Arrow's CSV reader is fastest on blocks of about this size (measured: 2x a 32 MB one)

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


def decode_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``decode`` of every value, computed once per distinct value: inside Arrow for the values whose only
    escapes are ``%20`` (spaces: most user agents, referrers and paths), with ``decode`` for the others."""
    encoded = pc.dictionary_encode(flat(values))
    distinct = encoded.dictionary
    decoded = pc.replace_substring(distinct, "%20", " ")
    other = pc.match_substring(pc.replace_substring(distinct, "%20", ""), "%")  # any other '%': an escape to decode
    if pc.any(other).as_py():
        slow = pa.array([decode(v) for v in distinct.filter(other).to_pylist()], pa.string())
        decoded = pc.replace_with_mask(decoded, other, slow)
    return pc.take(decoded, encoded.indices)


def parse(reader: LineReader, fast: bool = True) -> Iterator[pa.Table]:
    """Columnar: each block of lines is split on tabs inside Arrow; only rejects are handled one by one.

    ``fast``: a block whose every line is plain (``blocks.plain_lines``) and a record of the header's width with a
    good date, time and status is read by Arrow's CSV reader (``_plain_block``); any other block, the plain way
    (``_lines_block``). Both give the same rows (``tests/test_cloudfront_fast.py``)."""
    state = _Header()
    for first, data, count in byte_blocks(reader):
        table = _plain_block(data, first, count, state, reader) if fast else None
        if table is not None:
            if table.num_rows:
                yield table
            continue
        yield from _lines_block(checked_lines(reader, data, first), first, state, reader)


class _Header:
    """The ``#Fields`` of the file so far (None before any): a later ``#Fields`` line replaces it."""

    def __init__(self) -> None:
        self.fields: list[str] | None = None


def _lines_block(lines: pa.Array, first: int, state: _Header, reader: LineReader) -> Iterator[pa.Table]:
    # A '#Fields' line may appear anywhere (concatenated files): cut the block into segments at each one.
    is_meta = pc.fill_null(pc.starts_with(lines, "#"), False)
    starts = [0]
    for i in pc.indices_nonzero(is_meta).to_pylist():
        starts.append(i)
    starts.append(len(lines))
    for a, b in zip(starts, starts[1:]):
        if a < b and is_meta[a].as_py():
            reader.headers += 1
            header = lines[a].as_py()
            if header.startswith("#Fields:"):
                state.fields = header[len("#Fields:") :].split()
            a += 1
        if a < b:
            yield from _segment(lines.slice(a, b - a), first + a, state.fields, reader)


def _plain_block(data: bytes, first: int, count: int, state: _Header, reader: LineReader) -> pa.Table | None:
    """The RAW rows of a block read by Arrow's CSV reader (tab-separated, no quoting), or None when the block
    needs the line-by-line way: a line that is not plain, a ``#`` line after the first record, no header, or a
    line that is not a good record (wrong field count, a trailing tab, a bad date, time or status; an empty or blank
    line is one of those: no date). Nothing is counted in ``reader`` unless the block is taken."""
    if not plain_lines(data):
        return None
    start, metas = _leading_metas(data)
    fields = state.fields
    for line in metas:
        if line.startswith("#Fields:"):
            fields = line[len("#Fields:") :].split()
    if not fields or len(fields) < 2 or len(set(fields)) != len(fields):
        return None
    # the last field too: empty there means a trailing tab, which the plain way trims (one field fewer)
    taken = [name for name in (*_WANTED, "date", "time", "cs(Host)", "x-host-header", fields[-1]) if name in fields]
    taken = list(dict.fromkeys(taken))
    n = count - len(metas)
    if n:
        try:  # a line of another width raises: the block goes the plain way
            read = pcsv.read_csv(
                pa.py_buffer(memoryview(data)[start:]),
                read_options=pcsv.ReadOptions(column_names=fields, use_threads=False, block_size=CSV_BLOCK_BYTES),
                parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False, double_quote=False,
                                                ignore_empty_lines=False),
                convert_options=pcsv.ConvertOptions(include_columns=taken, column_types={c: pa.string() for c in taken},
                                                    null_values=["-"], strings_can_be_null=True),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if read.num_rows != n:
            return None
        columns = {name: flat(read[name]) for name in taken}
        first_record = first + len(metas)
        table, bad = _table(lambda name: columns.get(name, pa.nulls(n, pa.string())), n, set(fields),
                            pa.array(np.arange(first_record, first_record + n, dtype=np.int64)))
        if pc.any(bad).as_py() or pc.any(pc.equal(columns[fields[-1]], "")).as_py():
            return None  # a '#', empty or blank line (no date), a bad record, or a trailing tab
    else:
        table = RAW_SCHEMA.empty_table()
    reader.headers += len(metas)
    state.fields = fields
    return table


def _leading_metas(data: bytes) -> tuple[int, list[str]]:
    """(offset of the first line that is not a ``#`` line, those leading ``#`` lines) of a block."""
    start, metas = 0, []
    while data.startswith(b"#", start):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        metas.append(data[start:end].decode("ascii"))
        start = end + 1
    return start, metas


def _segment(lines: pa.Array, first: int, fields: list[str] | None, reader: LineReader) -> Iterator[pa.Table]:
    numbers = pa.array(range(first, first + len(lines)), pa.int64())
    keep = pc.is_valid(lines)  # rejected and blank lines are nulls, already counted
    lines, numbers = lines.filter(keep), numbers.filter(keep)
    if len(lines) == 0:
        return
    lines = pc.utf8_rtrim(lines, "\t")  # a trailing tab (fields are never empty: an empty one is "-")
    parts = pc.split_pattern(lines, "\t")
    counts = pc.list_value_length(parts)
    if fields:
        widths = [len(fields)]
    else:
        widths = [w for w in pc.unique(counts).to_pylist() if KNOWN_WIDTHS[0] <= w <= len(FIELDS)]
    ok = pc.is_in(counts, pa.array(widths, counts.type))
    if not pc.all(ok).as_py():
        for i in pc.indices_nonzero(pc.invert(ok)).to_pylist():
            found = counts[i].as_py()
            reason = (f"expected {len(fields)} tab-separated fields, found {found}" if fields
                      else f"expected 24 to 33 tab-separated fields, found {found}")
            reader.reject(numbers[i].as_py(), reason, lines[i].as_py())
    for width in widths:
        mask = pc.equal(counts, width)
        if not pc.any(mask).as_py():
            continue
        names = fields if fields else FIELDS[:width]
        yield _to_table(parts.filter(mask), numbers.filter(mask), lines.filter(mask), names, reader)


def _number(values: pa.Array, type_: pa.DataType) -> pa.Array:
    """Cast a column of numbers; only when some value is not a number, go the slower way (those become null)."""
    try:
        return pc.cast(values, type_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return float_column(values) if pa.types.is_floating(type_) else int_column(values, type_)


def _to_table(parts: pa.Array, numbers: pa.Array, lines: pa.Array, names: list[str], reader: LineReader) -> pa.Table:
    index = {name: i for i, name in enumerate(names)}
    n, width = len(parts), len(names)
    null = pa.scalar(None, pa.string())
    flat_parts = parts.flatten()  # every row has exactly `width` fields: field i of row r is flat[r * width + i]

    def col(name: str) -> pa.Array:
        i = index.get(name)
        if i is None:
            return pa.nulls(n, pa.string())
        values = flat_parts.take(pa.array(np.arange(i, n * width, width)))
        return pc.if_else(pc.equal(values, "-"), null, values)

    table, bad = _table(col, n, set(index), numbers)
    if pc.any(bad).as_py():
        for i in pc.indices_nonzero(bad).to_pylist():
            reason = "bad date or time" if not table["ts"][i].is_valid else "bad status"
            reader.reject(numbers[i].as_py(), reason, lines[i].as_py())
        table = table.filter(pc.invert(bad))
    return table


def _table(col: Callable[[str], pa.Array], n: int, names: set[str], numbers: pa.Array) -> tuple[pa.Table, pa.Array]:
    """The RAW table of ``n`` records and which of them are bad (no date and time, or no status); ``col(name)``
    gives a field's values ('-' already null, all nulls for a field the file does not record)."""
    stamp = pc.binary_join_element_wise(col("date"), col("time"), "T")
    ts = per_distinct(stamp, partial(pc.strptime, format="%Y-%m-%dT%H:%M:%S", unit="ms", error_is_null=True))
    status = _number(col("sc-status"), pa.int16())
    columns: dict[str, pa.Array] = {
        "ts": ts,
        "status": status,
        "bytes_sent": _number(col("sc-bytes"), pa.int64()),
        "time_taken_ms": pc.multiply(_number(col("time-taken"), pa.float64()), 1000.0),
        "line_number": numbers,
    }
    for field, target in _WANTED.items():
        if target in columns:
            continue
        values = col(field)
        if field in ("cs(User-Agent)", "cs(Referer)", "cs-uri-stem", "sc-content-type"):
            values = decode_column(values)
        columns[target] = values
    if "cs(User-Agent)" in names:  # recorded but empty ('-'): a bot by definition
        columns["user_agent"] = pc.fill_null(columns["user_agent"], "")
    columns["host"] = pc.coalesce(col("x-host-header"), col("cs(Host)"))
    table = pa.Table.from_arrays(
        [pc.cast(columns[f.name], f.type) if f.name in columns else pa.nulls(n, f.type) for f in RAW_SCHEMA],
        schema=RAW_SCHEMA,
    )
    return table, pc.or_(pc.is_null(ts), pc.is_null(status))
