"""Who may send what: configured sites and origins (with CORS), HMAC signatures, the client address, rate limits.

Facts come from where they cannot be forged by the body: the client IP from the connection, or from the
configured proxy's header only when the connection came from that proxy; the user agent from the header; the
time from the server clock. The server-to-server overrides (``ip``, ``timestamp``, ``user_agent``) need a
signature: ``X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`` with the configured secret,
within five minutes of the server's clock, and each signature is accepted once.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..sites import normalise_site
from .validation import BadRequest

SIGNATURE_HEADER = "x-signature"
REPLAY_WINDOW_SECONDS = 300
PROXIES = ("cloudfront", "x-forwarded-for")
CLOUDFRONT_GEO_HEADERS = {  # CloudFront viewer headers (origin request policy) -> StoredEvent geo columns
    "cloudfront-viewer-country": "country_code",
    "cloudfront-viewer-country-name": "country",
    "cloudfront-viewer-country-region-name": "region",
    "cloudfront-viewer-city": "city",
    "cloudfront-viewer-latitude": "latitude",
    "cloudfront-viewer-longitude": "longitude",
}


@dataclass(frozen=True)
class SitePolicy:
    """The configured sites: an event's URL must belong to one, and a browser's ``Origin`` too."""

    sites: frozenset[str]

    @classmethod
    def of(cls, sites: tuple[str, ...] | list[str]) -> SitePolicy:
        return cls(frozenset(s for s in (normalise_site(site) for site in sites) if s))

    def site_of(self, host: str) -> str:
        """The configured site an event's URL host belongs to, or 403."""
        site = normalise_site(host)
        if site not in self.sites:
            raise BadRequest(403, "the event's url is not on a site this collector accepts", "url")
        return site

    def origin_allowed(self, origin: str | None) -> bool:
        """True for no ``Origin`` (not a browser's cross-origin request) or the origin of a configured site."""
        if origin is None:
            return True
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and normalise_site(parts.netloc) in self.sites

    def cors_headers(self, origin: str | None) -> dict[str, str]:
        """CORS headers for an allowed origin, none for anyone else."""
        if origin is None or not self.origin_allowed(origin):
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        headers = self.cors_headers(origin)
        if headers:
            headers.update({"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Content-Type",
                            "Access-Control-Max-Age": "86400"})
        return headers


@dataclass
class Signatures:
    """HMAC-SHA256 request signatures with a replay window; each signature is accepted once."""

    secret: str | None
    window: int = REPLAY_WINDOW_SECONDS
    clock: Callable[[], float] = time.time
    _seen: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def sign(secret: str, body: bytes, at: float | None = None) -> str:
        """The header value a sender puts in ``X-Signature`` for this body."""
        stamp = int(time.time() if at is None else at)
        mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={stamp},v1={mac}"

    def verify(self, header: str, body: bytes) -> None:
        """Nothing when the signature is valid, fresh and new; else 403 saying why."""
        if not self.secret:
            raise BadRequest(403, "signed requests are disabled: this collector has no secret configured", "X-Signature")
        parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
        try:
            stamp = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError):
            raise BadRequest(403, "X-Signature must be 't=<unix seconds>,v1=<hex HMAC-SHA256>'", "X-Signature") from None
        now = self.clock()
        if abs(now - stamp) > self.window:
            raise BadRequest(403, f"X-Signature is outside the {self.window // 60}-minute window", "X-Signature")
        expected = hmac.new(self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            raise BadRequest(403, "X-Signature does not match the body", "X-Signature")
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - self.window:
                self._seen.popitem(last=False)
            if expected in self._seen:
                raise BadRequest(403, "X-Signature was already used (a replay)", "X-Signature")
            self._seen[expected] = stamp


@dataclass(frozen=True)
class ClientAddress:
    """Where the client IP comes from: the connection, or a trusted proxy's header."""

    proxy: str | None = None  # 'cloudfront' | 'x-forwarded-for' | None
    networks: tuple = ()  # ip_network objects: the proxy's own addresses
    hops: int = 1

    @classmethod
    def of(cls, proxy: str | None, networks: tuple[str, ...], hops: int) -> ClientAddress:
        if proxy and proxy not in PROXIES:
            raise ValueError(f"unknown collector proxy {proxy!r}; use one of {', '.join(PROXIES)}")
        if proxy and not networks:
            raise ValueError("a trusted proxy needs its networks: set SITE_STATS_COLLECTOR_PROXY_NETWORKS (CIDRs)")
        try:
            nets = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        except ValueError as exc:
            raise ValueError(f"SITE_STATS_COLLECTOR_PROXY_NETWORKS: {exc}") from None
        return cls(proxy, nets, max(1, hops))

    def via_proxy(self, peer: str | None) -> bool:
        if not self.proxy or not peer:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> tuple[str | None, dict]:
        """(client IP, geo columns from the proxy's viewer headers) for a request from ``peer``."""
        if not self.via_proxy(peer):
            return peer, {}
        if self.proxy == "cloudfront":
            ip = _address_of(headers.get("cloudfront-viewer-address", ""))
            return ip or peer, _cloudfront_geo(headers)
        chain = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
        pick = chain[-self.hops] if len(chain) >= self.hops else (chain[0] if chain else None)
        return _address_of(pick or "") or peer, {}


def _address_of(text: str) -> str | None:
    """'198.51.100.10:46532', '[2001:db8::1]:443', '2001:db8::1' or '203.0.113.7' -> the address, else None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    elif text.count(":") > 1 and "." not in text:  # CloudFront writes IPv6 as <address>:<port> without brackets
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            text = text.rsplit(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _cloudfront_geo(headers: Mapping[str, str]) -> dict:
    geo: dict = {}
    for header, column in CLOUDFRONT_GEO_HEADERS.items():
        value = headers.get(header)
        if not value:
            continue
        if column in ("latitude", "longitude"):
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number) and abs(number) <= 180:
                geo[column] = number
        else:
            geo[column] = value.strip()[:100]
    return geo


@dataclass
class RateLimiter:
    """A token bucket per IP prefix: ``rate`` events a second sustained, ``burst`` at once."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 100_000
    _buckets: dict = field(default_factory=dict)  # prefix -> (tokens, last time)

    def take(self, key: str) -> float:
        """0 when the event may pass (and counts it), else the seconds to wait before the next one."""
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.max_keys:
                self._forget_full(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate if self.rate > 0 else 3600.0

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled: they behave like new ones."""
        refill = self.burst / self.rate if self.rate > 0 else math.inf
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill}
