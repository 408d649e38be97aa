"""UTM campaign parameters and click ids from the query string. Placeholder until wired in."""

from __future__ import annotations

import pyarrow as pa

COLUMNS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "click_id")


def campaign_columns(queries: pa.Array) -> dict[str, pa.Array]:
    n = len(queries)
    return {c: pa.nulls(n, pa.string()) for c in COLUMNS}
