"""The collector's one seam to the enrichment that log ingest uses: RAW rows in, StoredEvent rows out.

Collector events are enriched exactly like log lines (bots, user agent, referrer, campaign, geolocation from the
full IP, visitor id, IP prefix, site), by the same pipeline, with ``source = 'collector'``; this module is the
only one of the collector that imports the enrichment, so a change of its API is a change here. Enrichment runs
*before* anything is written, even the write-ahead log: the raw client IP lives only in memory, as the
contract requires. Bots are answered 202 and dropped here, each counted with its reason (kept as a reject).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..config import Settings
from ..enrich.geo import GeoLocator
from ..enrich.pipeline import Enrichment, utc_days
from ..privacy import ip_prefix_of, mask_ips
from ..schema import RAW_SCHEMA, REJECT_SCHEMA, STORED_SCHEMA
from ..sites import normalise_site
from ..warehouse.salts import SaltStore

SOURCE = "collector"
GEO_COLUMNS = ("country_code", "country", "region", "city", "latitude", "longitude")
MAX_REJECT_LINE = 500

__all__ = ["Enricher", "EnrichedBatch", "SOURCE", "ip_prefix_of", "mask_ips", "normalise_site", "utc_days"]


@dataclass
class EnrichedBatch:
    """The StoredEvent rows of a batch and the rows dropped from it (bots), as reject records."""

    events: pa.Table
    dropped: list[dict] = field(default_factory=list)

    def to_json(self) -> bytes:
        """One line of the write-ahead log: ``{"events": [...], "dropped": [...]}``."""
        return json.dumps({"events": to_rows(self.events), "dropped": self.dropped}, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_json(cls, line: bytes) -> EnrichedBatch:
        data = json.loads(line)
        return cls(from_rows(data["events"]), list(data.get("dropped", [])))


def to_rows(events: pa.Table) -> list[dict]:
    """StoredEvent rows as JSON-ready dicts: timestamps as epoch milliseconds, nulls left out."""
    table = events.set_column(events.schema.get_field_index("ts"), "ts", pc.cast(events["ts"], pa.int64()))
    return [{k: v for k, v in row.items() if v is not None} for row in table.to_pylist()]


def from_rows(rows: list[dict]) -> pa.Table:
    """The StoredEvent table of ``to_rows`` output (consumes the dicts)."""
    if not rows:
        return STORED_SCHEMA.empty_table()
    ts = pa.array([row.pop("ts") for row in rows], pa.int64()).cast(STORED_SCHEMA.field("ts").type)
    table = pa.Table.from_pylist(rows, schema=STORED_SCHEMA.remove(0))
    return table.add_column(0, STORED_SCHEMA.field("ts"), ts).select(STORED_SCHEMA.names)


def rejects_table(dropped: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(dropped, schema=REJECT_SCHEMA)


class Enricher:
    """One enrichment context for the life of a collector: salts, geolocation database and the IP table."""

    def __init__(self, settings: Settings, salts_dir: Path | None = None, salts: SaltStore | None = None) -> None:
        """Salts from ``salts`` (e.g. an S3 backend in Lambda), else the folder ``salts_dir``."""
        self.settings = settings
        self.salts = salts or SaltStore.in_folder(Path(salts_dir) if salts_dir else Path(settings.warehouse) / "_salts",
                                                  retention_days=settings.salt_retention_days)
        self.geo = GeoLocator(settings.geoip_path)
        self.enrichment = Enrichment(self.salts, self.geo)  # every cache, for the life of the collector

    def enrich(self, rows: list[dict], source_file: str, first_line: int = 1) -> EnrichedBatch:
        """Enrich RAW rows (dicts with RAW_SCHEMA keys, plus an optional ``geo`` dict of viewer geolocation
        from a trusted proxy); number them from ``first_line`` within ``source_file``."""
        for offset, row in enumerate(rows):
            row["line_number"] = first_line + offset
        raw = pa.Table.from_pylist(rows, schema=RAW_SCHEMA)
        stored = self.enrichment.enrich(raw, SOURCE, source_file)
        stored = _with_viewer_geo(stored, [row.get("geo") for row in rows])
        is_bot = pc.fill_null(stored["is_bot"], False)
        dropped = [
            {"source_file": source_file, "line_number": row["line_number"], "kind": "skipped",
             "reason": f"bot: {name or 'unnamed'}",
             "line": mask_ips(f"{row['event_name']} {row['path']} {row['user_agent'] or ''}", MAX_REJECT_LINE)}
            for row, bot, name in zip(rows, is_bot.to_pylist(), stored["bot_name"].to_pylist())
            if bot
        ]
        return EnrichedBatch(stored.filter(pc.invert(is_bot)) if dropped else stored, dropped)

    def warm_up(self) -> None:
        """Build the lazily made tables (bot patterns, user-agent parser) now, not on the first request: enrich
        one made-up event and throw the result away (nothing is written; its salt is the day's own)."""
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        self.enrich([raw_row(ts=now, client_ip="192.0.2.1", site="example.com", path="/", query="utm_source=x",
                             referrer="https://www.google.com/", user_agent="Mozilla/5.0 (X11; Linux x86_64)",
                             name="pageview", props={}, protocol="https")], "warm-up")

    def purge_salts(self) -> None:
        self.salts.purge()


def _with_viewer_geo(stored: pa.Table, geos: list[dict | None]) -> pa.Table:
    """Where a trusted proxy (CloudFront) gave the viewer's location, it replaces the database's answer."""
    if not any(geos):
        return stored
    for name in GEO_COLUMNS:
        column = stored[name].to_pylist()
        values = [geo[name] if geo and name in geo else (None if geo else old) for geo, old in zip(geos, column)]
        index = stored.schema.get_field_index(name)
        stored = stored.set_column(index, stored.schema.field(name), pa.array(values, stored.schema.field(name).type))
    return stored


def raw_row(*, ts: dt.datetime, client_ip: str | None, site: str, path: str, query: str | None,
            referrer: str | None, user_agent: str, name: str, props: dict, protocol: str | None,
            geo: dict | None = None) -> dict:
    """A RAW_SCHEMA row for one accepted event (what a log line would have said, plus name and props)."""
    return {
        "ts": ts, "client_ip": client_ip, "host": site, "path": path, "query": query, "referrer": referrer,
        "user_agent": user_agent, "event_name": name, "protocol": protocol,
        "props": json.dumps(props, separators=(",", ":"), ensure_ascii=False, sort_keys=True),
        "geo": geo or None,
    }
