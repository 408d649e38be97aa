"""Reading a log file's bytes: decompression with bounded memory, and blocks of whole lines with capped lengths.

``chunks(path)`` yields the decompressed bytes of a plain, gzip (ISA-L, several members allowed), bzip2 or zstd
file in pieces of at most ``CHUNK`` bytes: compressed input is fed a little at a time and output is asked for
with a maximum length, so a 2 MB gzip of 2 GB of zeros never holds more than a piece in memory. When the stream
is damaged (cut short, corrupt, garbage after its end) every byte decoded before the damage is yielded first and
then ``Damaged`` is raised with a reason; for gzip, the piece around the damage is decoded again with the
standard library, byte by byte, so nothing before the damage is lost.

``line_chunks(chunks)`` regroups those pieces into blocks that end on a line end, cutting every line longer than
``cap`` bytes to ``cap + 1`` bytes while reading (the rest of such a line is dropped as it arrives, never joined),
so every consumer sees whole lines of bounded length and can still tell that a line was too long.
"""

from __future__ import annotations

import bz2
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path

from isal import isal_zlib

CHUNK = 1 << 20  # decompressed bytes per piece
FEED = 1 << 16  # compressed bytes fed to a decompressor at a time (gzip, bzip2)
ZSTD_FEED = 2048  # zstd has no output limit per call: small input pieces bound the output (~64 MB at worst)
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class Damaged(Exception):
    """The compressed stream cannot be read further; everything before the damage was yielded."""


def compression(head: bytes) -> str | None:
    """'gzip', 'bzip2', 'zstd' from a file's first bytes (magic numbers), else None (plain)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZIP2_MAGIC):
        return "bzip2"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def chunks(path: str | Path, size: int = CHUNK) -> Generator[bytes, None, None]:
    """The decompressed bytes of a file, in pieces of at most ``size`` bytes; ``Damaged`` after the last good one."""
    with open(path, "rb") as raw:
        kind = compression(raw.read(4))
        raw.seek(0)
        if kind is None:
            while piece := raw.read(size):
                yield piece
        elif kind == "gzip":
            yield from _gzip(raw, size)
        elif kind == "bzip2":
            yield from _bzip2(raw, size)
        else:
            yield from _zstd(raw, size)


def _gzip(raw, size: int) -> Iterator[bytes]:
    """Every gzip member in turn (concatenated files are one stream); zero padding after the last is ignored."""
    member_start = 0  # file offset of the current member
    member_out = 0  # bytes yielded from it
    started = False  # some input of the current member was fed
    d = isal_zlib.decompressobj(31)
    pos = 0  # file offset of data[0]
    while piece := raw.read(FEED):
        data = piece
        while data:
            if not started:
                if data[0] == 0 and not data.strip(b"\x00"):  # zero padding (some tools write it)
                    pos += len(data)
                    break
                if not GZIP_MAGIC.startswith(data[:2]):
                    raise Damaged(f"data after the end of the gzip stream at byte {pos}")
                started, member_start, member_out = True, pos, 0
            try:
                out = d.decompress(data, size)
            except isal_zlib.error as exc:  # type: ignore[misc]  # isal ships no stubs for it
                tail = yield from _salvage(raw, member_start, member_out)
                raise Damaged(f"damaged gzip data ({tail or exc})") from None
            if out:
                member_out += len(out)
                yield out
            if d.eof:
                rest = d.unused_data
                pos += len(data) - len(rest)
                data = rest
                d, started = isal_zlib.decompressobj(31), False
            else:
                consumed = len(data) - len(d.unconsumed_tail)
                pos += consumed
                data = d.unconsumed_tail
                if not consumed and not out:  # pragma: no cover - no progress would loop forever
                    raise Damaged("gzip decompressor made no progress")
    if started:
        while out := d.decompress(b"", size):  # output still held back for the maximum length
            member_out += len(out)
            yield out
        if not d.eof:
            yield from _salvage(raw, member_start, member_out)
            raise Damaged("the gzip stream ends early: the file is truncated")


def _salvage(raw, member_start: int, already: int) -> Generator[bytes, None, str | None]:
    """Decode the member again with the standard library and yield what follows the ``already`` bytes given, up
    to the damage: the input piece that fails is fed again one byte at a time. Returns zlib's error, if any."""
    raw.seek(member_start)
    d = zlib.decompressobj(31)
    seen = 0  # the decompressor's output position in the member
    given = already  # bytes of the member yielded so far

    def new_part(out: bytes) -> bytes:
        nonlocal seen, given
        start, seen = seen, seen + len(out)
        if seen <= given:
            return b""
        part = out[max(0, given - start) :]
        given = seen
        return part

    while piece := raw.read(FEED):
        saved, saved_seen = d.copy(), seen
        try:
            for out in _bounded(d, piece):
                if part := new_part(out):
                    yield part
        except zlib.error:
            d, seen = saved, saved_seen
            for i in range(len(piece)):
                try:
                    for out in _bounded(d, piece[i : i + 1]):
                        if part := new_part(out):
                            yield part
                except zlib.error as exc:
                    return str(exc)
            return None
        if d.eof:
            return None
    return None


