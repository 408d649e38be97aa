"""Log sources: one module per log family, each with ``NAME``, ``sniff(lines)`` and ``parse(reader)``.

``FORMATS`` maps a format name (as given to ``--format``) to its source: a module, or a ``SourceFormat`` when
several formats share one module (the Apache variants, ALB/ELB, the JSON logs). ``detect`` picks one from a
sample; sources earlier in ``FORMATS`` win when several sniff a sample as theirs, so specific formats come first.
``ALIASES`` are other names users may type for a format.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pyarrow as pa

from . import alb, apache, cloudfront, cloudfront_v2, jsonlogs, s3
from .base import LineReader


class Source(Protocol):
    """A log format: its name, whether a sample of lines is its own, and its parser (a module or an object)."""

    @property
    def NAME(self) -> str: ...

    def sniff(self, lines: list[str], /) -> bool: ...

    def parse(self, reader: LineReader, /) -> Iterator[pa.Table]: ...


FORMATS: dict[str, Source] = {
    cloudfront.NAME: cloudfront,
    cloudfront_v2.NAME: cloudfront_v2,
    s3.NAME: s3,
    alb.ALB.NAME: alb.ALB,
    alb.ELB.NAME: alb.ELB,
    jsonlogs.CADDY_JSON.NAME: jsonlogs.CADDY_JSON,
    jsonlogs.TRAEFIK_JSON.NAME: jsonlogs.TRAEFIK_JSON,
    jsonlogs.NGINX_JSON.NAME: jsonlogs.NGINX_JSON,
    **{variant.NAME: variant for variant in apache.VARIANTS},  # vhost_combined, vhost_common, combined, common
}

ALIASES: dict[str, str] = {
    "cloudfront_legacy": "cloudfront",
    "cloudfront-v2": "cloudfront_v2",
    "s3_access": "s3",
    "s3access": "s3",
    "classic_elb": "elb",
    "apache": "combined",
    "nginx": "combined",
    "ncsa": "common",
    "clf": "common",
    "ncsa_extended": "combined",
    "vhost": "vhost_combined",
    "caddy": "caddy_json",
    "traefik": "traefik_json",
}


def get_format(name: str) -> Source:
    """The source for a format name or alias; ValueError naming the choices when unknown."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    try:
        return FORMATS[key]
    except KeyError:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown format {name!r}; use one of: auto, {known}") from None
