"""The enrichment pipeline: RAW_SCHEMA table in, StoredEvent table out.

Steps are small named functions over Arrow columns. Anything computed from a string (user agents, IPs,
referrers, hosts) is computed once per distinct value. The raw client IP is used here, for geolocation, the
visitor id and the prefix, and dropped: it is not a StoredEvent column.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Executor
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import encode, flat, map_distinct
from ..privacy import prefixes_of
from ..schema import STORED_SCHEMA
from ..sites import normalise_site
from ._distinct import DistinctCache
from .agents import UserAgents
from .bots import Bots
from .campaigns import Campaigns
from .geo import GeoLocator
from .referrers import Referrers
from .visitors import DailySalts, VisitorIds

PAGE_OPERATIONS = ("WEBSITE.GET.OBJECT", "REST.GET.OBJECT")
_PAGE_PATH = r"(?i)(/|\.html?|/[^/.]*)$"


class Enrichment:
    """The enrichment state of one run (an ingest, a collector process): every per-value cache lives here.

    User agents, bot names, client IPs (geolocation from the full address + prefix), referrers and campaign
    parameters are each computed once per distinct value across the run's files and batches; visitor ids once per
    distinct (day, site, ip, ua) of a batch. A fresh ``Enrichment`` starts cold: nothing is shared with another
    (only read-only reference data such as compiled bot lists is loaded once per process).
    """

    def __init__(self, salts: DailySalts, geo: GeoLocator, detector_helper: Executor | None = None) -> None:
        self.geo = geo
        self.agents = UserAgents(detector_helper=detector_helper)  # helper: see devices.Detections
        self.bots = Bots(self.agents)
        self.agents.bot_named = self.bots.named  # a named bot's device is "bot": its class is never computed
        self.referrers = Referrers()
        self.campaigns = Campaigns()
        self.visitors = VisitorIds(salts)
        # one row per distinct client IP: its geolocation (from the full address) and its prefix
        self.ips = DistinctCache(
            None,
            pa.schema([*geo.schema, pa.field("ip_prefix", pa.string())]),
            max_size=1_000_000,
            many=lambda addresses: [*geo.many_columns(addresses), *prefixes_of(addresses)],
        )

    def settle(self) -> None:
        """Wait for the helper processes' pending answers (before forking: the children inherit them)."""
        self.agents.detections.settle()

    def forked(self) -> None:
        """In a process forked from the one that made this object: stop using the parent's helper processes."""
        self.agents.detections.forked()

    def enrich(
        self, raw: pa.Table, source: str, source_file: str, site: str | None = None, timer: StepTimer | None = None
    ) -> pa.Table:
        """StoredEvent rows for RAW rows of ``source_file`` in format ``source``. ``site`` (``--site``) overrides
        whatever host the log records; ``timer`` (the bench) has a ``step(name)`` context manager per step."""
        step = timer.step if timer is not None else _untimed
        n = raw.num_rows
        cols: dict[str, pa.Array] = {}
        with step("copy + site"):
            for name in raw.column_names:
                if name in STORED_SCHEMA.names:
                    cols[name] = flat(raw[name])
            cols["source"] = pa.repeat(pa.scalar(source, pa.string()), n)
            cols["source_file"] = pa.repeat(pa.scalar(source_file, pa.string()), n)
            cols["site"] = site_column(raw, site)
            user_agents, client_ips = encode(raw["user_agent"]), encode(raw["client_ip"])  # used by several steps
        with step("bots"):
            self.agents.prefetch(user_agents)  # new agents' device detection runs beside the next steps, if it can
            cols.update(self.bots.columns(user_agents))
        with step("pageviews"):
            cols["is_pageview"] = pageview_column(raw, cols["is_bot"])
        with step("days"):
            days = pc.cast(raw["ts"], pa.date32())
        with step("ip addresses"):  # geolocation from the full address, and its prefix
            cols.update(self.ips.columns(client_ips))
        with step("visitor ids"):
            cols["visitor_id"] = self.visitors.ids(days, cols["site"], client_ips, user_agents)
        with step("geo (edge)"):
            cols.update(self.geo.edge_columns(raw["edge_location"]))
        with step("referrers"):
            cols.update(self.referrers.columns(raw["referrer"], cols["site"]))
        with step("campaigns"):
            cols.update(self.campaigns.columns(raw["query"]))
        with step("user agents"):  # last: the device detector's helper has had the longest
            cols.update(self.agents.columns(user_agents))
            cols["device"] = pc.if_else(pc.fill_null(cols["is_bot"], False), "bot", cols["device"])
        with step("assemble"):
            arrays = [cols[f.name].cast(f.type) if f.name in cols else pa.nulls(n, f.type) for f in STORED_SCHEMA]
            return pa.Table.from_arrays(arrays, schema=STORED_SCHEMA)


