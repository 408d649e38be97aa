"""Format detection on every supported corpus file, forced formats, aliases and unrecognised files."""

from __future__ import annotations

import pytest
from conftest import run_cli

from stats_lib.sources import FORMATS, get_format
from stats_lib.sources.detect import UnknownFormat, detect

EXPECTED = {
    "matomo-log-analytics/alb.log": "alb",
    "matomo-log-analytics/elb.log": "elb",
    "matomo-log-analytics/s3.log": "s3",
    "matomo-log-analytics/amazon_cloudfront_web.log": "cloudfront",
    "matomo-log-analytics/common.log": "common",
    "matomo-log-analytics/common.log.gz": "common",
    "matomo-log-analytics/common.log.bz2": "common",
    "matomo-log-analytics/common_vhost.log": "vhost_common",
    "matomo-log-analytics/common_complete.log": "vhost_combined",
    "matomo-log-analytics/common_encoding_big5.log": "vhost_combined",
    "matomo-log-analytics/static_ignores.log": "vhost_combined",
    "matomo-log-analytics/ncsa_extended.log": "combined",
    "matomo-log-analytics/logs_to_tests.log": "combined",
    "matomo-log-analytics/nginx_json.log": "nginx_json",
    "matomo-log-analytics/caddy_json.log": "caddy_json",
    "matomo-log-analytics/traefik_json.log": "traefik_json",
    "elastic-integrations-aws/test-s3-server-access.log": "s3",
    "elastic-integrations-aws/test-alb.log": "alb",
    "elastic-integrations-aws/test-cloudfront.log": "cloudfront",
    "aws-samples-cloudfront-log-analysis/sample-alb-logs.gz": "alb",
    "aws-samples-cloudfront-log-analysis/sample-cloudfront-access-logs.gz": "cloudfront",
    "elastic-examples-apache-logs/apache_logs": "combined",
}
NOT_OURS = [
    "amazon_cloudfront_rtmp.log", "gandi.log", "haproxy.log", "iis.log", "iis_custom.log", "incapsula_w3c.log",
    "netscaler.log", "shoutcast.log", "splitted_date_and_time.log", "custom_regex_custom_date.log",
]


@pytest.mark.parametrize("relative, fmt", sorted(EXPECTED.items()))
def test_detects_corpus_file(corpora, relative, fmt):
    assert detect(corpora / relative).NAME == fmt


@pytest.mark.parametrize("file", NOT_OURS)
def test_other_formats_are_not_claimed(corpora, file):
    with pytest.raises(UnknownFormat) as info:
        detect(corpora / "matomo-log-analytics" / file)
    assert file in str(info.value) and "first line" in str(info.value)


def test_every_name_and_alias_resolves():
    names = {"cloudfront", "cloudfront_v2", "s3", "alb", "elb", "combined", "common", "vhost_combined",
             "vhost_common", "nginx_json", "caddy_json", "traefik_json"}
    assert set(FORMATS) == names
    for name in names:
        assert get_format(name).NAME == name
    assert get_format("apache").NAME == "combined" and get_format("NCSA").NAME == "common"
    assert get_format("cloudfront-v2").NAME == "cloudfront_v2"
    with pytest.raises(ValueError, match="unknown format 'iis'"):
        get_format("iis")


def test_sample_based_detection():
    assert detect("x", sample=["#Version: 1.0", "#Fields: date time x-edge-location sc-bytes c-ip cs-method"]).NAME == "cloudfront"
    assert detect("x", sample=['{"remote_addr":"192.0.2.1","request":"GET / HTTP/1.1","status":200,"time_iso8601":"2024-01-01T00:00:00+00:00"}']).NAME == "nginx_json"
    with pytest.raises(UnknownFormat, match="no text lines"):
        detect("x", sample=[])


def test_cli_forced_format_and_unrecognised_file(corpora, warehouse, tmp_path):
    combined = corpora / "matomo-log-analytics" / "ncsa_extended.log"
    proc = run_cli("ingest", str(combined), "--format", "common", "--warehouse", str(warehouse))
    assert "events written: 1" in proc.stdout
    weird = tmp_path / "weird.log"
    weird.write_text("<<203.0.113.77 did something>>\n")
    proc = run_cli("ingest", str(weird), "--warehouse", str(warehouse), check=False)
    out = proc.stdout + proc.stderr
    assert "weird.log" in out and "format not recognised" in out and "203.0.113.0/24" in out
    assert "203.0.113.77" not in out


def test_cli_unknown_format_name_is_a_one_line_error(corpora, warehouse):
    proc = run_cli("ingest", str(corpora / "matomo-log-analytics" / "common.log"), "--format", "iis",
                   "--warehouse", str(warehouse), check=False)
    assert proc.returncode != 0 and "unknown format 'iis'" in proc.stderr and "Traceback" not in proc.stderr
