"""End to end: a corpus CloudFront log ingested with the MaxMind test City database, then the dimension queries."""

from __future__ import annotations

import ipaddress
import re

import pyarrow.parquet as pq
import pytest
from conftest import run_cli
from ip_scan import addresses_in, assert_no_raw_ip

import stats_lib
from stats_lib.config import Settings


@pytest.fixture
def geo_settings(settings: Settings, corpora) -> Settings:
    return settings.with_(geoip_db=str(corpora / "maxmind-db-test-data" / "GeoLite2-City-Test.mmdb"))


@pytest.fixture
def cloudfront_log(corpora):
    return corpora / "elastic-integrations-aws" / "test-cloudfront.log"


def _rows(frame, *columns):
    return [tuple(r) for r in frame[list(columns)].itertuples(index=False)]


def test_dimension_queries_give_exact_values(geo_settings, cloudfront_log):
    summary = stats_lib.ingest([str(cloudfront_log)], settings=geo_settings)
    assert summary.events == 11

    countries = stats_lib.query("countries", settings=geo_settings)
    # pageviews: 89.160.20.112 twice and the IPv6 client once on 2019-12-04, each a Chrome 78 GET of a text/html 200
    assert _rows(countries, "country", "country_code", "visitors", "pageviews") == [
        ("Sweden", "SE", 1, 2),
        ("Norway", "NO", 1, 1),
    ]
    browsers = stats_lib.query("browsers", settings=geo_settings)
    assert _rows(browsers, "name", "visitors", "pageviews") == [("Chrome", 2, 3)]
    assert _rows(stats_lib.query("operating_systems", settings=geo_settings), "name", "visitors") == [("Windows", 2)]
    assert _rows(stats_lib.query("devices", settings=geo_settings), "name", "visitors") == [("desktop", 2)]
    bots = stats_lib.query("bots", settings=geo_settings)
    assert _rows(bots, "bot_name", "hits") == [("HeadlessChrome", 3), ("curl", 1)]
    referrers = stats_lib.query("referrers", settings=geo_settings)
    assert _rows(referrers, "source", "channel", "visitors") == [("Direct / None", "direct", 2)]
    assert stats_lib.query("campaigns", settings=geo_settings).empty  # source=global is on a POST, not a pageview

    daily = stats_lib.query("daily", settings=geo_settings)
    assert daily["bot_hits"].tolist() == [0, 1, 0, 3]

    # the stored rows carry the other dimensions too
    events = pq.read_table(
        geo_settings.warehouse + "/events", columns=["ts", "city", "region", "edge_city", "referrer_channel", "utm_source", "ip_prefix"]
    ).to_pylist()
    by_prefix = {r["ip_prefix"]: r for r in events}
    assert by_prefix["81.2.69.0/24"]["city"] == "London"
    assert by_prefix["89.160.20.0/24"]["region"] == "Östergötland County"
    assert by_prefix["2a02:cf40:add::/48"]["city"] is None
    assert {r["edge_city"] for r in events} == {"Los Angeles", "Seattle"}
    assert "global" in {r["utm_source"] for r in events}
    assert {r["referrer_channel"] for r in events} == {"direct", "internal"}


def _input_ips(paths) -> set[str]:
    """Every IP address in the inputs, except those used only as the host of a requested URL
    (``http://10.0.0.1:80/...``): that is the server the request went to, which becomes the ``site``."""
    found: set[str] = set()
    for path in paths:
        text = re.sub(r"://[^/\s]+", "://", path.read_text(encoding="utf-8", errors="replace"))
        found.update(str(ip) for ip in addresses_in(text))
    # loopback is nobody's address, and the ALB corpus also uses 127.0.0.1 as a requested host (a site)
    return {ip for ip in found if not ip.startswith("0.") and not ipaddress.ip_address(ip).is_loopback}


def test_no_input_ip_is_stored_anywhere(geo_settings, corpora, warehouse):
    sources = sorted(p for p in (corpora / "elastic-integrations-aws").iterdir() if p.suffix == ".log")
    stats_lib.ingest([str(p) for p in sources], settings=geo_settings)
    ips = _input_ips(sources)
    assert "89.160.20.112" in ips and "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6" in ips
    read = assert_no_raw_ip(warehouse, ips=ips).read
    assert any(file.endswith(".parquet") and column == "ip_prefix" for file, column in read)


def test_bad_geo_database_is_a_one_line_cli_error(corpora, cloudfront_log, warehouse):
    bad = corpora / "maxmind-db-test-data" / "bad-data" / "invalid-data-record-offset.mmdb"
    proc = run_cli("ingest", str(cloudfront_log), "--warehouse", str(warehouse), "--geoip-db", str(bad), check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "geolocation database" in proc.stderr and "corrupt" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
