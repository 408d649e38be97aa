"""Visitor ids: keyed BLAKE2b of (site, ip, user agent) with the day's salt as the key.

The salts come from a ``DailySalts`` (``warehouse.salts.SaltStore``); the hasher, part of a run's enrichment
state, remembers the ids it computed (per day and salt, so a salt deleted and created again is never mixed up with the old one).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import flat
from ._distinct import DistinctCache, encode


class DailySalts(Protocol):
    """What the hasher needs of a salt store (``warehouse.salts.SaltStore``): the salt of a UTC day."""

    def salt(self, day: str) -> bytes: ...


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

    def __init__(self, salts: DailySalts) -> None:
        self.salts = salts
        self._own = [_code_table(), _code_table(), _code_table()]
        self.tables = list(self._own)  # site, ip, ua: their values by code
        self.clear()

    def clear(self) -> None:
        for table in self._own:
            table.clear()
        # day -> (its salt, sorted combination keys, their ids)
        self.known: dict[str, tuple[bytes, np.ndarray, np.ndarray]] = {}
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
        salt = self.salts.salt(day)
        known_salt, known_keys, known_digits = self.known.get(day, (salt, np.empty(0, np.int64), np.empty((0, 32), np.uint8)))
        if known_salt != salt:  # the day's salt was deleted and created again: the ids known for it are void
            known_keys, known_digits = np.empty(0, np.int64), np.empty((0, 32), np.uint8)
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
            digits[slots], digits[old] = self._hash(salt, new), known_digits
            self.known[day] = (salt, keys, digits)
            known_keys, known_digits = keys, digits
        return known_keys, known_digits

    def _hash(self, salt: bytes, combinations: np.ndarray) -> np.ndarray:
        """Hex digits (n x 32) of the ids of combination keys: keyed BLAKE2b of 'site NUL ip NUL ua'."""
        picked = []
        for table, codes in zip(self.tables, (combinations >> 44, (combinations >> 20) & 0xFFFFFF, combinations & 0xFFFFF)):
            values = table.keys.take(pa.array(codes - 1, mask=codes == 0))  # code 0: null, hashed as ''
            picked.append(pc.fill_null(values, ""))
        messages = pc.binary_join_element_wise(*picked, "\x00").cast(pa.binary()).to_pylist()
        copy = hashlib.blake2b(key=salt, digest_size=16).copy  # the key is absorbed once
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

