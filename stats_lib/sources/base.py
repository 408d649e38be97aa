"""Shared machinery for log sources: reading lines (decompression is ``streams``), collecting rejects.

A parser is a function ``parse(reader: LineReader) -> Iterator[pa.Table]`` yielding RAW_SCHEMA tables of at
most ``reader.batch_size`` rows. It calls ``reader.reject(...)`` for a malformed line and ``reader.skip(...)``
for a line that is well formed but is not a request (a TCP-only ELB line, a connection log). Comment and header
lines (``#...``) and blank lines are neither, and are counted. Nothing is lost: every line ends up as a row, a
reject, a skip, a header or a blank line, and the counts add up to the lines read.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import unquote, unquote_plus

import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import per_distinct
from ..privacy import mask_ips
from ..schema import RAW_SCHEMA, REJECT_SCHEMA
from .streams import CHUNK, Damaged, chunks, line_chunks

BATCH_SIZE = 100_000
MAX_LINE_BYTES = 64 * 1024  # longer lines are cut while reading and rejected, never parsed
LINE_TOO_LONG = "line too long"
BINARY_DATA = "binary data"
DECODE_NOTE = "invalid UTF-8, decoded with replacement characters"  # a note, not a reject: the line is still parsed


@dataclass
class LineReader:
    """Iterates (line_number, text) over a source file and records what could not become an event.

    Every line is accounted for exactly once: ``lines == events + rejected + skipped + headers + blank``, where
    events are the rows the parser yields. Blank lines are counted here and never yielded; a parser counts the
    header and comment lines it passes over (``records()`` does it for the ``#`` lines of line formats). Lines
    longer than ``MAX_LINE_BYTES`` are cut while reading (``streams.line_chunks``) and rejected; a damaged stream
    ends with one reject for the unreadable rest, counted as one more line.
    """

    path: str
    source_file: str  # the name recorded with events and rejects
    batch_size: int = BATCH_SIZE
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)  # (line, kind, reason, text)
    reasons: Counter = field(default_factory=Counter)
    lines: int = 0
    headers: int = 0  # header and comment lines (``#Fields``, ``#Version``, ``# ...``)
    blank: int = 0  # empty or whitespace-only lines
    decode_errors: int = 0
    read_error: str | None = None

    def __iter__(self) -> Iterator[tuple[int, str]]:
        """Every non-blank line (the over-long and binary ones become rejects, not yielded)."""
        number = 0
        try:
            for block, tail in line_chunks(chunks(self.path), CHUNK, MAX_LINE_BYTES):
                lines = block.split(b"\n")
                lines[-1] = tail  # the block ends with a line end: the last element is empty (or the tail)
                if not tail:
                    lines.pop()
                for data in lines:
                    number += 1
                    self.lines = number
                    text = self._checked(number, data)
                    if text is not None:
                        yield number, text
        except Damaged as exc:
            self.damaged(exc)

    def records(self) -> Iterator[tuple[int, str]]:
        """The lines that are neither blank nor ``#`` header/comment lines (those are counted)."""
        for number, line in self:
            if line.startswith("#"):
                self.headers += 1
                continue
            yield number, line

    def _checked(self, number: int, data: bytes) -> str | None:
        if len(data) > MAX_LINE_BYTES:
            self.reject(number, LINE_TOO_LONG, data[:2000].decode("utf-8", "replace"))
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "replace")
            self.decode_errors += 1
            self.reasons[DECODE_NOTE] += 1
        if "\x00" in text:
            self.reject(number, BINARY_DATA, text)
            return None
        text = text.rstrip("\r")
        if not text.strip():
            self.blank += 1
            return None
        return text

    def damaged(self, exc: Damaged) -> None:
        """The stream could not be read past this point: the rest is one rejected line with the reason."""
        self.read_error = str(exc)
        self.lines += 1
        partial = getattr(exc, "partial", b"")[:2000].decode("utf-8", "replace")
        self.reject(self.lines, f"unreadable: {self.read_error}", partial)

    def reject(self, line_number: int, reason: str, text: str) -> None:
        self.rejects.append((line_number, "rejected", reason, mask_ips(text)))
        self.reasons[reason] += 1

    def skip(self, line_number: int, reason: str, text: str) -> None:
        self.rejects.append((line_number, "skipped", reason, mask_ips(text)))
        self.reasons[reason] += 1

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.rejects if r[1] == "rejected")

    @property
    def skipped(self) -> int:
        return sum(1 for r in self.rejects if r[1] == "skipped")

    def rejects_table(self) -> pa.Table:
        return pa.table(
            {
                "source_file": [self.source_file] * len(self.rejects),
                "line_number": [r[0] for r in self.rejects],
                "kind": [r[1] for r in self.rejects],
                "reason": [r[2] for r in self.rejects],
                "line": [r[3] for r in self.rejects],
            },
            schema=REJECT_SCHEMA,
        )


