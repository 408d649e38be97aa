"""Visitor ids: the batch step gives, row for row, what the one-event rule ``visitor_id`` gives, for any number of
distinct sites, addresses and user agents (a hosting provider's vhost log with 300 sites; 2**24+ addresses).

Where a test checks stored or batch ids against the definition, the expected id is computed here with
``hashlib`` alone (``contract_id``), not with ``stats_lib``."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from conftest import run_cli

from stats_lib.enrich.visitors import VisitorIds, distinct_rows, visitor_id
from stats_lib.warehouse.salts import SaltStore


def version_1_id(salt: bytes, site: str | None, ip: str | None, user_agent: str | None) -> str:
    """The visitor id of storage version 1: keyed BLAKE2b (the day's salt as key, 16-byte digest) of (site, client
    IP, user agent) joined by NUL (missing: empty), as 32 hex digits."""
    message = "\x00".join(value or "" for value in (site, ip, user_agent)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(message, key=salt, digest_size=16).hexdigest()


def contract_id(salt: bytes, site: str | None, ip: str | None, user_agent: str | None) -> int:
    """The visitor id as CONTRACT.md and ARCHITECTURE.md define it (a keyed hash of the day's salt, site, client IP
    and user agent, stored as a 64-bit integer): here the first 16 hex digits of ``version_1_id``, read as a signed
    64-bit number."""
    number = int(version_1_id(salt, site, ip, user_agent)[:16], 16)
    return number - (1 << 64) if number >= 1 << 63 else number


def _stored(warehouse) -> pa.Table:
    return ds.dataset(warehouse / "events", format="parquet", partitioning="hive").to_table()


def _salt(warehouse, day: str) -> bytes:
    return bytes.fromhex((warehouse / "_salts" / f"{day}.key").read_text().strip())


def test_a_vhost_log_with_300_sites_in_one_batch(tmp_path, warehouse):
    """A hosting provider's ``vhost_combined`` log: 300 sites in one batch. Each stored id is the keyed hash of
    the line's own (site, ip, ua) under the day's salt file."""
    rng = random.Random(300)
    day = dt.date.today() - dt.timedelta(days=1)  # inside the salt window: its salt file stays
    stamp = day.strftime("%d/%b/%Y")
    expected = {}
    lines = []
    for n in range(3000):
        site, ip = f"site{n % 300}.example", f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
        ua = f"Mozilla/5.0 (X11; Linux x86_64) Firefox/{rng.randrange(100, 130)}.0"
        lines.append(f'{site}:443 {ip} - - [{stamp}:10:{n // 60 % 60:02d}:{n % 60:02d} +0000] "GET /p{n} HTTP/1.1" '
                     f'200 512 "-" "{ua}"')
        expected[n + 1] = (site, ip, ua)
    log = tmp_path / "vhosts.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("ingest", str(log), "--warehouse", str(warehouse), check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    stored = _stored(warehouse)
    assert stored.num_rows == 3000
    assert len(set(stored["site"].to_pylist())) == 300
    salt = _salt(warehouse, day.isoformat())
    for number, site, vid in zip(*(stored[c].to_pylist() for c in ("line_number", "site", "visitor_id"))):
        want_site, ip, ua = expected[number]
        assert site == want_site
        assert vid == contract_id(salt, want_site, ip, ua), number


def test_the_batch_step_matches_the_rule_row_for_row(tmp_path):
    """Random columns with repeats, nulls and several days: each id is ``visitor_id`` of its own row."""
    rng = np.random.default_rng(7)
    n = 20_000
    salts = SaltStore.in_folder(tmp_path / "salts")

    def column(values: list[str | None]) -> pa.Array:
        return pa.array([values[i] for i in rng.integers(0, len(values), n)], pa.string())

    days = pa.array(rng.choice([dt.date(2026, 11, d) for d in (7, 8, 9)] + [None], n), pa.date32())
    sites = column([f"s{i}.example" for i in range(400)] + [None])
    ips = column([f"203.0.{i // 256}.{i % 256}" for i in range(3000)] + ["2001:db8::1", None])
    uas = column([f"agent {i} ü" for i in range(500)] + ["", None])
    got = VisitorIds(salts).ids(days, sites, ips, uas).to_pylist()
    want = [
        None if d is None else visitor_id(salts.salt(d.isoformat()), s, i, u)
        for d, s, i, u in zip(days.to_pylist(), sites.to_pylist(), ips.to_pylist(), uas.to_pylist())
    ]
    assert got == want


def test_distinct_rows_numbers_each_combination_once():
    """``distinct_rows`` against Python's own set of tuples; also where the columns' cardinalities multiply past
    int64 (five columns of 6000 distinct values: 6000**5 > 2**63), so keys are renumbered on the way."""
    rng = np.random.default_rng(3)
    cols = [pa.array(rng.integers(0, k, 9000).astype(str)).dictionary_encode() for k in (3, 300, 4000, 4000)]
    cols += [pa.array(np.arange(9000)[::-1] % 6000).cast(pa.string()).dictionary_encode() for _ in range(5)]
    combination, first = distinct_rows(cols)
    rows = list(zip(*(c.to_pylist() for c in cols)))
    assert len(first) == len(set(rows)) == combination.max() + 1
    assert [rows[i] for i in first] == list(dict.fromkeys(rows))  # first rows, in order of appearance
    assert all(rows[first[c]] == row for c, row in zip(combination.tolist(), rows))


def _addresses(n: int) -> pa.Array:
    """``n`` distinct IPv4 addresses from 10.0.0.0 on (built with Arrow kernels: 16.8 million in about a second)."""
    numbers = pa.array(np.arange(n, dtype=np.int64) + (10 << 24))
    octets = [pc.cast(pc.bit_wise_and(pc.shift_right(numbers, shift), 255), pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


def test_more_than_2_24_distinct_addresses_in_one_batch(tmp_path):
    """2**24 + 1000 distinct addresses, with 300 sites, 2 days and 7 user agents (the old 24-bit address codes
    overflowed there).

    The numbering: a batch of one row per address, each its own combination, numbered in order. The hashes: a
    batch whose address column holds the same 2**24 + 1000 addresses (its dictionary, so the combination keys use
    the same radix as the full batch) and 20,001 rows spread evenly over them, the first and last address
    included; each row's id is checked against ``contract_id``. (Hashing all 16.8 million combinations takes
    minutes on this machine's CPython BLAKE2b; ``make bench``'s ``visitors`` section times that full step.)"""
    n = (1 << 24) + 1000
    rows = np.arange(n, dtype=np.int32)

    def column(codes: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)

    day_names = pa.array(["2026-11-08", "2026-11-09"])
    site_names = pa.array([f"s{i}.example" for i in range(300)])
    agent_names = pa.array([f"agent {i}" for i in range(7)])
    addresses = _addresses(n)
    ips = column(rows, addresses)
    combination, first = distinct_rows([column(rows % 2, day_names), column(rows % 300, site_names),
                                        column(rows % 7, agent_names), ips])
    assert np.array_equal(combination, rows) and np.array_equal(first, rows)

    sample = np.unique(np.linspace(0, n - 1, 20_001).astype(np.int32))  # first and last included
    assert sample[0] == 0 and sample[-1] == n - 1
    salts = SaltStore.in_folder(tmp_path / "salts")
    ids = VisitorIds(salts).ids(column(sample % 2, day_names), column(sample % 300, site_names),
                                column(sample, addresses), column(sample % 7, agent_names)).to_pylist()
    want = [contract_id(salts.salt(f"2026-11-0{8 + i % 2}"), f"s{i % 300}.example", addresses[int(i)].as_py(),
                        f"agent {i % 7}") for i in sample]
    assert ids == want
    assert addresses[n - 1].as_py() == "11.0.3.231"  # 10.0.0.0 + 2**24 + 999: the last address is past 2**24


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_batches(tmp_path, n):
    ids = VisitorIds(SaltStore.in_folder(tmp_path / "salts")).ids(
        pa.array([dt.date(2026, 11, 9)] * n, pa.date32()), pa.array(["a"] * n), pa.array(["1.2.3.4"] * n),
        pa.array(["x"] * n))
    assert len(ids) == n


def test_the_bench_batches_are_what_they_say(tmp_path):
    """``make bench``'s visitors section: its batches have the shape it reports, and its check of the ids it
    times passes on a small batch of each kind."""
    from stats_lib.benchmarks.visitors import addresses_batch, sites_batch, time_step

    days, sites, ips, uas = sites_batch(20_000)
    assert (len(days), pc.count_distinct(sites).as_py(), pc.count_distinct(days).as_py()) == (20_000, 300, 3)
    days, sites, ips, uas = addresses_batch(5000)
    assert pc.count_distinct(ips).as_py() == 5000 and ips[0].as_py() == "10.0.0.0"
    assert ips[4999].as_py() == "10.0.19.135"  # 4999 = 19 * 256 + 135
    figures = time_step(addresses_batch(2000))
    assert (figures["rows"], figures["combinations"]) == (2000, 2000)
