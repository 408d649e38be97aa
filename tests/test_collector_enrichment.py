"""The collector's two-step enrichment (the IP-derived fields per request into the WAL, the rest per segment when
it moves into Parquet) gives row for row what the log pipeline gives in one step from the full RAW rows; and the
WAL's fast reader (Arrow's JSON reader) reads what the line-by-line one reads.

Expected geolocation comes from the MaxMind test database's SOURCE.md (81.2.69.142 is London), not from our code.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from stats_lib.collector.store import (
    SOURCE,
    WAL_SCHEMA,
    Enricher,
    encode_record,
    raw_row,
    read_records,
    read_records_slowly,
)
from stats_lib.config import Settings
from stats_lib.enrich.geo import GeoLocator
from stats_lib.enrich.pipeline import Enrichment
from stats_lib.schema import RAW_SCHEMA
from stats_lib.warehouse.salts import SaltStore

CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
ADDRESSES = ["81.2.69.142", "81.2.69.160", "89.160.20.112", "2001:218::1", "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6",
             "1.2.3.4", "::ffff:81.2.69.142", "203.0.113.9", None]
AGENTS = [CHROME, IPHONE, GOOGLEBOT, "", "curl/8.5.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) "
          "Gecko/20100101 Firefox/128.0"]
REFERRERS = [None, "https://www.google.com/search?q=x", "https://example.com/", "https://news.ycombinator.com/item?id=1",
             "android-app://com.slack/"]
QUERIES = [None, "utm_source=newsletter&utm_medium=email&utm_campaign=launch", "ref=producthunt", "q=a%20b"]


def _rows() -> list[dict]:
    """Events over two UTC days (two salts), every address, agent, referrer and query mixed."""
    start = dt.datetime(2026, 11, 30, 23, 50)
    rows = []
    for i in range(120):
        rows.append(raw_row(
            ts=start + dt.timedelta(seconds=13 * i), client_ip=ADDRESSES[i % len(ADDRESSES)],
            site="example.com" if i % 3 else "www.example.com", path=f"/p/{i % 7}" + ("/" if i % 2 else ".png"),
            query=QUERIES[i % len(QUERIES)], referrer=REFERRERS[i % len(REFERRERS)], user_agent=AGENTS[i % len(AGENTS)],
            name="pageview" if i % 4 else "signup", props={"i": i, "plan": "pro"} if i % 5 == 0 else {},
            protocol="https"))
    return rows


@pytest.fixture
def enrichers(tmp_path, corpora):
    """The collector's Enricher and the log pipeline's Enrichment on the same salts and geolocation database."""
    db = corpora / "maxmind-db-test-data" / "GeoIP2-City-Test.mmdb"
    settings = Settings.from_env(warehouse=str(tmp_path / "wh"), progress=False, geoip_db=str(db),
                                 salt_retention_days=3650)
    salts = SaltStore.in_folder(tmp_path / "salts", retention_days=3650)
    return Enricher(settings, salts=salts), Enrichment(salts, GeoLocator(str(db)))


def test_two_steps_through_the_wal_equal_the_log_pipeline_row_for_row(enrichers):
    collector, pipeline = enrichers
    rows = _rows()
    raw = pa.Table.from_pylist([{k: v for k, v in r.items() if k != "geo"} | {"line_number": n}
                                for n, r in enumerate(rows, start=1)], schema=RAW_SCHEMA)
    expected = pipeline.enrich(raw, SOURCE, "segment-1")

    wal = b"".join(encode_record(collector.record(dict(row))) for row in rows)  # the request path
    assert b"81.2.69.142" not in wal and b"2001:218::1" not in wal  # no raw IP in the log
    records, damaged = read_records(wal, "segment-1")
    got = collector.finish(records, "segment-1")  # the flush

    assert damaged == []
    is_bot = pc.fill_null(expected["is_bot"], False)
    assert got.events.to_pylist() == expected.filter(pc.invert(is_bot)).to_pylist()
    bots = expected.filter(is_bot)
    assert [d["line_number"] for d in got.dropped] == bots["line_number"].to_pylist()
    assert [d["reason"] for d in got.dropped] == [f"bot: {n or 'unnamed'}" for n in bots["bot_name"].to_pylist()]
    # the comparison covers what matters: bots, geolocation from the source's test data, two days of visitor ids
    london = [r for r in got.events.to_pylist() if r["ip_prefix"] == "81.2.69.0/24"]
    assert london and {(r["country_code"], r["city"]) for r in london} == {("GB", "London")}
    assert len(got.dropped) > 0 and len({r["visitor_id"] for r in got.events.to_pylist()}) > len(AGENTS)
    assert len(set(pc.cast(got.events["ts"], pa.date32()).to_pylist())) == 2


def test_enrich_in_one_call_is_the_two_steps(enrichers):
    """The Lambda path (``enrich``) and the local WAL path (``record`` ... ``finish``) store the same rows."""
    collector, _ = enrichers
    rows = _rows()[:40]
    wal = b"".join(encode_record(collector.record(dict(row))) for row in rows)
    two = collector.finish(read_records(wal, "s")[0], "s")
    one = collector.enrich([dict(row) for row in rows], "s")
    assert one.events.to_pylist() == two.events.to_pylist() and one.dropped == two.dropped


def test_the_fast_wal_reader_reads_what_the_line_by_line_reader_reads(enrichers):
    collector, _ = enrichers
    wal = b"".join(encode_record(collector.record(dict(row))) for row in _rows())
    fast, none = read_records(wal, "s")
    slow, also_none = read_records_slowly(wal.split(b"\n")[:-1], "s")
    assert none == also_none == []
    assert fast.num_rows == 120 and fast.to_pylist() == slow.to_pylist()
    assert fast["line_number"].to_pylist() == list(range(1, 121))


def test_a_damaged_wal_line_is_kept_as_a_reject_and_the_rest_is_read(enrichers):
    collector, _ = enrichers
    lines = [encode_record(collector.record(dict(row))) for row in _rows()[:5]]
    lines[2] = b'{"ts": 1, "path": "/from 198.51.100.23", \xff\n'  # a damaged block, not JSON
    records, damaged = read_records(b"".join(lines) + b'{"ts": 2, "pa', "s")  # and a torn last line
    assert records["line_number"].to_pylist() == [1, 2, 4, 5]
    expected = [json.loads(line) for i, line in enumerate(lines) if i != 2]
    assert [r["path"] for r in records.to_pylist()] == [e["path"] for e in expected]
    assert [(d["line_number"], d["kind"], d["reason"]) for d in damaged] == [(3, "rejected",
                                                                              "damaged write-ahead log line")]
    assert "198.51.100.23" not in damaged[0]["line"] and "198.51.100.0/24" in damaged[0]["line"]


def test_a_record_holds_the_ip_prefix_and_place_but_never_the_ip(enrichers):
    collector, _ = enrichers
    row = _rows()[0]
    record = collector.record(dict(row))
    assert set(record) <= set(WAL_SCHEMA.names) and "client_ip" not in record
    assert (record["ip_prefix"], record["country_code"], record["city"]) == ("81.2.69.0/24", "GB", "London")
    proxy = collector.record(dict(row, geo={"country_code": "FR", "city": "Paris"}))  # a trusted CloudFront's
    assert (proxy["country_code"], proxy.get("city"), proxy.get("region")) == ("FR", "Paris", None)


def test_moving_a_segment_never_reads_a_salt(enrichers):
    """A segment left by a crash days ago is moved after its day's salt was deleted: the stored visitor ids are
    the ones computed on arrival, and the deleted salt is not created again."""
    collector, _ = enrichers
    rows = _rows()[:10]
    wal = b"".join(encode_record(collector.record(dict(row))) for row in rows)
    day = "2026-11-30"
    collector.salts.backend.delete(day)
    collector.salts._cache.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an expired salt used again would warn
        got = collector.finish(read_records(wal, "s")[0], "s")
    assert collector.salts.backend.read(day) is None
    expected = [json.loads(line)["visitor_id"] for line in wal.splitlines()]
    kept = {d["line_number"] for d in got.dropped}
    assert got.events["visitor_id"].to_pylist() == [v for n, v in enumerate(expected, 1) if n not in kept]
