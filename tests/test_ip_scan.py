"""The IP scan itself (tests/ip_scan.py): it finds an address wherever a run could write one, and only there."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from ip_scan import assert_no_raw_ip, scan


@pytest.fixture
def folder(tmp_path):
    """A warehouse-like folder with an address in each kind of place, and stored prefixes beside them."""
    (tmp_path / "events" / "day=2026-11-09").mkdir(parents=True)
    table = pa.table({
        "ip_prefix": ["203.0.113.0/24", "2001:db8:1::/48"],
        "user_agent": ["zlib/1.2.3.4", "curl/8.0"],
        "props": [None, '{"from": "Hit_198.51.100.23_GET"}'],
        "ids": pa.array([[1, 2], None], pa.list_(pa.int64())),
    })
    pq.write_table(table, tmp_path / "events" / "day=2026-11-09" / "part-0.parquet", compression="zstd")
    (tmp_path / "_ledger").mkdir()
    (tmp_path / "_ledger" / "a.json").write_text(json.dumps({"reason": "client 192.0.2.77 said hello"}))
    (tmp_path / "run.log.gz").write_bytes(gzip.compress(b"from 2001:DB8:0:0:0:0:0:9 at 10:00:38\n"))
    (tmp_path / "segment.zst").write_bytes(zstandard.ZstdCompressor().compress(b"x=100.64.0.1;"))
    return tmp_path


def test_every_raw_address_is_found_where_it_stands(folder):
    found = scan(folder, texts={"stdout": "sent to 2001:db8::1:2:3 and 10.1.2.3"}).found
    assert found == {
        "1.2.3.4": {("events/day=2026-11-09/part-0.parquet", "user_agent")},
        "198.51.100.23": {("events/day=2026-11-09/part-0.parquet", "props")},
        "192.0.2.77": {("_ledger/a.json", "(text)")},
        "2001:db8::9": {("run.log.gz", "(text)")},
        "100.64.0.1": {("segment.zst", "(text)")},
        "2001:db8::1:2:3": {("stdout", "(text)")},
        "10.1.2.3": {("stdout", "(text)")},
    }


def test_known_addresses_are_found_in_any_spelling_and_not_inside_longer_numbers(folder):
    ips = ["2001:db8::9", "198.51.100.23", "98.51.100.2", "203.0.113.0", "2001:db8:1::"]
    found = scan(folder, ips=ips).found
    # an input that is its own prefix's network address is not found in the stored prefix, only where it stands alone
    assert set(found) == {"2001:db8::9", "198.51.100.23"}
    assert scan(texts={"x": "from 203.0.113.0 to 2001:db8:1::."}, ips=ips).found.keys() == {"203.0.113.0", "2001:db8:1::"}


def test_the_assertion_fails_on_a_leak_and_allows_a_named_column(folder):
    with pytest.raises(AssertionError, match="192.0.2.77"):
        assert_no_raw_ip(folder, ips=["192.0.2.77"])
    assert_no_raw_ip(folder, ips=["1.2.3.4"], allowed={"1.2.3.4": {"user_agent"}})
    with pytest.raises(AssertionError, match="nothing to scan"):
        assert_no_raw_ip(folder / "missing")
