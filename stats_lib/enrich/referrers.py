"""Referrer host, source and channel. Placeholder until the maintained source list is wired in."""

from __future__ import annotations

import pyarrow as pa


def referrer_columns(referrers: pa.Array, sites: pa.Array) -> dict[str, pa.Array]:
    n = len(referrers)
    return {c: pa.nulls(n, pa.string()) for c in ("referrer_host", "referrer_source", "referrer_channel")}