class StepTimer(Protocol):
    """Times each named step of ``Enrichment.enrich`` (the bench's ``Timer``)."""

    def step(self, name: str) -> contextlib.AbstractContextManager: ...


def site_column(raw: pa.Table, site: str | None = None) -> pa.Array:
    """The normalised site of each row: ``site`` (``--site``) when given, else the host the log records."""
    if site:
        return pa.repeat(pa.scalar(normalise_site(site), pa.string()), raw.num_rows)
    return map_distinct(raw["host"], normalise_site, pa.string())


def pageview_column(raw: pa.Table, is_bot: pa.Array) -> pa.Array:
    """The contract's pageview: not a bot, GET, 200/304, and a page (content type or path)."""
    human = pc.invert(pc.fill_null(is_bot, False))
    paths = encode(raw["path"])  # few distinct paths: match each once
    page_paths = pc.fill_null(pc.match_substring_regex(paths.dictionary, _PAGE_PATH), False)
    path_is_page = pc.fill_null(pc.take(page_paths, paths.indices), False)
    types = encode(raw["content_type"])  # a handful of content types: test each once
    html = pc.take(pc.starts_with(pc.utf8_lower(types.dictionary), "text/html"), types.indices)
    is_page = pc.if_else(pc.is_null(raw["content_type"]), path_is_page, pc.fill_null(html, False))
    operation_ok = pc.or_(pc.is_null(raw["operation"]), pc.is_in(raw["operation"], pa.array(PAGE_OPERATIONS)))
    from_log = pc.and_(
        pc.and_(pc.equal(pc.fill_null(raw["method"], ""), "GET"), pc.is_in(raw["status"], pa.array([200, 304], pa.int16()))),
        pc.and_(is_page, operation_ok),
    )
    from_log = pc.fill_null(from_log, False)
    beacon = pc.equal(raw["event_name"], "pageview")
    kind = pc.if_else(pc.is_null(raw["event_name"]), from_log, pc.fill_null(beacon, False))
    return pc.and_(human, kind)


def utc_days(ts: pa.Array) -> pa.Array:
    """'YYYY-MM-DD' of each (naive UTC) timestamp; a cast through date32, far cheaper than strftime."""
    return pc.cast(pc.cast(ts, pa.date32()), pa.string())


def split_by_day(table: pa.Table) -> list[tuple[str, pa.Table]]:
    """(UTC day 'YYYY-MM-DD', its rows) for the days of a StoredEvent table (``ts`` never null), in order of first
    appearance: the table itself, not a copy, when every row has one day (most hourly log files; the copy cost
    0.7 microseconds a line)."""
    dates = pc.cast(table["ts"], pa.date32())
    distinct = pc.unique(dates)
    if len(distinct) == 1:
        return [(distinct[0].as_py().isoformat(), table)]
    return [(day.as_py().isoformat(), table.filter(pc.equal(dates, day))) for day in distinct]


def _untimed(name: str) -> contextlib.AbstractContextManager:
    return contextlib.nullcontext()
