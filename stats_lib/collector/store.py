"""The collector's one seam to the enrichment that log ingest uses, in two steps split by the write-ahead log.

Collector events are enriched exactly like log lines (bots, user agent, referrer, campaign, geolocation from the
full IP, visitor id, IP prefix, site), by the same code, with ``source = 'collector'``; this module is the only
one of the collector that imports the enrichment, so a change of its API is a change here.

1. ``Enricher.record`` (per request, before the WAL): what needs the request's full client IP, which lives only
   in memory as the contract requires: the IP prefix, the geolocation (from the full address, or a trusted
   proxy's viewer headers) and the visitor id (keyed hash of the day's salt, site, IP and user agent), computed
   with the pipeline's own one-event rules (``ip_prefix_of``, ``GeoLocator.lookup``, ``visitor_id``). The
   record is the validated event plus those fields, without the IP: what the WAL holds (``WAL_SCHEMA``).
2. ``Enricher.finish`` (per WAL segment, when it moves into Parquet): everything else, in one columnar batch
   through ``Enrichment.enrich`` (the log pipeline), whose IP-derived columns are replaced by the record's.
   Bots are dropped here, each counted with its reason (kept as a reject); they were answered 202.

``Enricher.enrich`` is both steps at once (the Lambda path, which sends enriched StoredEvents to Firehose).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from ..config import Settings
from ..enrich.geo import GEO_COLUMNS, GeoLocator
from ..enrich.pipeline import Enrichment, split_by_day, utc_days
from ..enrich.visitors import visitor_id
from ..privacy import ip_prefix_of, mask_ips
from ..schema import RAW_SCHEMA, REJECT_SCHEMA, STORED_SCHEMA
from ..sites import normalise_site
from ..warehouse.salts import SaltStore
from ..warehouse.storage import id_from_text

SOURCE = "collector"
MAX_REJECT_LINE = 500
MAX_PLACES = 100_000  # client IPs whose prefix and geolocation are remembered (in memory only)
_EPOCH = dt.datetime(1970, 1, 1)
_MS = dt.timedelta(milliseconds=1)
# One WAL record: a RAW row without the client IP, plus the columns only the full IP gives. ``ts`` in epoch ms.
IP_COLUMNS = ("ip_prefix", "visitor_id", *GEO_COLUMNS)
WAL_SCHEMA = pa.schema(
    [pa.field("ts", pa.int64())]
    + [RAW_SCHEMA.field(n) for n in ("host", "path", "query", "referrer", "user_agent", "event_name", "protocol",
                                     "props")]
    + [STORED_SCHEMA.field(n) for n in IP_COLUMNS]
)

__all__ = ["Enricher", "EnrichedBatch", "SOURCE", "WAL_SCHEMA", "ip_prefix_of", "mask_ips", "normalise_site",
           "split_by_day", "utc_days"]


@dataclass
class EnrichedBatch:
    """The StoredEvent rows of a batch and the rows dropped from it (bots, damaged WAL lines), as reject records."""

    events: pa.Table
    dropped: list[dict] = field(default_factory=list)


def to_rows(events: pa.Table) -> list[dict]:
    """StoredEvent rows as JSON-ready dicts: timestamps as epoch milliseconds, nulls left out."""
    table = events.set_column(events.schema.get_field_index("ts"), "ts", pc.cast(events["ts"], pa.int64()))
    return [{k: v for k, v in row.items() if v is not None} for row in table.to_pylist()]


def from_rows(rows: list[dict]) -> pa.Table:
    """The StoredEvent table of ``to_rows`` output (consumes the dicts)."""
    if not rows:
        return STORED_SCHEMA.empty_table()
    for row in rows:  # a record written before storage version 2 (a WAL segment, a Firehose delivery) has text ids
        if isinstance(row.get("visitor_id"), str):
            row["visitor_id"] = id_from_text(row["visitor_id"])
    ts = pa.array([row.pop("ts") for row in rows], pa.int64()).cast(STORED_SCHEMA.field("ts").type)
    table = pa.Table.from_pylist(rows, schema=STORED_SCHEMA.remove(0))
    return table.add_column(0, STORED_SCHEMA.field("ts"), ts).select(STORED_SCHEMA.names)


def rejects_table(dropped: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(dropped, schema=REJECT_SCHEMA)


def encode_record(record: dict) -> bytes:
    """One WAL line: compact ASCII JSON (``json.dumps`` escapes control and non-ASCII characters, so no newline
    is inside)."""
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def read_records(data: bytes, source_file: str) -> tuple[pa.Table, list[dict]]:
    """(the WAL records of a segment's bytes, its damaged lines as reject records). A torn last line (a write cut
    by a crash: never answered) is left out, and so is everything from the first zero byte on (space the WAL
    reserved and had not written yet). Records are numbered by their line in the segment."""
    unwritten = data.find(b"\0")
    if unwritten >= 0:
        data = data[:unwritten]
    data = data[: data.rfind(b"\n") + 1]
    if not data:
        return WAL_SCHEMA.append(pa.field("line_number", pa.int64())).empty_table(), []
    try:  # Arrow's JSON reader, in C++ without the GIL: the request loop keeps running meanwhile
        table = pa_json.read_json(io.BytesIO(data), read_options=pa_json.ReadOptions(use_threads=False),
                                  parse_options=pa_json.ParseOptions(explicit_schema=WAL_SCHEMA,
                                                                     unexpected_field_behavior="error"))
        if table.num_rows == data.count(b"\n"):
            numbers = pa.array(range(1, table.num_rows + 1), pa.int64())
            return table.select(WAL_SCHEMA.names).append_column("line_number", numbers), []
    except pa.ArrowInvalid:
        pass
    return read_records_slowly(data.split(b"\n")[:-1], source_file)


def read_records_slowly(lines: list[bytes], source_file: str) -> tuple[pa.Table, list[dict]]:
    """Line by line: a line that is not a record (a damaged disk block) is kept as a reject, never dropped."""
    records: list[dict | None] = []
    damaged: list[dict] = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or set(record) - set(WAL_SCHEMA.names):
                raise ValueError("not a record")
            records.append(pa.Table.from_pylist([record], schema=WAL_SCHEMA).to_pylist()[0])
        except (ValueError, TypeError, pa.ArrowException):
            records.append(None)
            damaged.append({"source_file": source_file, "line_number": number, "kind": "rejected",
                            "reason": "damaged write-ahead log line",
                            "line": mask_ips(line.decode("utf-8", "replace"), MAX_REJECT_LINE)})
    table = pa.Table.from_pylist([r or {} for r in records], schema=WAL_SCHEMA)
    keep = pa.array([r is not None for r in records])
    numbers = pa.array(range(1, len(records) + 1), pa.int64()).filter(keep)
    return table.filter(keep).append_column("line_number", numbers), damaged


class Enricher:
    """One enrichment context for the life of a collector: salts, geolocation database and the IP table."""

    def __init__(self, settings: Settings, salts_dir: Path | None = None, salts: SaltStore | None = None) -> None:
        """Salts from ``salts`` (e.g. an S3 backend in Lambda), else the folder ``salts_dir``."""
        self.settings = settings
        self.salts = salts or SaltStore.in_folder(Path(salts_dir) if salts_dir else Path(settings.warehouse) / "_salts",
                                                  retention_days=settings.salt_retention_days)
        self.geo = GeoLocator(settings.geoip_path)
        # step 2's pipeline (every cache, for the life of the collector) never reads a salt: the visitor ids come
        # from the records, and a segment of a day whose salt was deleted must not bring that salt back
        self.enrichment = Enrichment(_NoSalts(), self.geo)
        self._places: dict[str, tuple] = {}  # client IP -> (prefix, geo columns); memory only

    # -- step 1: per request, the full IP in memory ----------------------------------------------------------
    def record(self, row: dict) -> dict:
        """The WAL record of a RAW row (``raw_row``): the row without its client IP (and without the proxy's
        ``geo``), with the IP prefix, geolocation and visitor id computed from the full address."""
        ip = row["client_ip"]
        ts: dt.datetime = row["ts"]
        user_agent = row["user_agent"]
        site = normalise_site(row["host"])
        prefix, place = self._place(ip)
        geo = row.get("geo")
        if geo:  # a trusted proxy (CloudFront) gave the viewer's location: it replaces the database's answer
            place = tuple(geo.get(name) for name in GEO_COLUMNS)
        record = {
            "ts": (ts - _EPOCH) // _MS, "host": row["host"], "path": row["path"], "query": row["query"],
            "referrer": row["referrer"], "user_agent": user_agent, "event_name": row["event_name"],
            "protocol": row["protocol"], "props": row["props"], "ip_prefix": prefix,
            "visitor_id": visitor_id(self.salts.salt(ts.date().isoformat()), site, ip, user_agent),
        }
        record.update(zip(GEO_COLUMNS, place))
        return {k: v for k, v in record.items() if v is not None}

    def _place(self, ip: str | None) -> tuple:
        """(IP prefix, geo columns) of a client IP, remembered for the next events from it."""
        place = self._places.get(ip or "")
        if place is None:
            if len(self._places) >= MAX_PLACES:
                self._places.clear()
            place = self._places[ip or ""] = (ip_prefix_of(ip), self.geo.lookup(ip))
        return place

    # -- step 2: per segment, columnar ------------------------------------------------------------------------
    def finish(self, records: pa.Table, source_file: str) -> EnrichedBatch:
        """StoredEvents of WAL records (``WAL_SCHEMA`` plus ``line_number``): the log pipeline on them, with the
        IP-derived columns taken from the records; bots dropped as reject records."""
        n = records.num_rows
        columns = {**{name: records[name] for name in records.column_names},
                   "ts": pc.cast(records["ts"], RAW_SCHEMA.field("ts").type)}
        raw = pa.Table.from_arrays([columns[f.name] if f.name in columns else pa.nulls(n, f.type) for f in RAW_SCHEMA],
                                   schema=RAW_SCHEMA)  # client_ip: null (never in the WAL)
        stored = self.enrichment.enrich(raw, SOURCE, source_file)
        for name in IP_COLUMNS:
            stored = stored.set_column(stored.schema.get_field_index(name), STORED_SCHEMA.field(name), records[name])
        is_bot = pc.fill_null(stored["is_bot"], False)
        if not pc.any(is_bot).as_py():
            return EnrichedBatch(stored)
        bots = stored.filter(is_bot).select(["line_number", "event_name", "path", "user_agent", "bot_name"])
        dropped = [
            {"source_file": source_file, "line_number": row["line_number"], "kind": "skipped",
             "reason": f"bot: {row['bot_name'] or 'unnamed'}",
             "line": mask_ips(f"{row['event_name']} {row['path']} {row['user_agent'] or ''}", MAX_REJECT_LINE)}
            for row in bots.to_pylist()
        ]
        return EnrichedBatch(stored.filter(pc.invert(is_bot)), dropped)

    def enrich(self, rows: list[dict], source_file: str, first_line: int = 1) -> EnrichedBatch:
        """Both steps at once for RAW rows (``raw_row``), numbered from ``first_line`` within ``source_file``."""
        records = pa.Table.from_pylist([self.record(row) for row in rows], schema=WAL_SCHEMA)
        numbers = pa.array(range(first_line, first_line + len(rows)), pa.int64())
        return self.finish(records.append_column("line_number", numbers), source_file)

    def warm_up(self) -> None:
        """Build the lazily made tables (bot patterns, user-agent parser) now, not on the first request: enrich
        one made-up event and throw the result away (nothing is written; its salt is the day's own)."""
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        self.enrich([raw_row(ts=now, client_ip="192.0.2.1", site="example.com", path="/", query="utm_source=x",
                             referrer="https://www.google.com/", user_agent="Mozilla/5.0 (X11; Linux x86_64)",
                             name="pageview", props={}, protocol="https")], "warm-up")
        self._places.clear()

    def purge_salts(self) -> None:
        self.salts.purge()


class _NoSalts:
    """The salts of step 2's pipeline: a fixed key, as the visitor ids it computes are replaced by the records'
    (computed per request with the day's real salt)."""

    def salt(self, day: str) -> bytes:
        return bytes(32)


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