def int_column(values: pa.Array, type_: pa.DataType) -> pa.Array:
    """Digits to integers; anything else ('-', '', garbage) and numbers the type cannot hold to null.

    A mutated line can carry a status of ``200200``: it is null here (so ``finish`` rejects the line with a reason),
    never an overflow that stops the file."""
    values = pc.cast(values, pa.string())
    ok = pc.match_substring_regex(values, r"^-?\d{1,18}$")
    wide = pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.int64())
    if type_ != pa.int64():
        bits = type_.bit_width
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if pa.types.is_signed_integer(type_) else (0, 2**bits - 1)
        fits = pc.and_(pc.greater_equal(wide, low), pc.less_equal(wide, high))
        wide = pc.if_else(fits, wide, pa.scalar(None, pa.int64()))
    return pc.cast(wide, type_)


def float_column(values: pa.Array) -> pa.Array:
    values = pc.cast(values, pa.string())
    ok = pc.match_substring_regex(values, r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
    return pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.float64())


def text_sample(path: str | Path, max_lines: int = 20, max_bytes: int = 256 * 1024,
                scan_bytes: int = 4 * 1024 * 1024) -> list[str]:
    """The first non-blank lines of a file (decompressed), for format detection.

    Reads a bounded prefix: up to ``max_lines`` lines or ``max_bytes`` of them, looking past over-long lines (the
    parser rejects those) for at most ``scan_bytes`` of decompressed data, so a bomb is never read to its end."""
    lines: list[str] = []
    read = 0
    carry = b""
    with contextlib.closing(chunks(path)) as pieces:
        try:
            for piece in pieces:
                data = carry + piece
                *whole, carry = data.split(b"\n")
                for line in whole:
                    read += len(line) + 1
                    if len(line) <= MAX_LINE_BYTES and line.strip():
                        lines.append(line.decode("utf-8", "replace").rstrip("\r"))
                    if len(lines) >= max_lines or (lines and read > max_bytes) or read > scan_bytes:
                        return lines
                if read + len(carry) > scan_bytes:
                    return lines
        except Damaged:
            return lines
    if carry.strip() and len(carry) <= MAX_LINE_BYTES:
        lines.append(carry.decode("utf-8", "replace").rstrip("\r"))
    return lines


# -- helpers shared by the line-oriented parsers ------------------------------------------------------------

_NULL_STR = pa.scalar(None, pa.string())


