"""Referrer host, source and channel, from a maintained list (``data/referrers.yml``), per distinct value.

- no referrer (null, empty, ``-``) -> channel ``direct``, no host, no source;
- a referrer from the site itself (host equal to the site, ignoring ``www.``) -> channel ``internal``, no source;
- ``android-app://com.google.android.gm/`` -> the app's source when the list knows the package (Gmail, email),
  else the package name as host and channel ``other``; ``ios-app://``/``app://`` alike;
- a listed host (exact, a subdomain of it, or ``<brand>.<public suffix>``) -> its source name and channel;
- anything else -> channel ``other`` with the host, and no source name (queries fall back to the host).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .._arrow import encode, flat
from ..sites import normalise_site
from ._distinct import DistinctCache

DATA = Path(__file__).resolve().parent / "data" / "referrers.yml"
CHANNELS = ("search", "social", "email", "ai", "direct", "internal", "other")
_APP_SCHEMES = ("android-app", "ios-app", "app")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_CC = re.compile(r"^[a-z]{2,3}$")
_HOST = re.compile(r"^[a-z0-9_.:-]+$")  # names, IPv4 and (bracket-less) IPv6 literals


class SourceList:
    """The referrer list: host -> (source, channel), brand -> (source, channel), app package -> (source, channel)."""

    def __init__(self, path: Path = DATA) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.hosts: dict[str, tuple[str, str]] = {}
        self.brands: dict[str, tuple[str, str]] = {}
        self.apps: dict[str, tuple[str, str]] = {}
        for channel, sources in data.items():
            if channel not in CHANNELS:
                raise ValueError(f"{path}: unknown channel {channel!r}")
            for name, spec in sources.items():
                for host in spec.get("hosts", []):
                    self.hosts.setdefault(host.lower(), (name, channel))
                for brand in spec.get("brands", []):
                    self.brands.setdefault(brand.lower(), (name, channel))
                for app in spec.get("apps", []):
                    self.apps.setdefault(app.lower(), (name, channel))

    def find(self, host: str) -> tuple[str, str] | None:
        labels = host.split(".")
        for i in range(len(labels) - 1):  # longest suffix first: mail.google.com before google.com
            hit = self.hosts.get(".".join(labels[i:]))
            if hit:
                return hit
        for i, label in enumerate(labels[:-1]):  # google.co.uk, search.yahoo.co.jp
            hit = self.brands.get(label)
            if hit and _public_suffix_like(labels[i + 1 :]):
                return hit
        return None


def _public_suffix_like(tail: list[str]) -> bool:
    """'de', 'com', 'co.uk', 'com.au': one or two short labels, ending in a 2-3 letter top-level domain."""
    if len(tail) == 1:
        return bool(_CC.match(tail[0])) or tail[0] in ("info", "asia")
    if len(tail) == 2:
        return len(tail[0]) <= 3 and bool(_CC.match(tail[1]))
    return False


@cache
def source_list() -> SourceList:
    """The packaged referrer list, read once per process: read-only reference data."""
    return SourceList()


def host_of(referrer: str) -> tuple[str | None, str | None]:
    """(scheme, host) of a referrer URL, host lower-case without port, ``www.`` or trailing dot."""
    text = referrer.strip()
    m = _SCHEME.match(text)
    if not m:
        text = "http://" + text.lstrip("/")
        scheme = None
    else:
        scheme = m.group(1).lower()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return scheme, None
    if not host:
        return scheme, None
    host = normalise_site(host)
    if not host or not _HOST.match(host):
        return scheme, None
    return scheme, host


def classify(referrer: str | None, site: str | None) -> tuple[str | None, str | None, str]:
    """(referrer_host, referrer_source, referrer_channel) for one referrer seen on one site."""
    if referrer is None or referrer.strip() in ("", "-", "null", "about:blank"):
        return None, None, "direct"
    scheme, host = host_of(referrer)
    if not host:
        return None, None, "other"
    if site and host == normalise_site(site):
        return host, None, "internal"
    lst = source_list()
    if scheme in _APP_SCHEMES:
        hit = lst.apps.get(host)
        if hit:
            return host, hit[0], hit[1]
    hit = lst.find(host)
    if hit:
        return host, hit[0], hit[1]
    return host, None, "other"


def _row(key: str) -> tuple:
    ref, _, site = key.partition("\x1f")
    return classify(None if ref == "\x00" else ref, site or None)


_NAMES = ("referrer_host", "referrer_source", "referrer_channel")
_SCHEMA = pa.schema([(c, pa.string()) for c in _NAMES])


class Referrers:
    """The referrers one run has classified, per (referrer, site): remembered across batches.

    A batch of one site (the usual case) is keyed by the referrer alone, in a cache of that site's."""

    def __init__(self, max_size: int = 500_000, max_sites: int = 64) -> None:
        self._pairs = DistinctCache(_row, _SCHEMA, max_size=max_size)  # keys 'referrer \x1f site'
        self._by_site: dict[str | None, DistinctCache] = {}
        self.max_sites = max_sites

    def _site_cache(self, site: str | None) -> DistinctCache:
        if site not in self._by_site:
            if len(self._by_site) >= self.max_sites:
                self._by_site.clear()
            self._by_site[site] = DistinctCache(lambda ref: classify(ref, site), _SCHEMA, max_size=200_000)
        return self._by_site[site]

    def columns(self, referrers: pa.Array | pa.ChunkedArray, sites: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """referrer_host, referrer_source, referrer_channel, computed once per distinct (referrer, site) pair."""
        referrers = flat(referrers)
        site_codes = encode(sites)
        if len(site_codes.dictionary) <= 1 and site_codes.null_count in (0, len(site_codes)):
            site = site_codes.dictionary[0].as_py() if len(site_codes.dictionary) else None
            out = self._site_cache(site).columns(pc.cast(referrers, pa.string()))
            # a null referrer is a direct visit; any other referrer has a channel
            out["referrer_channel"] = pc.fill_null(out["referrer_channel"], "direct")
            return out
        # one key per (referrer, site); a null referrer becomes "\x00", which no logged referrer is
        keys = pc.binary_join_element_wise(
            pc.fill_null(pc.cast(referrers, pa.string()), "\x00"),
            pc.fill_null(pc.cast(flat(sites), pa.string()), ""),
            "\x1f",
        )
        return self._pairs.columns(keys)
