"""Where the collector takes facts from: the client address (connection or trusted proxy), signatures, rate limits.
Expected values are written from the header formats AWS and RFC 7239's predecessor document, not computed."""

from __future__ import annotations

import pytest

from stats_lib.collector.security import ClientAddress, RateLimiter, Signatures, SitePolicy
from stats_lib.collector.validation import BadRequest


def test_the_connection_address_is_used_without_a_trusted_proxy():
    plain = ClientAddress.of(None, (), 1)
    assert plain.resolve("198.51.100.7", {"x-forwarded-for": "203.0.113.9",
                                          "cloudfront-viewer-address": "203.0.113.9:443"}) == ("198.51.100.7", {})


def test_a_proxy_header_counts_only_when_the_request_came_from_the_proxy():
    xff = ClientAddress.of("x-forwarded-for", ("10.0.0.0/8",), 1)
    headers = {"x-forwarded-for": "203.0.113.9, 198.51.100.20"}
    assert xff.resolve("10.1.2.3", headers) == ("198.51.100.20", {})  # the entry our one proxy appended
    assert xff.resolve("192.0.2.1", headers) == ("192.0.2.1", {})  # not from the proxy: its header is a claim
    two = ClientAddress.of("x-forwarded-for", ("10.0.0.0/8",), 2)
    assert two.resolve("10.1.2.3", headers) == ("203.0.113.9", {})
    assert two.resolve("10.1.2.3", {"x-forwarded-for": "not-an-ip, 198.51.100.20"}) == ("10.1.2.3", {})


def test_cloudfront_viewer_address_and_geo_headers():
    cf = ClientAddress.of("cloudfront", ("127.0.0.1/32",), 1)
    headers = {"cloudfront-viewer-address": "2001:db8:1:2::3:46532", "cloudfront-viewer-country": "DE",
               "cloudfront-viewer-city": "Berlin", "cloudfront-viewer-latitude": "52.52",
               "cloudfront-viewer-longitude": "13.40", "cloudfront-viewer-country-name": "Germany"}
    ip, geo = cf.resolve("127.0.0.1", headers)
    assert ip == "2001:db8:1:2::3"
    assert geo == {"country_code": "DE", "country": "Germany", "city": "Berlin", "latitude": 52.52,
                   "longitude": 13.40}
    assert cf.resolve("127.0.0.1", {"cloudfront-viewer-address": "198.51.100.10:46532"})[0] == "198.51.100.10"
    assert cf.resolve("127.0.0.1", {"cloudfront-viewer-address": "[2001:db8::1]:443"})[0] == "2001:db8::1"


def test_a_proxy_without_networks_is_a_configuration_error():
    with pytest.raises(ValueError, match="NETWORKS"):
        ClientAddress.of("x-forwarded-for", (), 1)
    with pytest.raises(ValueError, match="unknown collector proxy"):
        ClientAddress.of("forwarded", ("10.0.0.0/8",), 1)


def test_rate_limit_refills_at_the_rate():
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert limiter.take("b") == 0.0
    now[0] = 0.5
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0


def test_signatures_window_and_replay():
    now = [1_800_000_000.0]
    sig = Signatures("k", clock=lambda: now[0])
    body = b'{"name":"x"}'
    header = Signatures.sign("k", body, now[0])
    sig.verify(header, body)
    with pytest.raises(BadRequest, match="replay"):
        sig.verify(header, body)
    now[0] += 301
    with pytest.raises(BadRequest, match="window"):
        sig.verify(Signatures.sign("k", body, now[0] - 301), body)
    with pytest.raises(BadRequest, match="no secret"):
        Signatures(None).verify(header, body)


def test_sites_and_origins_are_compared_as_sites():
    policy = SitePolicy.of(("WWW.Example.com", "shop.test:8443"))
    assert policy.sites == frozenset({"example.com", "shop.test"})
    assert policy.site_of("www.example.com") == "example.com"
    assert policy.origin_allowed("https://www.example.com") and policy.origin_allowed(None)
    assert not policy.origin_allowed("https://example.com.evil.test")
    assert not policy.origin_allowed("null")
    with pytest.raises(BadRequest):
        policy.site_of("evil.test")
