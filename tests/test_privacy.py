"""IP masking for anything written (rejects, messages), IP prefixes, daily salts and visitor ids."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from stats_lib.enrich.visitors import VisitorIds, visitor_id
from stats_lib.privacy import ip_prefix_of, ip_prefixes, mask_ips
from stats_lib.warehouse.salts import ExpiredSaltWarning, LocalSaltFolder, SaltStore


def visitor_ids(days, sites, ips, uas, salts):
    return VisitorIds(salts).ids(days, sites, ips, uas)


def test_mask_ips_keeps_prefixes_and_clock_times():
    line = ('81.2.69.142 - - [10/Feb/2012:16:42:07 -0500] "GET / HTTP/1.1" 200 5 from '
            "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6 via ::ffff:10.1.2.3 cut 2a02:cf40:ad at 16:42")
    masked = mask_ips(line)
    assert masked.startswith("81.2.69.0/24 - - [10/Feb/2012:16:42:07 -0500]")
    assert "2a02:cf40:add::/48" in masked and "10.1.2.0/24" in masked
    assert "cut <ip> at 16:42" in masked
    for raw in ("81.2.69.142", "4002:91f2", "10.1.2.3", "2a02:cf40:ad "):
        assert raw not in masked


def test_mask_ips_caps_length():
    assert len(mask_ips("x" * 5000)) == 2001


def test_prefixes():
    assert ip_prefix_of("203.0.113.7") == "203.0.113.0/24"
    assert ip_prefix_of("2001:db8:1:2::1") == "2001:db8:1::/48"
    assert ip_prefix_of("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert ip_prefix_of("not-an-ip") is None and ip_prefix_of(None) is None
    mixed = pa.array(["203.0.113.7", "10.0.0.300", "2001:db8:1:2::1", None, "203.0.113.7", "::ffff:198.51.100.9",
                      "010.1.2.3"])
    assert ip_prefixes(mixed).to_pylist() == [
        "203.0.113.0/24", None, "2001:db8:1::/48", None, "203.0.113.0/24", "198.51.100.0/24",
        ip_prefix_of("010.1.2.3"),
    ]


def test_ipv6_prefixes_equal_the_standard_library_spelling():
    """The C-library fast path for IPv6 gives exactly what ``ipaddress`` gives (RFC 5952 text of the /48)."""
    import ipaddress
    import random

    def reference(text):
        ip = ipaddress.ip_address(text)
        if ip.ipv4_mapped:
            return f"{ipaddress.IPv4Address(int(ip.ipv4_mapped) & 0xFFFFFF00)}/24"
        return f"{ipaddress.IPv6Address(int(ip) >> 80 << 80)}/48"

    rng = random.Random(3)
    groups = [0, 0, 0, 1, 0xDB8, 0xFFFF, 0x2001, 0xA]  # zeros often, so every compression case comes up
    addresses = [":".join(f"{rng.choice(groups):x}" for _ in range(8)) for _ in range(3000)]
    addresses += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(1000)]
    addresses += ["::", "::1", "0:0:1::", "::ffff:198.51.100.9", "::198.51.100.9", "2001:DB8::A", "fe80::1"]
    mismatches = [a for a in addresses if ip_prefix_of(a) != reference(a)]
    assert mismatches == []
    assert ip_prefix_of("fe80::1%eth0") == "fe80::/48"  # a zone id takes the slow path


def test_visitor_ids_are_daily_keyed_and_salts_expire(tmp_path):
    salts = SaltStore.in_folder(tmp_path / "salts", retention_days=2, today=dt.date(2026, 11, 10))
    days = pa.array(["2026-11-09", "2026-11-09", "2026-11-08", "2026-11-01"])
    site = pa.array(["example.com"] * 4)
    ips = pa.array(["203.0.113.7"] * 4)
    uas = pa.array(["Firefox"] * 4)
    ids = visitor_ids(days, site, ips, uas, salts).to_pylist()
    assert ids[0] == ids[1] and len(set(ids[1:])) == 3  # same person: one id a day, different across days
    assert all(isinstance(i, int) and -(2**63) <= i < 2**63 for i in ids)  # a 64-bit number: no address in it
    assert ids[0] == visitor_id(salts.salt("2026-11-09"), "example.com", "203.0.113.7", "Firefox")
    assert sorted(salts.purge()) == ["2026-11-01"]  # 11-08 is still inside the window (cutoff 11-08)
    assert not (tmp_path / "salts" / "2026-11-01.key").exists()
    with pytest.warns(ExpiredSaltWarning, match="2026-11-01 was already deleted"):
        again = visitor_ids(days, site, ips, uas, SaltStore.in_folder(tmp_path / "salts", today=dt.date(2026, 11, 10)))
    assert again.to_pylist()[:3] == ids[:3] and again.to_pylist()[3] != ids[3]


def test_a_salt_created_twice_keeps_the_first_value(tmp_path):
    """``create`` returns the salt actually stored: a second writer of the same day gets the first one's."""
    folder = LocalSaltFolder(tmp_path / "salts")
    first = folder.create("2026-11-09", b"a" * 32)
    assert first == b"a" * 32
    assert folder.create("2026-11-09", b"b" * 32) == first
    assert SaltStore(LocalSaltFolder(tmp_path / "salts")).salt("2026-11-09") == first
    assert folder.days() == ["2026-11-09"]
    folder.delete("2026-11-09")
    assert folder.read("2026-11-09") is None and folder.deleted("2026-11-09") and folder.days() == []


def test_visitor_ids_do_not_outlive_a_purged_salt(tmp_path):
    """The visitor-id step is not told about purges: a salt deleted and created again in the same run gives the
    new salt's ids."""
    salts = SaltStore.in_folder(tmp_path / "salts", retention_days=2, today=dt.date(2026, 11, 10))
    hasher = VisitorIds(salts)
    args = (pa.array(["2026-11-01"]), pa.array(["example.com"]), pa.array(["203.0.113.7"]), pa.array(["Firefox"]))
    before = hasher.ids(*args).to_pylist()
    assert salts.purge() == ["2026-11-01"]
    with pytest.warns(ExpiredSaltWarning):
        after = hasher.ids(*args).to_pylist()
    assert after != before
    assert after == [visitor_id(salts.salt("2026-11-01"), "example.com", "203.0.113.7", "Firefox")]


def test_masking_twice_changes_nothing():
    """Text masked once (a reject line, then a message quoting it) is not masked again into '.../24/24'."""
    from stats_lib.privacy import mask_ips

    for text in ("203.0.113.7 - - GET /", "x 2001:db8:1:2::1 y", "a203.0.113.7b", "::ffff:198.51.100.4 z"):
        once = mask_ips(text)
        assert mask_ips(once) == once, (text, once)
        assert "/24/24" not in mask_ips(once) and "/48/48" not in mask_ips(once)
