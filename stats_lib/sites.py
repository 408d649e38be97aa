"""The one site normaliser: how a host names a site everywhere (ingest, collector, queries, reports, rules)."""

from __future__ import annotations

__all__ = ["normalise_site"]


def normalise_site(host: str | None) -> str | None:
    """'WWW.Example.com:443' -> 'example.com': lower-case, no port, no trailing dot, no leading ``www.``.

    An IPv6 literal keeps its colons (``[::1]:8080`` -> ``::1``); an empty or missing host is ``None``.
    """
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("[") and "]" in host:  # [v6]:port
        host = host[1 : host.index("]")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host or None
