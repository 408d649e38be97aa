"""Columnar line reading: a source file as Arrow string arrays of lines, a block at a time.

Parsers that can work on whole columns (split on a delimiter, pick fields, validate counts) read through
``line_blocks`` instead of line by line: the text is split into lines inside Arrow, so no Python object is made
per line. The same guarantees as ``LineReader`` hold: over-long lines and lines with NUL bytes are rejected,
invalid UTF-8 is decoded with replacement and counted, a read error (a truncated gzip) is a reject with a reason,
and ``reader.lines`` ends as the number of lines read.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from . import base

BLOCK_BYTES = 32 * 1024 * 1024  # about 100k CloudFront lines: large batches, bounded memory


def line_blocks(reader: "base.LineReader", block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, pa.Array]]:
    """Yield ``(number of the first line, lines)`` blocks; lines are without their line ending."""
    first = 1
    carry = b""
    with base.open_binary(reader.path) as binary:
        while True:
            try:
                chunk = binary.read(block_bytes)
            except (OSError, EOFError, ValueError) as exc:  # truncated gzip, corrupt bz2/zstd, ...
                reader.read_error = f"{type(exc).__name__}: {exc}"
                chunk = b""
            if chunk:
                data = carry + chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                data, carry = data[: cut + 1], data[cut + 1 :]
            else:
                data, carry = carry, b""
                if not data:
                    break
            lines = _checked_lines(reader, data, first)
            count = len(lines)
            reader.lines = first + count - 1
            yield first, lines
            first += count
            if not chunk:
                break
    if reader.read_error:
        reader.reject(reader.lines + 1, f"unreadable: {reader.read_error}", "")


def _checked_lines(reader: "base.LineReader", data: bytes, first: int) -> pa.Array:
    try:
        text = data.decode("utf-8")
        bad_utf8 = False
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        bad_utf8 = True
    if text.endswith("\n"):
        text = text[:-1]
    lines = pc.list_flatten(pc.split_pattern(pa.array([text], pa.string()), "\n"))
    lines = pc.utf8_rtrim(lines, "\r")
    if bad_utf8:
        broken = pc.sum(pc.match_substring(lines, "\ufffd")).as_py() or 0
        reader.decode_errors += broken
        reader.reasons[base.DECODE_NOTE] += broken
    bad = pc.greater(pc.utf8_length(lines), base.MAX_LINE_CHARS)
    if "\x00" in text:
        bad = pc.or_(bad, pc.match_substring(lines, "\x00"))
    if pc.any(bad).as_py():
        for i in pc.indices_nonzero(bad).to_pylist():
            line = lines[i].as_py()
            reason = "line too long" if len(line) > base.MAX_LINE_CHARS else "binary data"
            reader.reject(first + i, reason, line[:2000])
        lines = pc.if_else(bad, pa.scalar("", pa.string()), lines)  # kept in place so numbering holds
    return lines