def _strings(values: list | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else pc.cast(values, pa.string())
    return pa.array(values, pa.string())


def _naive_utc(ts: pa.Array) -> pa.Array:
    """A timezone-aware timestamp column as naive UTC timestamp[ms]."""
    return pc.cast(ts, pa.timestamp("ms"), safe=False)


def clf_time_column(values: list | pa.Array) -> pa.Array:
    """Apache/S3 ``10/Feb/2012:16:42:07 -0500`` (brackets optional) to naive UTC; the offset is applied."""
    strings = pc.utf8_trim(_strings(values), "[]")
    return _naive_utc(per_distinct(strings, partial(pc.strptime, format="%d/%b/%Y:%H:%M:%S %z", unit="ms",
                                                    error_is_null=True)))


_ISO = (
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:[.,](?P<frac>\d{1,9}))?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def iso_time_column(values: list | pa.Array) -> pa.Array:
    """ISO 8601 timestamps (``2020-01-01T00:55:04.127531Z``, ``2013-10-10T16:52:00+02:00``; naive = UTC).

    Done with Arrow kernels: the base is parsed with strptime, the fraction (truncated to ms) and the offset are
    added as durations. Anything that is not such a timestamp (or an impossible date) becomes null.
    """
    strings = _strings(values)
    ok = pc.fill_null(pc.match_substring_regex(strings, _ISO), False)
    strings = pc.if_else(ok, strings, _NULL_STR)
    parts = pc.extract_regex(strings, _ISO)
    base = pc.replace_substring(pc.struct_field(parts, "base"), " ", "T")
    ts = pc.strptime(base, format="%Y-%m-%dT%H:%M:%S", unit="ms", error_is_null=True)
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.struct_field(parts, "frac"), 3, "0"), 0, 3)
    millis = pc.cast(frac, pa.int64())
    tz = pc.replace_substring(pc.struct_field(parts, "tz"), ":", "")
    tz = pc.if_else(pc.is_in(tz, pa.array(["", "Z"])), "+0000", tz)
    tz = pc.utf8_rpad(tz, 5, "0")  # +02 -> +0200
    sign = pc.if_else(pc.starts_with(tz, "-"), -1, 1)
    hours = pc.cast(pc.utf8_slice_codeunits(tz, 1, 3), pa.int64())
    minutes = pc.cast(pc.utf8_slice_codeunits(tz, 3, 5), pa.int64())
    offset_ms = pc.multiply(pc.multiply(sign, pc.add(pc.multiply(hours, 60), minutes)), 60_000)
    shift = pc.cast(pc.subtract(millis, offset_ms), pa.duration("ms"))
    return pc.add(ts, shift)


def epoch_time_column(values: list | pa.Array, unit_seconds: float = 1.0) -> pa.Array:
    """Epoch numbers (seconds by default, e.g. ``1703373474.8155608``) to naive UTC timestamp[ms]."""
    numbers = float_column(_strings(values)) if not _is_numeric(values) else pc.cast(values, pa.float64())
    millis = pc.round(pc.multiply(numbers, unit_seconds * 1000.0))
    ok = pc.and_(pc.greater(millis, 0.0), pc.less(millis, 4.1e12))
    millis = pc.if_else(pc.fill_null(ok, False), millis, pa.scalar(None, pa.float64()))
    return pc.cast(pc.cast(millis, pa.int64()), pa.timestamp("ms"))


def _is_numeric(values) -> bool:
    return isinstance(values, (pa.Array, pa.ChunkedArray)) and (
        pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
    )


