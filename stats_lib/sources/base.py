"""Shared machinery for log sources: opening (compressed) files, reading lines, collecting rejects.

A parser is a function ``parse(reader: LineReader) -> Iterator[pa.Table]`` yielding RAW_SCHEMA tables of at
most ``reader.batch_size`` rows. It calls ``reader.reject(...)`` for a malformed line and ``reader.skip(...)``
for a line that is well formed but is not a request (a TCP-only ELB line, a connection log). Comment and header
lines (``#...``) are neither. Nothing a parser sees is lost: every line ends up as a row, a reject or a skip.
"""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import unquote, unquote_plus

import pyarrow as pa
import pyarrow.compute as pc

from ..privacy import mask_ips
from ..schema import RAW_SCHEMA, REJECT_SCHEMA

BATCH_SIZE = 100_000
MAX_LINE_CHARS = 64 * 1024  # longer lines are rejected, never parsed
DECODE_NOTE = "invalid UTF-8, decoded with replacement characters"  # a note, not a reject: the line is still parsed


def _read_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, EOFError, ValueError, zlib.error]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


READ_ERRORS = _read_errors()  # what a damaged file (truncated gzip, corrupt bz2/zstd) raises while being read


def open_binary(path: str | Path) -> IO[bytes]:
    """Open a local log file, transparently decompressing by magic number (gzip, bzip2, zstd)."""
    raw = open(path, "rb")
    head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
    if head[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if head[:3] == b"BZh":
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    if head == b"\x28\xb5\x2f\xfd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return io.BufferedReader(stream)  # type: ignore[arg-type]  # line iteration needs a buffered reader
    return raw


@dataclass
class LineReader:
    """Iterates (line_number, text) over a source file and records what could not become an event."""

    path: str
    source_file: str  # the name recorded with events and rejects
    batch_size: int = BATCH_SIZE
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)  # (line, kind, reason, text)
    reasons: Counter = field(default_factory=Counter)
    lines: int = 0
    decode_errors: int = 0
    read_error: str | None = None

    def __iter__(self) -> Iterator[tuple[int, str]]:
        try:
            with open_binary(self.path) as binary:
                for number, data in enumerate(binary, start=1):
                    self.lines = number
                    if len(data) > MAX_LINE_CHARS:
                        self.reject(number, "line too long", data[:2000].decode("utf-8", "replace"))
                        continue
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError:
                        text = data.decode("utf-8", "replace")
                        self.decode_errors += 1
                        self.reasons[DECODE_NOTE] += 1
                    if "\x00" in text:
                        self.reject(number, "binary data", text)
                        continue
                    yield number, text.rstrip("\r\n")
        except READ_ERRORS as exc:  # truncated gzip, corrupt bz2/zstd, ...
            self.read_error = f"{type(exc).__name__}: {exc}"
            self.reject(self.lines + 1, f"unreadable: {self.read_error}", "")

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
    """Digits to integers; anything else ('-', '', garbage) to null."""
    values = pc.cast(values, pa.string())
    ok = pc.match_substring_regex(values, r"^-?\d{1,18}$")
    return pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), type_)


def float_column(values: pa.Array) -> pa.Array:
    values = pc.cast(values, pa.string())
    ok = pc.match_substring_regex(values, r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
    return pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.float64())


def text_sample(path: str | Path, max_lines: int = 20, max_bytes: int = 256 * 1024) -> list[str]:
    """The first non-empty lines of a file (decompressed), for format detection."""
    lines: list[str] = []
    try:
        with open_binary(path) as binary:
            reader = io.TextIOWrapper(binary, encoding="utf-8", errors="replace")  # type: ignore[arg-type]
            read = 0
            for line in reader:
                read += len(line)
                if len(line) > MAX_LINE_CHARS:  # rejected by the parser anyway; look further for a sample
                    if read > 16 * max_bytes:
                        break
                    continue
                if line.strip():
                    lines.append(line.rstrip("\r\n"))
                if len(lines) >= max_lines or read > max_bytes:
                    break
    except READ_ERRORS:
        pass
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
    return _naive_utc(pc.strptime(strings, format="%d/%b/%Y:%H:%M:%S %z", unit="ms", error_is_null=True))


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
