"""UTM campaign parameters and click ids from the query string, per distinct query.

``utm_source``, ``utm_medium``, ``utm_campaign``, ``utm_term``, ``utm_content`` (keys case-insensitive, the first
non-empty occurrence wins); ``ref`` or ``source`` stand in for a missing ``utm_source``. ``click_id`` names which
ad click id was present (``gclid``, ``fbclid``, ``msclkid``), never its value, which identifies one click.
Values are percent-decoded (``+`` is a space), stripped, and capped at ``MAX_LENGTH`` characters.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pyarrow as pa

from ._distinct import DistinctCache

COLUMNS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "click_id")
UTM = COLUMNS[:5]
SOURCE_FALLBACKS = ("ref", "source")
CLICK_IDS = ("gclid", "fbclid", "msclkid")
MAX_LENGTH = 200
_EMPTY = (None,) * len(COLUMNS)


def parse(query: str | None) -> tuple[str | None, ...]:
    """The campaign columns of one raw query string (without '?')."""
    if not query or query == "-":
        return _EMPTY
    lowered = query.lower()
    if "utm_" not in lowered and "ref" not in lowered and "source" not in lowered and "clid" not in lowered and "clkid" not in lowered:
        return _EMPTY
    values: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    except ValueError:
        return _EMPTY
    for key, value in pairs:
        key = key.strip().lower()
        value = value.strip()
        if key in values:
            continue
        if key in UTM or key in SOURCE_FALLBACKS:
            if value:
                values[key] = value[:MAX_LENGTH]
        elif key in CLICK_IDS:
            values[key] = ""
    source = values.get("utm_source") or next((values[k] for k in SOURCE_FALLBACKS if k in values), None)
    click = next((k for k in CLICK_IDS if k in values), None)
    return (
        source,
        values.get("utm_medium"),
        values.get("utm_campaign"),
        values.get("utm_term"),
        values.get("utm_content"),
        click,
    )


class Campaigns:
    """The query strings one run has parsed for campaign columns, each distinct one once (across batches)."""

    def __init__(self, max_size: int = 200_000) -> None:
        self._columns = DistinctCache(parse, pa.schema([(c, pa.string()) for c in COLUMNS]), max_size=max_size)

    def columns(self, queries: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """The campaign columns for each query string, parsed once per distinct value."""
        return self._columns.columns(queries)