def split_target(target: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """A request target (``/p?q`` or ``https://host:443/p?q``) to (scheme, host, raw path, raw query)."""
    if target is None or target in ("", "-"):
        return None, None, None, None
    scheme = host = None
    if "://" in target[:12]:
        scheme, _, rest = target.partition("://")
        slash = rest.find("/")
        question = rest.find("?")
        cut = min(i for i in (slash, question, len(rest)) if i >= 0)
        host, target = rest[:cut] or None, rest[cut:] or "/"
        scheme = scheme.lower()
    path, sep, query = target.partition("?")
    return scheme, host, path, (query if sep else None)


def split_request(request: str | None) -> tuple[str | None, str | None, str | None, str | None, str | None]:
    """``"GET /p?q HTTP/1.1"`` to (method, scheme, host, raw path, raw query); junk gives Nones."""
    if not request or request == "-":
        return None, None, None, None, None
    parts = request.split(" ")
    if len(parts) >= 2 and parts[0].isalpha() and parts[0].isupper():
        target = " ".join(parts[1:-1]) if len(parts) >= 3 and parts[-1].startswith("HTTP/") else " ".join(parts[1:])
        return (parts[0], *split_target(target))
    if len(parts) >= 2 and parts[0] == "-":  # ALB's malformed-request form: "- http://host:80-/ "
        scheme, host, path, query = split_target(parts[1])
        return None, scheme, host, path, query
    return None, None, None, None, None


def decode_distinct(values: list[str | None], plus: bool = False) -> list[str | None]:
    """Percent-decode each distinct value once (``+`` is a space when ``plus``)."""
    cache: dict[str, str] = {}
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        d = cache.get(v)
        if d is None:
            d = cache[v] = (unquote_plus if plus else unquote)(v, errors="replace")
        out.append(d)
    return out


def ua_values(values: list[str | None]) -> list[str]:
    """A user-agent field the format records: ``-`` or missing is '' (recorded empty: a bot by the contract)."""
    return ["" if v is None or v == "-" else v for v in values]


def finish(
    reader: LineReader,
    numbers: list[int],
    lines: list[str],
    data: dict[str, list | pa.Array],
    *,
    required: tuple[str, ...] = ("ts",),
) -> pa.Table:
    """A RAW_SCHEMA table from parsed columns; rows missing a ``required`` column are rejected, not kept.

    ``data`` maps RAW column names to Python lists or Arrow arrays (ints/floats may be digit strings: they are
    converted with ``int_column``/``float_column``, so ``-`` becomes null).
    """
    n = len(numbers)
    arrays = []
    for f in RAW_SCHEMA:
        if f.name == "line_number":
            arrays.append(pa.array(numbers, pa.int64()))
            continue
        values = data.get(f.name)
        if values is None:
            arrays.append(pa.nulls(n, f.type))
        elif pa.types.is_integer(f.type) and not _is_numeric(values):
            arrays.append(int_column(_strings(values), f.type))
        elif pa.types.is_floating(f.type) and not _is_numeric(values):
            arrays.append(float_column(_strings(values)))
        elif isinstance(values, (pa.Array, pa.ChunkedArray)):
            arrays.append(pc.cast(values, f.type))
        else:
            arrays.append(pa.array(values, f.type))
    table = pa.Table.from_arrays(arrays, schema=RAW_SCHEMA)
    bad = None
    for name in required:
        missing = pc.is_null(table[name]).combine_chunks()
        if not pc.any(missing).as_py():
            continue
        bad_here = missing if bad is None else pc.and_(missing, pc.invert(bad))
        for i in pc.indices_nonzero(bad_here).to_pylist():
            reader.reject(numbers[i], f"bad {_LABELS.get(name, name)}", lines[i])
        bad = missing if bad is None else pc.or_(bad, missing)
    if bad is not None:
        table = table.filter(pc.invert(bad))
    return table


_LABELS = {"ts": "timestamp", "status": "status code"}


@dataclass(frozen=True)
class SourceFormat:
    """A format that is not a module of its own (a variant sharing a parser): same interface as a source module."""

    NAME: str
    sniff: Callable[[list[str]], bool]
    parse: Callable[[LineReader], Iterator[pa.Table]]


def client_address(value: str | None) -> str | None:
    """``1.2.3.4:2817`` / ``[2001:db8::1]:443`` / ``2001:db8::1`` to the bare address; ``-`` to None."""
    if value is None or value in ("", "-"):
        return None
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    if value.count(":") > 1:  # IPv6 with a trailing port (ALB/ELB write it without brackets)
        head, _, tail = value.rpartition(":")
        if tail.isdigit() and len(tail) <= 5 and head.count(":") >= 2 and "::" not in value[-(len(tail) + 2):]:
            import ipaddress

            try:
                ipaddress.ip_address(value)
                return value
            except ValueError:
                return head
    return value


def any_time_column(values: list | pa.Array) -> pa.Array:
    """ISO 8601, Apache ``10/Feb/2012:16:42:07 -0500`` or epoch seconds, whichever each value is, to naive UTC."""
    strings = _strings(values)
    return pc.coalesce(iso_time_column(strings), clf_time_column(strings), epoch_time_column(strings))
