"""CloudFront standard logs (legacy W3C form) from other projects' test suites, with their own expectations."""

from __future__ import annotations

import json

import pytest

import stats_lib
from stats_lib.engines.duckdb import connect


def rows(warehouse, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(warehouse)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_aws_samples_gzip_66_records(corpora, warehouse, settings):
    summary = stats_lib.ingest([str(corpora / "aws-samples-cloudfront-log-analysis/sample-cloudfront-access-logs.gz")],
                               settings=settings)
    assert (summary.events, summary.rejected) == (66, 0)
    assert rows(warehouse, "SELECT DISTINCT dt FROM events") == [("2018-11-07",)]
    assert dict(rows(warehouse, "SELECT status, count(*) FROM events GROUP BY 1")) == {302: 63, 200: 3}
    results = dict(rows(warehouse, "SELECT edge_result_type, count(*) FROM events GROUP BY 1"))
    assert results == {"LambdaGeneratedResponse": 41, "Hit": 23, "Miss": 2}
    agents = dict(rows(warehouse, "SELECT user_agent, count(*) FROM events GROUP BY 1"))
    bing = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"  # %2520 decoded twice, '+' kept
    assert agents[bing] == 41
    assert sum(n for ua, n in agents.items() if "Trident/7.0" in ua) == 22
    assert sum(n for ua, n in agents.items() if "Firefox/61" in ua) == 2
    assert sum(n for ua, n in agents.items() if "iPhone" in ua) == 1
    assert not any("%" in ua for ua in agents)
    daily = stats_lib.query("daily", settings=settings)
    assert daily["hits"].tolist() == [66] and daily["bot_hits"].tolist() == [41]
    prefixes = dict(rows(warehouse, "SELECT ip_prefix, count(*) FROM events GROUP BY 1"))
    assert prefixes == {"3.120.138.0/24": 41, "13.233.35.0/24": 24, "52.209.5.0/24": 1}


def test_sudhirj_24_field_form_and_status_000(corpora, warehouse, settings):
    summary = stats_lib.ingest([str(corpora / "sudhirj-scogs/CF.gz")], settings=settings)
    assert (summary.events, summary.rejected) == (18, 0)
    assert dict(rows(warehouse, "SELECT status, count(*) FROM events GROUP BY 1")) == {200: 16, 404: 1, 0: 1}
    assert rows(warehouse, "SELECT path, bytes_sent FROM events WHERE status = 0") == [("/favicon.ico", 0)]
    first = rows(
        warehouse,
        "SELECT ts, edge_location, bytes_sent, method, edge_result_type, referrer, time_taken_ms, site, path, query "
        "FROM events WHERE line_number = 3",
    )[0]
    ts, edge, size, method, result, referrer, taken, site, path, query = first
    assert (ts.year, ts.day, ts.second) == (2016, 15, 29)
    assert (edge, size, method, result, referrer) == ("SIN2", 540648, "GET", "Miss", None)
    assert taken == pytest.approx(4988.0)
    assert site == "sgn.rw7.io"  # x-host-header, not the cloudfront.net cs(Host)
    assert (path, query) == ("/4KUWWncQLgawVXcgfj7JDd/1WcELVj08seEinr6dQuG2m", "w=1200&q=90")
    assert rows(warehouse, "SELECT DISTINCT ip_prefix FROM events") == [("122.164.17.0/24",)]


def test_jsherz_33_fields_matches_upstream_parse(corpora, warehouse, settings):
    folder = corpora / "jsherz-cloudfront-logs-to-elasticsearch"
    stats_lib.ingest([str(folder / "expected-result")], settings=settings)
    expected = json.loads((folder / "parsed-entries.json").read_text())
    got = rows(
        warehouse,
        "SELECT strftime(ts, '%Y-%m-%dT%H:%M:%SZ'), edge_location, method, path, site, status, bytes_sent, "
        "content_type, time_taken_ms, user_agent, is_bot FROM events ORDER BY ts",
    )
    assert len(got) == len(expected) == 2
    for row, want in zip(got, expected):
        assert row[:9] == (
            want["date"], want["edgeLocation"], want["request"]["method"], want["request"]["uriStem"],
            want["request"]["hostHeader"], want["response"]["status"], want["response"]["bytes"],
            want["response"]["contentType"], pytest.approx(want["timeTaken"] * 1000),
        )
        # The upstream parser form-decoded '+' into a space; percent-decoding keeps it.
        assert row[9] == "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        assert row[10] is True


def test_claygregory_header_quirks(corpora, warehouse, settings):
    folder = corpora / "claygregory-node-cloudfront-log-parser"
    summary = stats_lib.ingest([str(folder)], settings=settings)
    assert (summary.events, summary.rejected) == (5, 0)
    by_day = dict(rows(warehouse, "SELECT dt, count(*) FROM events GROUP BY 1"))
    assert sum(by_day.values()) == 5
    agents = {r[0] for r in rows(warehouse, "SELECT DISTINCT user_agent FROM events")}
    assert all("%" not in a and " " in a for a in agents)
    assert any("Chrome/78" in a for a in agents) and any("iPhone OS 10_2_1" in a for a in agents)
    queries = {r[0] for r in rows(warehouse, "SELECT DISTINCT query FROM events")}
    assert "a=b&c=d" in queries
    assert rows(warehouse, "SELECT count(*) FROM events WHERE status = 304") == [(1,)]


def test_elastic_ipv6_000_and_truncated_record(corpora, warehouse, settings):
    path = corpora / "elastic-integrations-aws/test-cloudfront.log"
    summary = stats_lib.ingest([str(path)], settings=settings)
    assert (summary.lines, summary.events, summary.rejected) == (14, 11, 1)
    con = connect(warehouse)
    reject = con.execute("SELECT source_file, line_number, kind, reason, line FROM rejects").fetchall()
    con.close()
    assert len(reject) == 1
    name, number, kind, reason, line = reject[0]
    assert (name, number, kind) == ("test-cloudfront.log", 14, "rejected")
    assert reason == "expected 33 tab-separated fields, found 31"
    assert "127.0.0.1" not in line and "127.0.0.0/24" in line  # the IP in the kept line is masked
    assert rows(warehouse, "SELECT count(*) FROM events WHERE ip_prefix = '2a02:cf40:add::/48'") == [(1,)]
    assert rows(warehouse, "SELECT count(*) FROM events WHERE status = 0") == [(1,)]
    assert dict(rows(warehouse, "SELECT site, count(*) FROM events GROUP BY 1")) == {
        "d111111abcdef8.cloudfront.net": 3, "example.com": 3, "test.com": 5,
    }
    assert rows(warehouse, "SELECT count(*) FROM events WHERE is_bot") == [(4,)]  # curl + 3 HeadlessChrome


def test_matomo_cloudfront_web_exactly_one_hit(corpora, warehouse, settings):
    stats_lib.ingest([str(corpora / "matomo-log-analytics/amazon_cloudfront_web.log")], settings=settings)
    got = rows(warehouse, "SELECT ts, path, status, referrer, time_taken_ms, user_agent, is_bot, is_pageview, "
                          "ip_prefix FROM events")
    assert len(got) == 1
    ts, path, status, referrer, taken, ua, is_bot, is_pageview, prefix = got[0]
    assert str(ts) == "2014-05-23 01:13:11"
    assert (path, status, referrer) == ("/view/my/file.html", 200, "https://example.com/")
    assert taken == pytest.approx(1.0)
    assert ua == ("Mozilla/5.0 (Windows; U; Windows NT 6.1; de-DE) AppleWebKit/534.17 (KHTML, like Gecko) "
                  "Chrome/10.0.649.0 Safari/534.17")
    assert (is_bot, is_pageview, prefix) == (False, True, "192.0.2.0/24")
