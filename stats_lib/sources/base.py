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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.privacy import mask_ips
from ..schema import RAW_SCHEMA, REJECT_SCHEMA

BATCH_SIZE = 100_000
MAX_LINE_CHARS = 64 * 1024  # longer lines are rejected, never parsed


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

        return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)  # type: ignore[return-value]
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
                    if "\x00" in text:
                        self.reject(number, "binary data", text)
                        continue
                    yield number, text.rstrip("\r\n")
        except (OSError, EOFError, ValueError) as exc:  # truncated gzip, corrupt bz2/zstd, ...
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


def dash_to_none(value: str | None) -> str | None:
    return None if value in (None, "", "-") else value


def raw_table(columns: dict[str, list]) -> pa.Table:
    """A RAW_SCHEMA table from column lists; absent columns are null. Types are converted by Arrow."""
    n = len(next(iter(columns.values()))) if columns else 0
    arrays = []
    for f in RAW_SCHEMA:
        values = columns.get(f.name)
        arrays.append(pa.nulls(n, f.type) if values is None else pa.array(values, type=f.type))
    return pa.Table.from_arrays(arrays, schema=RAW_SCHEMA)


def int_column(values: pa.Array, type_: pa.DataType) -> pa.Array:
    """Digits to integers; anything else ('-', '', garbage) to null."""
    values = pc.cast(values, pa.string())
    ok = pc.match_substring_regex(values, r"^-?\d{1,18}$")
    return pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), type_)


def float_column(values: pa.Array) -> pa.Array:
    values = pc.cast(values, pa.string())
    ok = pc.match_substring_regex(values, r"^-?\d+(\.\d+)?$")
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
                if line.strip():
                    lines.append(line.rstrip("\r\n"))
                if len(lines) >= max_lines or read > max_bytes:
                    break
    except (OSError, EOFError, ValueError):
        pass
    return lines
