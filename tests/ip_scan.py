"""The test side of "no raw IP stored": one scan of everything a run wrote, used by every test that checks it.

``scan(folder, ..., texts={...}, ips=...)`` reads everything under the folders: each value of every Parquet column
(any type, as text) and the file's key-value metadata, and the text of every other file (JSON ledger records, CSV,
logs, WAL segments; ``.gz``/``.zst`` decompressed first), plus any named texts (a process's stdout, stderr). It
reports where IP addresses stand in them:

- ``ips=None``: every IP address written as such, except a network address of its own stored prefix
  (``203.0.113.0`` of ``203.0.113.0/24``, ``2001:db8:1::`` of ``2001:db8:1::/48``): that is what masking leaves.
- ``ips=[...]``: only those addresses (the run's inputs; an input x.y.z.0 is not found in its stored prefix), in any
  spelling ``ipaddress`` reads, found even when glued to letters or punctuation (``Hit_203.0.113.7_GET``),
  never inside a longer number.

``assert_no_raw_ip`` fails on any address found outside ``allowed`` (address -> the columns where it may stand in
another role, e.g. a version number in a user agent) and on a scan that read nothing.
"""

from __future__ import annotations

import gzip
import ipaddress
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import zstandard

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Place = tuple[str, str]  # (file or text name, Parquet column or TEXT)
TEXT = "(text)"

# candidates, whatever their neighbours: an IPv4 dotted quad not inside a longer number, an IPv6 run of hex groups
_V4 = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)"
_V6 = r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])"
_CANDIDATE = re.compile(f"{_V4}|{_V6}")


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IP address (S3 times such as 06/Feb/2019:00:00:38 look like IPv6 to a regex)."""
    return _address(text) is not None


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_own_prefix(ip: Address) -> bool:
    """Whether ``ip`` is the network address of the prefix that is stored for it (x.y.z.0 of a /24, a:b:c:: of a
    /48), computed here with plain integers, not with ``stats_lib``."""
    if ip.version == 6 and ip.ipv4_mapped is None:
        return int(ip) & ((1 << 80) - 1) == 0
    return int(ip) & 0xFF == 0


def _prefix(ip: Address, match: re.Match[str]) -> bool:
    """Whether the match is the network address of a stored prefix: its own prefix, followed by '/24' or '/48'."""
    return is_own_prefix(ip) and re.match(r"/\d", match.string[match.end():match.end() + 2]) is not None


def addresses_in(text: str) -> Iterator[Address]:
    """Every IP address written in ``text`` except the network address of a stored prefix."""
    for match in _CANDIDATE.finditer(text):
        ip = _address(match.group(0))
        if ip is not None and not is_own_prefix(ip):
            yield ip


def spellings(ip: Address) -> set[str]:
    """How an address may be written: IPv4 as a dotted quad, IPv6 compressed, exploded, and in upper case."""
    if ip.version == 4:
        return {str(ip)}
    return {str(ip), ip.exploded, str(ip).upper(), ip.exploded.upper()}


def _known_pattern(ips: Iterable[Address]) -> re.Pattern[str]:
    """The spellings of ``ips``, guarded only against digits (IPv4) or hex digits and ':' (IPv6) beside them."""
    v4 = [re.escape(s) for ip in ips if ip.version == 4 for s in spellings(ip)]
    v6 = [re.escape(s) for ip in ips if ip.version == 6 for s in spellings(ip)]
    parts = []
    if v4:
        parts.append(rf"(?<![\d.])(?:{'|'.join(sorted(v4, key=len, reverse=True))})(?!\.?\d)")
    if v6:
        parts.append(rf"(?<![0-9A-Fa-f:])(?:{'|'.join(sorted(v6, key=len, reverse=True))})(?![0-9A-Fa-f:])")
    return re.compile("|".join(parts) or r"(?!)")


def file_text(path: Path) -> str:
    """A non-Parquet file's text (gzip and zstd decompressed), undecodable bytes replaced."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:4] == b"\x28\xb5\x2f\xfd":
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data.decode("utf-8", "replace")


def stored_texts(*roots: Path | str) -> Iterator[tuple[Place, str]]:
    """((file, column), text) for everything under the roots (files or folders): one text per Parquet column (its
    distinct values as text, one a line) and one for its key-value metadata ('(metadata)'), one per other file
    (column '(text)')."""
    for root in map(Path, roots):
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            name = path.name if path == root else str(path.relative_to(root))
            if path.suffix != ".parquet":
                yield (name, TEXT), file_text(path)
                continue
            parquet = pq.ParquetFile(path)
            metadata = parquet.schema_arrow.metadata or {}
            yield (name, "(metadata)"), "\n".join(f"{k!r}: {v!r}" for k, v in metadata.items())
            table = parquet.read()
            for column_name, column in zip(table.column_names, table.columns):
                values = column.unique().to_pylist() if column.type.num_fields == 0 else column.to_pylist()
                yield (name, column_name), "\n".join(_as_text(v) for v in values if v is not None)


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@dataclass
class Scan:
    """What a scan read (``read``: the places, in order) and found (canonical address -> the places it stands in)."""

    read: list[Place] = field(default_factory=list)
    found: dict[str, set[Place]] = field(default_factory=dict)

    def leaks(self, allowed: Mapping[str, set[str]] | None = None) -> dict[str, list[Place]]:
        """The addresses found outside their allowed columns, each with its places."""
        allowed = allowed or {}
        out = {}
        for ip, places in self.found.items():
            if not {column for _, column in places} <= allowed.get(ip, set()):
                out[ip] = sorted(places)
        return out


def scan(*roots: Path | str, texts: Mapping[str, str] | None = None, ips: Iterable[str] | None = None) -> Scan:
    """Where IP addresses stand in everything under ``roots`` and in the named ``texts`` (see the module docstring)."""
    wanted = None if ips is None else {ipaddress.ip_address(ip) for ip in ips}
    known = _known_pattern(wanted or ())
    result = Scan()
    named = [((name, TEXT), text) for name, text in (texts or {}).items()]
    for where, text in itertools.chain(stored_texts(*roots), named):
        result.read.append(where)
        if wanted is None:
            found = set(addresses_in(text))
        else:  # any spelling ipaddress reads, and the usual spellings wherever they stand
            matches = itertools.chain(_CANDIDATE.finditer(text), known.finditer(text))
            found = {ip for ip, m in ((_address(m.group(0)), m) for m in matches) if ip in wanted and not _prefix(ip, m)}
        for ip in found:
            result.found.setdefault(str(ip), set()).add(where)
    return result


def assert_no_raw_ip(*roots: Path | str, texts: Mapping[str, str] | None = None, ips: Iterable[str] | None = None,
                     allowed: Mapping[str, set[str]] | None = None) -> Scan:
    """``scan`` and fail on any address found outside ``allowed``, or when nothing was read; the scan is returned."""
    result = scan(*roots, texts=texts, ips=ips)
    assert result.read, f"nothing to scan under {roots}"
    leaks = result.leaks(allowed)
    assert not leaks, f"raw IP addresses written: {leaks}"
    return result
