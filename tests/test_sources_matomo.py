"""Every matomo-log-analytics corpus file in a supported format, with the values its SOURCE.md records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import parse_file as parse

import stats_lib
from stats_lib.engines.duckdb import connect
from stats_lib.sources.base import DECODE_NOTE

CHROME17 = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/535.11 (KHTML, like Gecko) Chrome/17.0.963.56 Safari/535.11"
)


@pytest.fixture
def matomo(corpora: Path) -> Path:
    return corpora / "matomo-log-analytics"


def test_s3_log_old_17_field_form(matomo):
    name, rows, reader = parse(matomo / "s3.log")
    assert name == "s3" and len(rows) == 1 and reader.lines == 1 and not reader.rejects
    r = rows[0]
    assert r["host"] == "www.example.com"
    assert r["ts"] == dt.datetime(2012, 2, 10, 21, 42, 7)  # 16:42:07 -0500 in UTC
    assert (r["client_ip"], r["method"], r["path"], r["status"], r["bytes_sent"]) == ("1.2.3.4", "GET", "/index", 200, 368)
    assert r["referrer"] is None and r["user_agent"] == CHROME17
    assert r["operation"] == "WEBSITE.GET.OBJECT" and r["time_taken_ms"] == 10.0


def test_elb_log_one_hit_and_the_tcp_line_skipped(matomo):
    name, rows, reader = parse(matomo / "elb.log")
    assert name == "elb" and reader.lines == 3 and len(rows) == 1
    r = rows[0]
    assert (r["status"], r["path"], r["client_ip"], r["bytes_sent"]) == (200, "/path/index.html", "1.2.3.4", 57)
    assert r["time_taken_ms"] == pytest.approx(1.048)
    assert r["ts"] == dt.datetime(2015, 5, 13, 23, 39, 43, 945000)
    assert r["host"] == "www.example.com:443" and r["protocol"] == "https" and r["user_agent"] == CHROME17
    assert [(n, kind, reason) for n, kind, reason, _ in reader.rejects] == [
        (3, "skipped", "ELB TCP/SSL listener line (no HTTP request)")
    ]
    assert "192.168.131.39" not in reader.rejects[0][3]


def test_alb_log_one_hit(matomo):
    name, rows, reader = parse(matomo / "alb.log")
    assert name == "alb" and len(rows) == 1 and not reader.rejects
    r = rows[0]
    assert (r["status"], r["path"], r["client_ip"], r["bytes_sent"]) == (200, "/path/index.html", "1.2.3.4", 24950)
    assert r["time_taken_ms"] == pytest.approx(102.0)
    assert r["ts"] == dt.datetime(2020, 1, 1, 0, 55, 4, 127000)


@pytest.mark.parametrize(
    "file, ip, user, when, method, path, status, size",
    [
        ("common.log", "1.2.3.4", "theuser", dt.datetime(2012, 2, 10, 21, 42, 7), "GET", "/", 301, 368),
        ("common.log.gz", "1.2.3.5", "admin", dt.datetime(2012, 2, 10, 23, 42, 7), "POST", "/form", 200, 145),
        ("common.log.bz2", "1.2.3.7", "theboss", dt.datetime(2012, 2, 19, 23, 42, 7), "POST", "/", 200, 444),
    ],
)
def test_common_plain_and_compressed(matomo, file, ip, user, when, method, path, status, size):
    name, rows, reader = parse(matomo / file)
    assert name == "common" and len(rows) == 1 and not reader.rejects
    r = rows[0]
    assert (r["client_ip"], r["ts"], r["method"], r["path"], r["status"], r["bytes_sent"]) == (
        ip, when, method, path, status, size
    )
    assert r["user_agent"] is None  # the common log format has no user-agent field: unknown, not a bot
    assert r["referrer"] is None and r["host"] is None


def test_ncsa_extended_is_combined_and_also_parses_as_common(matomo):
    name, rows, _ = parse(matomo / "ncsa_extended.log")
    assert name == "combined" and rows[0]["user_agent"] == CHROME17 and rows[0]["status"] == 301
    _, rows, reader = parse(matomo / "ncsa_extended.log", "common")
    assert len(rows) == 1 and rows[0]["user_agent"] is None and not reader.rejects


@pytest.mark.parametrize("file, fmt", [("common_vhost.log", "vhost_common"), ("common_complete.log", "vhost_combined")])
def test_vhost_variants(matomo, file, fmt):
    name, rows, reader = parse(matomo / file)
    assert name == fmt and len(rows) == 1 and not reader.rejects
    r = rows[0]
    assert (r["host"], r["client_ip"], r["path"], r["status"], r["bytes_sent"]) == ("www.example.com", "1.2.3.4", "/", 301, 368)
    assert r["ts"] == dt.datetime(2012, 2, 10, 21, 42, 7)
    assert r["user_agent"] == (CHROME17 if fmt == "vhost_combined" else None)


def test_big5_path_is_decoded_with_replacement_and_counted(matomo):
    name, rows, reader = parse(matomo / "common_encoding_big5.log")
    assert name == "vhost_combined" and len(rows) == 1
    assert "\ufffd" in rows[0]["path"] and reader.decode_errors == 1 and reader.reasons[DECODE_NOTE] == 1


def test_logs_to_tests_head_line_with_dash_length(matomo):
    name, rows, reader = parse(matomo / "logs_to_tests.log")
    assert name == "combined" and reader.lines == 6 and len(rows) == 4 and not reader.rejects  # comment + blank
    assert [r["path"] for r in rows[:3]] == ["/piwik.php"] * 3
    assert rows[0]["query"].startswith("action_name=Clearcode%20-%20Web")
    head = rows[3]
    assert (head["method"], head["path"], head["status"], head["bytes_sent"], head["user_agent"]) == ("HEAD", "/", 403, None, "")
    assert head["ts"] == dt.datetime(2013, 10, 28, 23, 48, 46)  # 00:48:46 +0100


def test_nginx_json(matomo):
    name, rows, reader = parse(matomo / "nginx_json.log")
    assert name == "nginx_json" and len(rows) == 2 and not reader.rejects
    r = rows[0]
    assert (r["client_ip"], r["host"], r["path"], r["status"], r["bytes_sent"]) == ("1.2.3.4", "www.piwik.org", "/piwik.php", 200, 192)
    assert r["query"].startswith("action_name=Clearcode") and r["referrer"] == "http://clearcode.cc/"
    assert r["ts"] == dt.datetime(2013, 10, 10, 14, 52)  # 16:52 +02:00
    assert r["user_agent"].endswith("Chrome/24.0.1312.57 Safari/537.17")
    assert r["time_taken_ms"] == pytest.approx(0.008)


def test_caddy_json(matomo):
    name, rows, reader = parse(matomo / "caddy_json.log")
    assert name == "caddy_json" and len(rows) == 3 and not reader.rejects
    r = rows[0]
    assert (r["client_ip"], r["host"], r["path"], r["status"], r["bytes_sent"], r["content_type"], r["protocol"]) == (
        "1.2.3.4", "example.com", "/beta/", 200, 3609, "text/html", "https"
    )
    assert r["ts"] == dt.datetime(2023, 12, 23, 23, 17, 54, 816000)
    assert r["user_agent"].endswith("Firefox/121.0") and rows[1]["referrer"] == "https://example.com/beta/"


def test_traefik_json(matomo):
    name, rows, reader = parse(matomo / "traefik_json.log")
    assert name == "traefik_json" and len(rows) == 1 and not reader.rejects
    r = rows[0]
    assert (r["client_ip"], r["host"], r["method"], r["path"], r["query"], r["status"], r["bytes_sent"]) == (
        "1.2.3.4", "localhost", "GET", "/my/app/auth", "id=1234&user=dude", 200, 15
    )
    assert r["user_agent"] == "Prometheus/2.40.5" and r["ts"] == dt.datetime(2023, 8, 11, 11, 39, 21, 773000)
    assert r["time_taken_ms"] == pytest.approx(10002.425284)


def test_static_ignores_end_to_end_four_hits_one_pageview(matomo, settings, warehouse):
    summary = stats_lib.ingest([str(matomo / "static_ignores.log")], settings=settings)
    assert (summary.lines, summary.events, summary.rejected, summary.skipped) == (4, 4, 0, 0)
    assert summary.files[0].format == "vhost_combined"
    daily = stats_lib.query("daily", settings=settings)
    assert daily["hits"].tolist() == [4] and daily["pageviews"].tolist() == [1]
    con = connect(warehouse)
    assert con.execute("SELECT path FROM events WHERE is_pageview").fetchall() == [("/",)]
    assert con.execute("SELECT DISTINCT site FROM events").fetchall() == [("example.com",)]


def test_matomo_folder_auto_detected_end_to_end(matomo, settings, warehouse):
    """The whole folder in one run: supported files are stored, the others are reported and skipped."""
    summary = stats_lib.ingest([str(matomo)], settings=settings)
    by_name = {Path(f.path).name: f for f in summary.files}
    expected = {
        "alb.log": ("alb", 1, 0, 0),
        "elb.log": ("elb", 1, 0, 1),
        "s3.log": ("s3", 1, 0, 0),
        "amazon_cloudfront_web.log": ("cloudfront", 1, 0, 0),
        "common.log": ("common", 1, 0, 0),
        "common.log.gz": ("common", 1, 0, 0),
        "common.log.bz2": ("common", 1, 0, 0),
        "common_vhost.log": ("vhost_common", 1, 0, 0),
        "common_complete.log": ("vhost_combined", 1, 0, 0),
        "common_encoding_big5.log": ("vhost_combined", 1, 0, 0),
        "ncsa_extended.log": ("combined", 1, 0, 0),
        "static_ignores.log": ("vhost_combined", 4, 0, 0),
        "logs_to_tests.log": ("combined", 4, 0, 0),
        "nginx_json.log": ("nginx_json", 2, 0, 0),
        "caddy_json.log": ("caddy_json", 3, 0, 0),
        "traefik_json.log": ("traefik_json", 1, 0, 0),
        # other formats whose lines happen to be valid combined lines (Icecast adds a trailing duration; OVH puts
        # the vhost in the ident field, so its host is not recognised)
        "icecast2.log": ("combined", 1, 0, 0),
        "ovh.log": ("combined", 1, 0, 0),
    }
    for file, (fmt, events, rejected, skipped) in expected.items():
        f = by_name[file]
        assert (f.status, f.format, f.events, f.rejected, f.skipped) == ("ingested", fmt, events, rejected, skipped), file
    unsupported = {"amazon_cloudfront_rtmp.log", "gandi.log", "haproxy.log", "iis.log", "iis_custom.log",
                   "incapsula_w3c.log", "netscaler.log", "shoutcast.log", "splitted_date_and_time.log",
                   "custom_regex_custom_date.log"}
    for file in unsupported:
        f = by_name[file]
        assert f.status == "failed" and "format not recognised" in f.error and file in f.error, file
        assert "1.2.3.4" not in f.error
    con = connect(warehouse)
    hits = dict(con.execute("SELECT source_file, COUNT(*) FROM events GROUP BY 1").fetchall())
    assert hits == {file: e[1] for file, e in expected.items()}
    assert summary.reasons[DECODE_NOTE] == 1
