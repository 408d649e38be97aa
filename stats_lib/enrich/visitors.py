"""Visitor ids: (day, site, client IP, user agent) -> keyed BLAKE2b, the day's salt as the key, a signed 64-bit integer.

``visitor_id`` is the rule for one event. ``VisitorIds.ids`` applies it to a batch: it finds the batch's distinct
(day, site, ua, ip) combinations (``distinct_rows``: the columns' dictionary codes read as one number, renumbered
by ``pandas.factorize``, never overflowing whatever the cardinalities), hashes each combination once and spreads
the ids back to the rows. Nothing is remembered between batches except the salts the store hands out: hashing a
combination costs about what looking it up in a memo would (1-2 microseconds), and without a memo there is no
table that can fill up, so the step is right for any number of distinct sites, addresses and agents.

Storage version 2 (``warehouse.storage``): the id is the first 8 bytes (big-endian, signed) of the 16-byte digest
that version 1 stored as 32 hex digits. So ``warehouse.storage.from_text`` turns a version-1 id into the version-2
id of the same visitor on the same day, exactly, and a day ingested partly before an upgrade and partly after
counts each visitor once. As an integer the id is cheaper to build, store and count: the ingest of the bench
corpus (2M lines) went from 11.16 to 10.17 s and from 20.06 to 18.50 CPU s (3 alternated pairs), and its events
from 80 to 65 MB. 64 bits are what Plausible uses: two of a day's n visitors share an id with probability about
n**2 / 2**65 (1 in 37 million for a million visitors a day).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import encode, flat


class DailySalts(Protocol):
    """What the visitor ids need of a salt store (``warehouse.salts.SaltStore``): the salt of a UTC day."""

    def salt(self, day: str) -> bytes: ...


def visitor_id(salt: bytes, site: str | None, ip: str | None, user_agent: str | None) -> int:
    """Keyed BLAKE2b (the day's salt as key, 16-byte digest) of 'site NUL ip NUL user agent' (UTF-8; a missing
    value is the empty string): its first 8 bytes as a big-endian signed integer."""
    h = hashlib.blake2b(key=salt, digest_size=16)
    h.update(f"{site or ''}\x00{ip or ''}\x00{user_agent or ''}".encode("utf-8", "surrogatepass"))
    return int.from_bytes(h.digest()[:8], "big", signed=True)


class VisitorIds:
    """The visitor-id step of a run: ``ids(days, sites, ips, uas)`` for aligned columns (see the module docstring)."""

    def __init__(self, salts: DailySalts) -> None:
        self.salts = salts

    def ids(self, days: pa.Array, sites: pa.Array, ips: pa.Array, uas: pa.Array) -> pa.Array:
        """One id per row; null where the day is null. ``days``: dates (date32) or 'YYYY-MM-DD' strings."""
        day_text = pc.cast(flat(days), pa.string())
        columns = [encode(c) for c in (day_text, sites, uas, ips)]  # the addresses, most varied, folded last
        combination, first = distinct_rows(columns)
        numbers = np.zeros(len(first), np.int64)  # the ids of the distinct combinations
        day_of = columns[0].indices.take(pa.array(first))
        for d, day in enumerate(columns[0].dictionary.to_pylist()):
            at = np.flatnonzero(pc.fill_null(pc.equal(day_of, d), False).to_numpy(zero_copy_only=False))
            rows = pa.array(first[at])
            site, ua, ip = (pc.fill_null(c.dictionary.take(c.indices.take(rows)), "") for c in columns[1:])
            numbers[at] = _numbers(self.salts.salt(day), [site, ip, ua])
        ids = pa.array(numbers[combination])
        return ids if columns[0].null_count == 0 else pc.if_else(pc.is_null(columns[0]), pa.scalar(None, pa.int64()), ids)


def distinct_rows(columns: list[pa.DictionaryArray]) -> tuple[np.ndarray, np.ndarray]:
    """(the combination number of each row, the first row of each combination) for aligned encoded columns.

    Each row's codes (null: 0, a value: its dictionary index + 1) are read as one mixed-radix number,
    ``key * (distinct values + 1) + code`` column after column, which ``pandas.factorize`` numbers densely. Before
    a column would take the key space past int64, the keys so far are renumbered densely (fewer than the rows), so
    no product can overflow, whatever the columns' cardinalities."""
    key = np.zeros(len(columns[0]), np.int64)
    space = 1  # the number of values ``key`` can take
    for column in columns:
        radix = len(column.dictionary) + 1
        if space * radix > _INT64_MAX:
            key, uniques = pd.factorize(key)
            space = len(uniques)
        codes = pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        key = key * radix + codes
        space *= radix
    combination, _ = pd.factorize(key)
    # factorize numbers values in order of appearance: a row is its combination's first exactly where the
    # running maximum of the numbers grows
    running = np.maximum.accumulate(combination)
    first = np.flatnonzero(np.diff(running, prepend=-1) > 0)
    return combination.astype(np.int64), first


_INT64_MAX = (1 << 63) - 1


def _numbers(salt: bytes, values: list[pa.Array]) -> np.ndarray:
    """``visitor_id(salt, site, ip, ua)`` for aligned site, ip and ua arrays (no nulls)."""
    messages = pc.binary_join_element_wise(*values, "\x00").cast(pa.binary()).to_pylist()
    keyed = hashlib.blake2b(key=salt, digest_size=16)  # the key is absorbed once, each message hashed on a copy
    digests = []
    for message in messages:  # a plain loop: 0.46 us a message, against 0.54 through a helper function
        h = keyed.copy()
        h.update(message)
        digests.append(h.digest())
    return np.frombuffer(b"".join(digests), ">i8")[::2].astype(np.int64)  # the first 8 of each 16 bytes

