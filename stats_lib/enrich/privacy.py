"""Privacy primitives: IP masking for anything written, IP prefixes, daily salts and visitor ids.

A raw client IP must never be written anywhere. ``mask_ips`` scrubs free text (reject records, messages);
``ip_prefix`` keeps the network part (IPv4 /24, IPv6 /48); ``visitor_ids`` hashes (daily salt, site, ip, ua)
with keyed BLAKE2b. Salts are random, one per UTC day, and are deleted once that day's logs can no longer arrive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import secrets
import socket
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._addresses import DOTTED_QUAD
from ._distinct import DistinctCache, encode, flat

_IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
# IPv6: at least two colons with hex groups; covers compressed forms and embedded IPv4 tails.
_IPV6 = r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:.])"
_IP_RE = re.compile(f"{_IPV4}|{_IPV6}")
_MAX_LINE = 2000
_CLOCK = re.compile(r"(?:\d{4}:)?[0-2]?\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?")


def _mask_one(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        # A clock time (16:42:07, or 2012:16:42:07 in a CLF date) is not an address; anything else that looks
        # like part of an IPv6 address (a line cut short) is masked: masking too much is the safe error.
        if _CLOCK.fullmatch(text):
            return text
        return "<ip>"
    return ip_prefix_of(str(ip)) or "<ip>"


def mask_ips(text: str, cap: int = _MAX_LINE) -> str:
    """The text with every IP address replaced by its anonymised prefix, capped to ``cap`` characters (+ '…').

    Masking runs on a little more than will be kept, so an address cut by the cap is never left half-visible."""
    long = len(text) > cap
    masked = _IP_RE.sub(_mask_one, text[: cap + 64] if long else text)
    return masked[:cap] + "…" if long or len(masked) > cap else masked


def _fast_v4_prefix(address: str) -> str | None:
    """The /24 of a plain dotted-quad IPv4 address without leading zeros, else None (use ``ipaddress``)."""
    parts = address.split(".")
    if len(parts) != 4:
        return None
    for part in parts:
        if not part.isascii() or not part.isdigit() or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
            return None
        if int(part) > 255:
            return None
    return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"


def _fast_v6_prefix(address: str) -> str | None:
    """The /48 of a plain IPv6 address (or the /24 of an IPv4-mapped one) with the C library, else None."""
    try:
        packed = socket.inet_pton(socket.AF_INET6, address)
    except (OSError, ValueError):
        return None
    if packed[:12] == _MAPPED:
        return f"{packed[12]}.{packed[13]}.{packed[14]}.0/24"
    return socket.inet_ntop(socket.AF_INET6, packed[:6] + bytes(10)) + "/48"  # RFC 5952 text, as ipaddress


_MAPPED = bytes(10) + b"\xff\xff"


@lru_cache(maxsize=1 << 18)
def ip_prefix_of(address: str | None) -> str | None:
    """'203.0.113.7' -> '203.0.113.0/24'; '2001:db8:1:2::1' -> '2001:db8:1::/48'; None when not an IP."""
    if not address:
        return None
    fast = _fast_v4_prefix(address) or _fast_v6_prefix(address)
    if fast is not None:
        return fast
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return f"{ipaddress.IPv4Address(int(ip) & 0xFFFFFF00)}/24"
    return f"{ipaddress.IPv6Address(int(ip) >> 80 << 80)}/48"


def prefixes_of(addresses: pa.Array) -> list[pa.Array]:
    """``ip_prefix_of`` of distinct addresses: plain IPv4 addresses with Arrow string kernels, the rest (IPv6,
    mapped, odd spellings) in Python."""
    is_v4 = pc.match_substring_regex(addresses, DOTTED_QUAD)
    prefixes = pc.replace_substring_regex(addresses, r"\.\d+$", ".0/24")
    is_other = pc.invert(pc.fill_null(is_v4, False))
    if pc.any(is_other).as_py():
        others = [ip_prefix_of(ip) for ip in addresses.filter(is_other).to_pylist()]
        prefixes = pc.replace_with_mask(prefixes, is_other, pa.array(others, pa.string()))
    return [prefixes]


def ip_prefixes(ips: pa.Array) -> pa.Array:
    """``ip_prefix_of`` over an Arrow array, once per distinct address of the array."""
    encoded = encode(ips)
    return pc.take(prefixes_of(encoded.dictionary)[0], encoded.indices)


class ExpiredSaltWarning(UserWarning):
    """An ingest needed a day whose salt was already deleted: its visitors will not match earlier ones."""


@dataclass
class SaltStore:
    """Daily random salts kept in a folder of the warehouse (``_salts/YYYY-MM-DD.key``).

    A salt is created on first use for a day and deleted ``retention_days`` after that day ends; a tombstone
    (``YYYY-MM-DD.deleted``, no secret inside) remembers that it existed so a late ingest can warn.
    """

    folder: Path
    retention_days: int = 2
    today: dt.date | None = None
    _cache: dict[str, bytes] = field(default_factory=dict)
    expired_days_used: set[str] = field(default_factory=set)
    hasher: "VisitorHasher" = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.hasher = VisitorHasher(self)

    def salt(self, day: str) -> bytes:
        if day in self._cache:
            return self._cache[day]
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self.folder / f"{day}.key"
        if key.exists():
            value = bytes.fromhex(key.read_text().strip())
        else:
            if (self.folder / f"{day}.deleted").exists() and day not in self.expired_days_used:
                self.expired_days_used.add(day)
                warnings.warn(
                    f"the salt for {day} was already deleted: visitors of this ingest on {day} get new ids and "
                    "will not match the ones counted before",
                    ExpiredSaltWarning,
                    stacklevel=2,
                )
            value = secrets.token_bytes(32)
            tmp = key.with_suffix(".tmp")
            tmp.write_text(value.hex())
            tmp.replace(key)
        self._cache[day] = value
        return value

    def purge(self) -> list[str]:
        """Delete the salts of days older than the retention window; return those days."""
        today = self.today or dt.datetime.now(dt.timezone.utc).date()
        cutoff = today - dt.timedelta(days=self.retention_days)
        removed = []
        for key in sorted(self.folder.glob("*.key")) if self.folder.exists() else []:
            try:
                day = dt.date.fromisoformat(key.stem)
            except ValueError:
                continue
            if day < cutoff:
                (self.folder / f"{key.stem}.deleted").touch()
                key.unlink()
                self._cache.pop(key.stem, None)
                removed.append(key.stem)
        if removed:
            self.hasher.clear()
        return removed


def visitor_id(salt: bytes, site: str | None, ip: str | None, user_agent: str | None) -> str:
    """Keyed BLAKE2b (the day's salt as key) of site, IP and user agent: 32 hex digits."""
    return _hash(hashlib.blake2b(key=salt, digest_size=16), site, ip, user_agent)


def _hash(keyed, site: str | None, ip: str | None, user_agent: str | None) -> str:
    h = keyed.copy()
    h.update(f"{site or ''}\x00{ip or ''}\x00{user_agent or ''}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


_HEX = np.frombuffer("".join(f"{i:02x}" for i in range(256)).encode(), np.uint8).reshape(256, 2)


def _hex_strings(digits: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """An Arrow string array from an (n x 32) array of ASCII hex digits, built on its bytes without a copy per row."""
    n, width = digits.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(digits)), validity, null_count=-1
    )


class VisitorHasher:
    """Visitor ids for a run, each distinct (day, site, ip, ua) hashed once.

    Sites, IPs and user agents get run-wide integer codes; a row's combination is one int64
    (site: 8 bits, ip: 24 bits, ua: 20 bits) within its day, looked up in the day's sorted known combinations
    (``searchsorted``); only combinations never seen before are hashed (keyed BLAKE2b). Ids are kept as rows of
    hex digits in numpy, so spreading them to the events is a gather of fixed-width bytes."""

    _BITS = (8, 24, 20)

    def __init__(self, salts: "SaltStore") -> None:
        self.salts = salts
        self._own = [_code_table(), _code_table(), _code_table()]
        self.tables = list(self._own)  # site, ip, ua: their values by code
        self.clear()

    def clear(self) -> None:
        for table in self._own:
            table.clear()
        self.known: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # day -> (sorted combination keys, their ids)
        self._seen = [(t, t.generation) for t in self.tables]

    def ids(
        self, days: pa.Array, sites: pa.Array, ips: pa.Array, uas: pa.Array, ip_table: DistinctCache | None = None
    ) -> pa.Array:
        """``ip_table``: a cache keyed by client IP that the caller already looked this batch up in (its codes
        serve here; its ``max_size`` must stay below 2**24); by default the hasher keeps its own."""
        if ip_table is not None:
            self.tables[1] = ip_table
        codes = [t.codes(column) + 1 for t, column in zip(self.tables, (sites, ips, uas))]  # null: 0
        seen = [(t, t.generation) for t in self.tables]
        if any(t is not u or g != h for (t, g), (u, h) in zip(seen, self._seen)):
            self.known.clear()  # another table, or one that started over: the codes changed meaning
            self._seen = seen
        if any(len(t) >= (1 << bits) - 1 for t, bits in zip(self.tables, self._BITS) if t in self._own):
            self.clear()  # more distinct values than the key has room for: start over (ids stay the same)
            return self.ids(days, sites, ips, uas, ip_table)
        key = (codes[0] << 44) | (codes[1] << 20) | codes[2]
        # days: 'YYYY-MM-DD' strings or dates (date32 hashes faster than its text)
        day_codes = encode(days) if pa.types.is_string(days.type) else pc.dictionary_encode(flat(days))
        day_index = day_codes.indices.to_numpy(zero_copy_only=False)
        digits = np.zeros((len(key), 32), np.uint8)
        day_names = day_codes.dictionary.cast(pa.string()).to_pylist()
        for d, day in enumerate(day_names):
            rows = np.flatnonzero(day_index == d) if len(day_names) > 1 else slice(None)
            unique, inverse = _sorted_unique(key[rows])
            known_keys, known_digits = self._known(day, unique)
            digits[rows] = known_digits[np.searchsorted(known_keys, unique)[inverse]]
        valid = None if day_codes.null_count == 0 else pc.is_valid(day_codes).to_numpy(zero_copy_only=False)
        return _hex_strings(digits, valid)

    def _known(self, day: str, unique: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The day's known combinations (sorted) and their ids, after hashing those of ``unique`` not yet known."""
        known_keys, known_digits = self.known.get(day, (np.empty(0, np.int64), np.empty((0, 32), np.uint8)))
        if len(known_keys):
            at = np.searchsorted(known_keys, unique).clip(max=len(known_keys) - 1)
            new = unique[known_keys[at] != unique]
        else:
            new = unique
        if len(new):  # merge the new (sorted) keys into the known ones
            slots = np.searchsorted(known_keys, new) + np.arange(len(new))
            old = np.ones(len(known_keys) + len(new), bool)
            old[slots] = False
            keys = np.empty(len(old), np.int64)
            keys[slots], keys[old] = new, known_keys
            digits = np.empty((len(old), 32), np.uint8)
            digits[slots], digits[old] = self._hash(day, new), known_digits
            known_keys, known_digits = self.known[day] = (keys, digits)
        return known_keys, known_digits

    def _hash(self, day: str, combinations: np.ndarray) -> np.ndarray:
        """Hex digits (n x 32) of the ids of combination keys: keyed BLAKE2b of 'site NUL ip NUL ua'."""
        picked = []
        for table, codes in zip(self.tables, (combinations >> 44, (combinations >> 20) & 0xFFFFFF, combinations & 0xFFFFF)):
            values = table.keys.take(pa.array(codes - 1, mask=codes == 0))  # code 0: null, hashed as ''
            picked.append(pc.fill_null(values, ""))
        messages = pc.binary_join_element_wise(*picked, "\x00").cast(pa.binary()).to_pylist()
        copy = hashlib.blake2b(key=self.salts.salt(day), digest_size=16).copy  # the key is absorbed once
        digests = b"".join([_digest(copy(), m) for m in messages])
        return _HEX[np.frombuffer(digests, np.uint8)].reshape(-1, 32)


def _sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``, hashing first (pandas) and sorting only the distinct values."""
    import pandas as pd

    codes, uniques = pd.factorize(values)
    order = np.argsort(uniques)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return uniques[order], rank[codes]


def _digest(h, message: bytes) -> bytes:
    h.update(message)
    return h.digest()


def _code_table() -> DistinctCache:
    return DistinctCache(None, pa.schema([]), max_size=1 << 24, many=lambda values: [])


def visitor_ids(
    days: pa.Array, sites: pa.Array, ips: pa.Array, uas: pa.Array, salts: SaltStore, ip_table: DistinctCache | None = None
) -> pa.Array:
    """Visitor ids for aligned arrays (``''`` stands for a missing site, ip or user agent); ``ip_table``: see
    ``VisitorHasher.ids``."""
    return salts.hasher.ids(days, sites, ips, uas, ip_table)