def _bounded(d, data: bytes) -> Iterator[bytes]:
    """Outputs of a zlib decompressor for ``data``, each at most ``CHUNK`` bytes."""
    while data:
        out = d.decompress(data, CHUNK)
        yield out
        if d.eof:
            return
        data = d.unconsumed_tail


def _bzip2(raw, size: int) -> Iterator[bytes]:
    d, started = bz2.BZ2Decompressor(), False
    while piece := raw.read(FEED):
        data = piece
        while data or (started and not d.needs_input and not d.eof):
            if not started and not data.strip(b"\x00"):
                break
            started = True
            try:
                out = d.decompress(data, size)
            except (OSError, EOFError, ValueError) as exc:
                raise Damaged(f"damaged bzip2 data ({exc})") from None
            data = b""
            if out:
                yield out
            if d.eof:
                data, d, started = d.unused_data, bz2.BZ2Decompressor(), False
    if started and not d.eof:
        raise Damaged("the bzip2 stream ends early: the file is truncated")


def _zstd(raw, size: int) -> Iterator[bytes]:
    import zstandard

    def new():
        return zstandard.ZstdDecompressor().decompressobj(write_size=size)

    d, started = new(), False
    while piece := raw.read(ZSTD_FEED):
        data = piece
        while data:
            if not started and not data.strip(b"\x00"):
                break
            started = True
            try:
                out = d.decompress(data)
            except zstandard.ZstdError as exc:
                raise Damaged(f"damaged zstd data ({exc})") from None
            data = b""
            for i in range(0, len(out), size):
                yield out[i : i + size]
            if d.eof:
                data, d, started = d.unused_data, new(), False
    if started and not d.eof:
        raise Damaged("the zstd stream ends early: the file is truncated")


def line_chunks(pieces: Iterator[bytes], block_bytes: int, cap: int) -> Iterator[tuple[bytes, bytes]]:
    """``(block, tail)`` pairs: ``block`` is whole lines (each ending in ``\\n``, at least ``block_bytes`` of them
    unless the input ends), every line longer than ``cap`` bytes cut to ``cap + 1`` bytes; ``tail`` is b"" except
    with the last block, where it is the final line without a line end (possibly empty).

    The pieces iterator may raise (``Damaged``): then what was complete before is yielded first, and the partial
    line in progress is handed over as the exception's ``partial`` attribute (for the reject's text).
    """
    parts: list[bytes | memoryview] = []  # complete lines gathered for the next block
    gathered = 0
    carry = b""  # the line in progress (at most cap + 1 bytes kept)
    dropping = False  # inside a line already cut: discard up to its end
    try:
        for piece in pieces:
            if dropping:
                nl = piece.find(b"\n")
                if nl < 0:
                    continue
                dropping = False
                parts.append(carry + b"\n")
                gathered += len(carry) + 1
                carry, piece = b"", piece[nl + 1 :]
            cut = piece.rfind(b"\n")
            if cut < 0:
                carry += piece
            else:
                if carry:
                    parts.append(carry)
                parts.append(memoryview(piece)[: cut + 1])  # no copy: the block's join is the only one
                gathered += len(carry) + cut + 1
                carry = piece[cut + 1 :]
            if len(carry) > cap:
                carry, dropping = _cut(carry, cap), True
            if gathered >= block_bytes:
                yield b"".join(parts), b""
                parts, gathered = [], 0
    except Damaged as exc:
        if parts:
            yield b"".join(parts), b""
        exc.partial = carry  # type: ignore[attr-defined]
        raise
    yield b"".join(parts), carry


def _cut(line: bytes, cap: int) -> bytes:
    """The first ``cap + 1`` bytes of an over-long line, extended to the end of a UTF-8 character it splits."""
    end = cap + 1
    while end < min(len(line), cap + 4) and (line[end] & 0xC0) == 0x80:
        end += 1
    return line[:end]
