"""A synthetic warehouse: StoredEvents generated directly as Parquet, vectorised (numpy + Arrow), day by day.

Cardinalities meant to look like a real site's: about 1% as many distinct visitors a day as events, thousands of
paths and user agents, hundreds of countries, cities, referrers and edge locations, a few sites, bots, 404 probes,
campaigns, CloudFront cache results and times. Visitor ids are drawn per day (they change every UTC day, as the
real ones do). Memory is bounded by one day's events; the same seed gives the same files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..schema import STORED_SCHEMA
from ..warehouse.rollups import Store
from ..warehouse.storage import mark_current

SITES = ["example.com", "shop.example.com", "blog.example.org"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Mobile Safari", "Chrome Mobile", "Samsung Internet", "Opera"]
OSES = ["Windows", "Mac OS X", "Linux", "iOS", "Android", "Chrome OS"]
DEVICES = ["desktop", "mobile", "tablet", "other"]
CHANNELS = ["search", "social", "email", "ai", "other"]
BOTS = ["Googlebot", "bingbot", "AhrefsBot", "curl", "python-requests", "UptimeRobot", "GPTBot", "empty"]
RESULTS = ["Hit", "Miss", "RefreshHit", "Error"]


@dataclass(frozen=True)
class Shape:
    """How big: days, events per day, and the cardinalities that scale with it."""

    days: int = 90
    events_per_day: int = 1_111_112
    paths: int = 5000
    agents: int = 3000
    countries: int = 200
    cities: int = 2000
    referrers: int = 400
    edges: int = 120
    files_per_day: int = 2

    @property
    def visitors_per_day(self) -> int:
        return max(10, self.events_per_day // 100)


def _pool(prefix: str, n: int) -> pa.Array:
    return pa.array([f"{prefix}{i}" for i in range(n)], pa.string())


def _take(pool: pa.Array, idx: np.ndarray, keep: np.ndarray | None = None) -> pa.Array:
    """``pool[idx]`` as a dictionary array (no string copies; Parquet stores it dictionary-encoded, readers see
    strings), null where ``keep`` is False."""
    indices = pa.array(idx.astype(np.int32), mask=None if keep is None else ~keep)
    return pa.DictionaryArray.from_arrays(indices, pool)


def _zipf(rng: np.random.Generator, n: int, size: int, a: float = 1.2) -> np.ndarray:
    """Indices 0..n-1, the first ones most frequent (a power law: larger ``a``, more skewed)."""
    return np.minimum((n * rng.random(size) ** (1 + 2 * (a - 1) * 10)).astype(np.int64), n - 1)


class Generator:
    """The fixed pools (paths, agents, places, referrers) and a per-day event generator."""

    def __init__(self, shape: Shape, seed: int = 1) -> None:
        self.shape = shape
        rng = np.random.default_rng(seed)
        s = shape
        self.seed = seed
        pages = ["/"] + [f"/section-{i % 40}/page-{i}" + ("/" if i % 3 else "") for i in range(1, s.paths)]
        assets = [f"/static/asset-{i}.{('js', 'css', 'png', 'woff2')[i % 4]}" for i in range(500)]
        self.pools = {name: pa.array(values, pa.string()) for name, values in {
            "site": SITES, "source": ["cloudfront", "collector"], "method": ["GET", "POST"], "protocol": ["https"],
            "path": pages + assets, "agent": [f"Mozilla/5.0 (synthetic {i}) Browser/{i % 97}.0" for i in range(s.agents)],
            "referrer": [f"https://ref{i}.example/p{i % 3}" for i in range(s.referrers)],
            "referrer_host": [f"ref{i}.example" for i in range(s.referrers)],
            "referrer_source": [f"Source {i}" for i in range(s.referrers)],
            "channel": CHANNELS + ["direct"], "result": RESULTS, "bot": BOTS,
            "edge_location": [f"POP{i}-C1" for i in range(s.edges)], "edge_city": [f"Edge {i}" for i in range(s.edges)],
            "prefix": [f"198.51.{i}.0" for i in range(250)],
            "browser": BROWSERS, "os": OSES, "device": DEVICES + ["bot"],
            "country_code": [f"C{i}" for i in range(s.countries)], "country": [f"Country {i}" for i in range(s.countries)],
            "city": [f"City {i}" for i in range(s.cities)],
            "utm_source": [f"src{i}" for i in range(7)], "utm_medium": [f"med{i}" for i in range(3)],
            "utm_campaign": [f"camp{i}" for i in range(50)],
            "event": ["pageview", "signup", "download", "play"],
            "props": ['{"plan":"pro"}', '{"plan":"free","seats":3}', '{"file":"a.pdf"}', '{}', '{"x":null}',
                      '{"plan":"pro","seats":10}'],
        }.items()}
        self.agent_browser = rng.integers(0, len(BROWSERS), s.agents)
        self.agent_os = rng.integers(0, len(OSES), s.agents)
        self.agent_device = rng.integers(0, len(DEVICES), s.agents)
        self.city_country = rng.integers(0, s.countries, s.cities)
        self.city_lat = np.round(rng.uniform(-60, 70, s.cities), 4)
        self.city_lon = np.round(rng.uniform(-180, 180, s.cities), 4)
        self.ref_channel = rng.integers(0, len(CHANNELS), s.referrers)
        self.edge_lat = np.round(rng.uniform(-60, 70, s.edges), 4)
        self.edge_lon = np.round(rng.uniform(-180, 180, s.edges), 4)

    def day(self, day: dt.date, part: int = 0, parts: int = 1) -> pa.Table:
        """One day's share (``part`` of ``parts``) of the events, as StoredEvents sorted by time."""
        s = self.shape
        n = s.events_per_day // parts + (1 if part < s.events_per_day % parts else 0)
        ordinal = day.toordinal()
        # the day's visitors: ids (new every day), site, place, agent, bot or not, a busy time of day
        vrng = np.random.default_rng([self.seed, ordinal])
        v = s.visitors_per_day
        ids = pa.array(vrng.integers(0, 2**63, v, dtype=np.int64))
        v_site = vrng.choice(len(SITES), v, p=[0.6, 0.3, 0.1])
        v_city = _zipf(vrng, s.cities, v, 1.1)
        v_located = vrng.random(v) < 0.9
        v_agent = _zipf(vrng, s.agents, v, 1.05)
        v_bot = vrng.random(v) < 0.05
        v_botname = vrng.integers(0, len(BOTS), v)
        v_centre = vrng.uniform(0, 86_400_000, v)
        v_edge = vrng.integers(0, s.edges, v)
        # the events of this part
        rng = np.random.default_rng([self.seed, ordinal, part])
        who = _zipf(rng, v, n, 1.01)
        spread = rng.choice([5 * 60_000, 40 * 60_000, 4 * 3_600_000], n, p=[0.6, 0.3, 0.1])
        ms = np.clip(v_centre[who] + rng.normal(0, 1, n) * spread, 0, 86_399_999).astype(np.int64)
        order = np.argsort(ms, kind="stable")
        who, ms = who[order], ms[order]
        bot = v_bot[who]
        page = (~bot) & (rng.random(n) < 0.45)
        status = rng.choice(np.array([200, 304, 404, 301, 500, 0], np.int16), n,
                            p=[0.86, 0.05, 0.04, 0.03, 0.01, 0.01])
        status[page] = np.where(rng.random(int(page.sum())) < 0.95, 200, 304)
        is_pv = page & np.isin(status, [200, 304])
        path_idx = _zipf(rng, s.paths, n)
        asset = ~page & (rng.random(n) < 0.8)
        path_idx = np.where(asset, s.paths + path_idx % 500, path_idx)
        has_ref = is_pv & (rng.random(n) < 0.4)
        ref_idx = _zipf(rng, s.referrers, n, 1.1)
        channel = np.where(has_ref, self.ref_channel[ref_idx], len(CHANNELS))  # the last one is 'direct'
        utm = is_pv & (rng.random(n) < 0.05)
        campaign = rng.integers(0, 50, n)
        city = v_city[who]
        located = v_located[who]
        agent = v_agent[who]
        edge = v_edge[who]
        country_idx = self.city_country[city]
        timed = rng.random(n) < 0.98
        taken = np.where(timed, np.minimum(np.round(rng.lognormal(3.0, 1.0, n)), 30_000), np.nan)
        collector = rng.random(n) >= 0.9
        custom = collector & ~is_pv & ~bot & (rng.random(n) < 0.3)
        event_idx = np.where(is_pv, 0, 1 + rng.integers(0, 3, n))  # pageview, or one of the custom events
        props_idx = rng.integers(0, 6, n)
        base = np.datetime64(day.isoformat(), "ms")
        none = pa.nulls(n, pa.string())
        p = self.pools
        cols = {
            "ts": pa.array(base + ms.astype("timedelta64[ms]"), pa.timestamp("ms")),
            "site": _take(p["site"], v_site[who]),
            "source": _take(p["source"], collector.astype(np.int64)),
            "source_file": _take(pa.array([f"synthetic-{day.isoformat()}-{part}.log"]), np.zeros(n, np.int64)),
            "line_number": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "method": _take(p["method"], (rng.random(n) >= 0.97).astype(np.int64)),
            "path": _take(p["path"], path_idx),
            "query": none,
            "status": pa.array(status, pa.int16()),
            "bytes_sent": pa.array(rng.integers(200, 200_000, n, dtype=np.int64)),
            "referrer": _take(p["referrer"], ref_idx, has_ref),
            "user_agent": _take(p["agent"], agent),
            "content_type": none,
            "protocol": _take(p["protocol"], np.zeros(n, np.int64)),
            "operation": none,
            "edge_location": _take(p["edge_location"], edge),
            "edge_result_type": _take(p["result"], rng.choice(4, n, p=[0.7, 0.25, 0.04, 0.01])),
            "time_taken_ms": pa.array(taken, pa.float64(), from_pandas=True),
            "event_name": _take(p["event"], event_idx, collector & (is_pv | custom)),
            "props": _take(p["props"], props_idx, custom),
            "is_bot": pa.array(bot),
            "bot_name": _take(p["bot"], v_botname[who], bot),
            "is_pageview": pa.array(is_pv),
            "visitor_id": _take(ids, who),
            "ip_prefix": _take(p["prefix"], city % 250),
            "browser": _take(p["browser"], self.agent_browser[agent]),
            "browser_version": none,
            "os": _take(p["os"], self.agent_os[agent]),
            "os_version": none,
            "device": _take(p["device"], np.where(bot, len(DEVICES), self.agent_device[agent])),
            "country_code": _take(p["country_code"], country_idx, located),
            "country": _take(p["country"], country_idx, located),
            "region": none,
            "city": _take(p["city"], city, located),
            "latitude": pa.array(np.where(located, self.city_lat[city], np.nan), pa.float64(), from_pandas=True),
            "longitude": pa.array(np.where(located, self.city_lon[city], np.nan), pa.float64(), from_pandas=True),
            "edge_city": _take(p["edge_city"], edge),
            "edge_latitude": pa.array(self.edge_lat[edge]),
            "edge_longitude": pa.array(self.edge_lon[edge]),
            "referrer_host": _take(p["referrer_host"], ref_idx, has_ref),
            "referrer_source": _take(p["referrer_source"], ref_idx, has_ref & (ref_idx < 100)),
            "referrer_channel": _take(p["channel"], channel, is_pv),
            "utm_source": _take(p["utm_source"], campaign % 7, utm),
            "utm_medium": _take(p["utm_medium"], campaign % 3, utm),
            "utm_campaign": _take(p["utm_campaign"], campaign, utm),
            "utm_term": none,
            "utm_content": none,
            "click_id": none,
        }
        columns = [c if pa.types.is_dictionary(c.type) else c.cast(f.type)
                   for f, c in ((f, cols[f.name]) for f in STORED_SCHEMA)]
        return pa.table(columns, names=STORED_SCHEMA.names)

    def write(self, warehouse: Path, end: dt.date, *, progress: bool = False) -> int:
        """Write every day (``files_per_day`` Parquet files each) under ``warehouse/events``; return the rows."""
        from ..progress import bar

        rows = 0
        first = end - dt.timedelta(days=self.shape.days - 1)
        for i in bar(range(self.shape.days), desc="synthetic", unit="day", show=progress):
            day = first + dt.timedelta(days=i)
            folder = warehouse / "events" / f"dt={day.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            for part in range(self.shape.files_per_day):
                table = self.day(day, part, self.shape.files_per_day)
                pq.write_table(table, folder / f"synthetic-{part}.parquet", compression="zstd",
                               write_statistics=["ts", "status", "is_bot", "is_pageview"])
                rows += table.num_rows
        mark_current(Store.for_warehouse(str(warehouse)))  # written with the current storage version's schema
        return rows
