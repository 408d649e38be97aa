"""Visitor ids: the batch step gives, row for row, what the one-event rule ``visitor_id`` gives, for any number of
distinct sites, addresses and user agents (a hosting provider's vhost log with 300 sites; 2**24+ addresses)."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from conftest import run_cli

from stats_lib.enrich.visitors import VisitorIds, distinct_rows, visitor_id
from stats_lib.warehouse.salts import SaltStore


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
        assert vid == visitor_id(salt, want_site, ip, ua), number


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


def test_more_than_2_24_distinct_addresses_in_one_batch():
    """The combination numbering at 2**24 + 1000 distinct addresses in one batch, with 300 sites, 2 days and 7 user
    agents (the old 24-bit address codes overflowed there): every row is its own combination, numbered in order.

    The hashing after it is per combination whatever their number (checked row for row above); running it on
    16.8 million combinations would take a minute on CPython's BLAKE2b (about 1.3 microseconds each), so this
    test stops at the numbering."""
    n = (1 << 24) + 1000
    rows = np.arange(n, dtype=np.int32)

    def column(codes: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)

    days = column(rows % 2, pa.array(["2026-11-08", "2026-11-09"]))
    sites = column(rows % 300, pa.array([f"s{i}.example" for i in range(300)]))
    uas = column(rows % 7, pa.array([f"agent {i}" for i in range(7)]))
    ips = column(rows, pa.array(rows))  # only the codes and the dictionary's length count here
    combination, first = distinct_rows([days, sites, uas, ips])
    assert np.array_equal(combination, rows) and np.array_equal(first, rows)


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_batches(tmp_path, n):
    ids = VisitorIds(SaltStore.in_folder(tmp_path / "salts")).ids(
        pa.array([dt.date(2026, 11, 9)] * n, pa.date32()), pa.array(["a"] * n), pa.array(["1.2.3.4"] * n),
        pa.array(["x"] * n))
    assert len(ids) == n
