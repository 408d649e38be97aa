"""The dashboard bench: every query a report runs, over a large synthetic warehouse, from rollups and from events.

Generates StoredEvents straight into Parquet (``synthetic.py``: 100 million events over 90 days at the default
scale), builds the daily rollups, then times the dashboard (every query the report notebooks run, on one DuckDB
session as a report run uses it) for the whole period and for its last 30 days, from rollups and from the raw
events. For Athena it estimates the bytes each query would scan: the compressed Parquet column chunks of the
files and columns it reads (rollup files of the period's days; for the raw path, the event columns the rollup
SQL reads). The month's gzip log bytes are estimated from the bytes per line of gzip CloudFront logs made by the
ingest bench's generator. A warehouse of the same shape and seed from an earlier run is reused with its
rollups (only stale days and months are rebuilt); ``--rebuild-rollups`` builds them from scratch, timed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from ..engines import sql
from ..warehouse import rollups
from .synthetic import Generator, Shape

SCALES = {
    "small": Shape(days=90, events_per_day=20_000, paths=2000, agents=1000, countries=150, cities=800, referrers=200,
                   edges=60),
    "default": Shape(),
    "large": Shape(),
}
END = dt.date(2026, 11, 30)
SEED = 13
MONTH_DAYS = 30
TARGET_SECONDS = 2.0


def dashboard_queries() -> list[tuple[str, str]]:
    """(query, period) for every query the report notebooks run over events ('previous' for the comparison)."""
    import re

    from ..resources import notebooks_dir

    found: list[tuple[str, str]] = [("data_range", "all")]
    for nb in sorted(notebooks_dir().glob("*.ipynb")):
        for name, rest in re.findall(r'query\(\\"([a-z_]+)\\"([^)]*)\)', nb.read_text()):
            if name not in sql.available() or "duckdb only" in sql.load(name).description.lower():
                continue
            found.append((name, "previous" if "previous" in rest else "current"))
    return list(dict.fromkeys(found))


def warehouse_for(scale: str, shape: Shape, root: Path, progress: bool) -> tuple[Path, float]:
    """The synthetic warehouse (reused when one of the same shape and seed is there); generation seconds."""
    wh = root / f"dashboard-{scale}"
    marker = wh / "SHAPE.json"
    want = json.dumps({"shape": shape.__dict__, "seed": SEED, "end": END.isoformat(), "version": 2}, sort_keys=True)
    if marker.exists() and marker.read_text() == want:
        return wh, 0.0
    shutil.rmtree(wh, ignore_errors=True)
    started = time.perf_counter()
    Generator(shape, seed=SEED).write(wh, END, progress=progress)
    marker.write_text(want)
    return wh, time.perf_counter() - started


def gzip_bytes_per_line(lines: int = 100_000) -> tuple[float, str]:
    """Bytes per line of a gzip CloudFront log from the ingest bench's generator."""
    from .ingest import generate  # the ingest bench's deterministic CloudFront generator (hourly gzip files)

    with tempfile.TemporaryDirectory() as tmp:
        files = generate(Path(tmp), lines, hours=1)
        data = b"".join(f.read_bytes() for f in files)
        if data[:2] != b"\x1f\x8b":
            data = gzip.compress(data, 6)
        return len(data) / lines, f"{lines:,} generated CloudFront lines, gzip"


def _period(name: str, kind: str, first: str, last: str) -> tuple[str, str]:
    if kind == "all":
        return "1970-01-01", "9999-12-31"
    if kind == "previous":
        a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        days = (b - a).days + 1
        return (a - dt.timedelta(days=days)).isoformat(), (a - dt.timedelta(days=1)).isoformat()
    return first, last


def time_dashboard(wh: Path, first: str, last: str, *, use_rollups: bool, repeat: int) -> dict:
    """Seconds for the whole dashboard on one session: the first run (a new session) and the best of ``repeat``;
    per query, the best."""
    from ..engines.duckdb import Session

    queries = dashboard_queries()
    totals: list[float] = []
    per_query: dict[str, float] = {}
    for _ in range(repeat):
        started = time.perf_counter()
        with Session(wh, rollups=use_rollups) as session:
            for name, kind in queries:
                start, end = _period(name, kind, first, last)
                t = time.perf_counter()
                session.run(sql.load(name), sql.parameters(dt.date.fromisoformat(start), dt.date.fromisoformat(end),
                                                           None))
                key = f"{name} ({kind})" if kind == "previous" else name
                per_query[key] = min(per_query.get(key, float("inf")), time.perf_counter() - t)
        totals.append(time.perf_counter() - started)
    return {"first": totals[0], "best": min(totals), "per_query": per_query}


def rollup_scans(text: str) -> list[set[str] | None]:
    """How many times Athena reads a query's rollup, and which columns each read takes (None: all of them).
    A query reading ``rollup_NAME`` once reads it once; one whose common table expression over the rollup is
    referenced several times (Trino inlines each reference) reads it once per reference, each time only the
    columns that reference uses and the ones the expression filters on."""
    from sqlglot import exp

    tree = sql._parse(text)
    over_rollup = {cte.alias_or_name: cte.this for cte in tree.find_all(exp.CTE)
                   if any(t.name.startswith(sql.ROLLUP_PREFIX) for t in cte.this.find_all(exp.Table))}
    if len(over_rollup) != 1:
        return [None]
    (name, body), = over_rollup.items()
    where = body.args.get("where")
    filtered = {c.name for c in where.find_all(exp.Column)} if where is not None else set()
    scans: list[set[str] | None] = []
    for table in tree.find_all(exp.Table):
        if table.name != name or table.args.get("db"):
            continue
        select = table.find_ancestor(exp.Select)
        alias = table.alias_or_name
        used = {c.name for c in select.find_all(exp.Column) if c.table in ("", alias)} if select else set()
        scans.append(used | filtered)
    return scans or [None]


def _column_bytes(path: str, columns: set[str] | None) -> int:
    meta = pq.ParquetFile(path).metadata
    total = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            if columns is None or chunk.path_in_schema.split(".")[0] in columns:
                total += chunk.total_compressed_size
    return total


def athena_bytes(wh: Path, first: str, last: str) -> dict[str, tuple[int, int]]:
    """Per dashboard query, (bytes from rollups, bytes from raw events) Athena would scan for first..last: the
    rollup files the query's plan reads (month rows of the months it reads whole, day rows of the other days),
    once per read (``rollup_scans``)."""
    from sqlglot import exp

    from ..schema import STORED_SCHEMA

    store = rollups.Store.for_warehouse(str(wh))
    state = rollups.RollupState.load(store)
    event_days = state.event_days
    stored = set(STORED_SCHEMA.names)
    cache: dict[tuple[str, str], int] = {}

    def rollup_bytes(name: str, start: str, end: str, months: bool, columns: set[str] | None) -> int:
        whole, built, computed = state.split(name, start, end, months=months)
        if computed:
            raise RuntimeError(f"rollup {name}: days without valid rollups: {computed[:3]}")
        return (sum(_column_bytes(store.month_part_path(name, m), columns) for m in whole)
                + sum(_column_bytes(store.part_path(name, d), columns) for d in built))

    def raw_bytes(name: str, start: str, end: str) -> int:
        columns = {c.name for c in sql.load_rollup(name).tree().find_all(exp.Column)} & stored
        return sum(cache.setdefault(("events:" + name, d), sum(
            _column_bytes(store.path("events", f"dt={d}", f), columns) for f, _ in event_days[d]))
            for d in event_days if start <= d <= end)

    out: dict[str, tuple[int, int]] = {}
    for name, kind in dashboard_queries():
        start, end = _period(name, kind, first, last)
        text = sql.load(name).text
        used = sql._rollups_read(text)
        key = f"{name} ({kind})" if kind == "previous" else name
        out[key] = (sum(rollup_bytes(r, start, end, sql.month_safe(text), columns)
                        for r in used for columns in rollup_scans(text)),
                    sum(raw_bytes(r, start, end) for r in used))
    return out


def _mb(n: float) -> str:
    return f"{n / 1e6:,.2f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} kB"


def run(options) -> str:
    scale = getattr(options, "scale", "default")
    shape = SCALES.get(scale, SCALES["default"])
    progress = sys.stderr.isatty()
    root = Path(getattr(options, "work", None) or "outputs/bench")
    wh, gen_s = warehouse_for(scale, shape, root, progress)
    events = shape.days * shape.events_per_day
    fresh = getattr(options, "rebuild_rollups", False) or gen_s > 0
    if fresh:  # time a build from scratch
        shutil.rmtree(wh / "rollups", ignore_errors=True)
    started = time.perf_counter()
    built = rollups.rebuild(str(wh), progress=progress) if fresh else rollups.refresh(str(wh), progress=progress)
    build_s = time.perf_counter() - started
    days = sorted(rollups.Store.for_warehouse(str(wh)).event_days())
    whole = (days[0], days[-1])
    month = (days[-MONTH_DAYS], days[-1])
    figures = {}
    for label, (first, last) in (("whole", whole), ("month", month)):
        figures[(label, "rollups")] = time_dashboard(wh, first, last, use_rollups=True, repeat=3)
        figures[(label, "raw")] = time_dashboard(wh, first, last, use_rollups=False, repeat=1)
    scanned = athena_bytes(wh, *month)
    month_events = shape.events_per_day * MONTH_DAYS
    per_line, per_line_source = gzip_bytes_per_line()
    month_gzip = month_events * per_line
    roll_total = sum(r for r, _ in scanned.values())
    raw_total = sum(w for _, w in scanned.values())
    event_bytes = sum(p.stat().st_size for p in (wh / "events").rglob("*.parquet"))
    rollup_bytes = sum(p.stat().st_size for p in (wh / "rollups").rglob("*.parquet"))
    n_queries = len(dashboard_queries())
    ok = figures[("whole", "rollups")]["best"] < TARGET_SECONDS
    lines = [
        "## dashboard",
        "",
        f"{events:,} synthetic StoredEvents over {shape.days} days ({shape.files_per_day} Parquet files a day, "
        f"{_mb(event_bytes)}; ~{shape.visitors_per_day:,} visitors a day, {shape.paths:,} paths, {shape.agents:,} "
        f"user agents, {shape.countries} countries, {shape.cities:,} cities, {shape.referrers} referrers, 3 sites)"
        + (f", generated in {gen_s:.0f} s" if gen_s else " (reused)") + ".",
        (f"Rollups: {len(sql.rollup_names())} tables, built for {len(built.days)} days in {build_s:.0f} s "
         f"({build_s / max(1, len(built.days)):.1f} s a day, {len(built.months)} months included), "
         f"{sum(built.rows.values()):,} day rows, {_mb(rollup_bytes)} with the month level." if fresh else
         f"Rollups: {len(sql.rollup_names())} tables, reused from an earlier run ({len(built.days)} stale days and "
         f"{len(built.months)} months rebuilt in {build_s:.0f} s; `--rebuild-rollups` times a build from scratch), "
         f"{_mb(rollup_bytes)} with the month level."),
        f"The dashboard is the {n_queries} queries the report notebooks run over events (incl. the previous period "
        "of `daily` and `data_range`), on one DuckDB session; rollups: first run on a new session and best of 3; "
        "raw: the same queries with every day computed from the events, one run.",
        "",
        "| period | from rollups (first / best) | from raw events | target |",
        "|---|---|---|---|",
    ]
    for label, (first, last) in (("whole", whole), ("month", month)):
        r, w = figures[(label, "rollups")], figures[(label, "raw")]
        lines.append(f"| {first} to {last} ({'90 days' if label == 'whole' else '30 days'}) | {r['first']:.2f} s / "
                     f"{r['best']:.2f} s | {w['first']:.1f} s | {'< 2 s' if label == 'whole' else ''} |")
    lines += [
        "",
        f"Whole-period dashboard from rollups: **{figures[('whole', 'rollups')]['best']:.2f} s** "
        f"({'meets' if ok else 'misses'} the 2 s target).",
        "",
        f"Athena, one month ({month[0]} to {month[1]}, {month_events:,} events): the dashboard would scan "
        f"**{_mb(roll_total)}** from rollups ({_mb(raw_total)} from raw events). The month's logs as gzip CloudFront "
        f"would be {_mb(month_gzip)} ({per_line:.1f} bytes a line: {per_line_source}); the rollup dashboard scans "
        f"**{100 * roll_total / month_gzip:.3f}%** of it (target <= 1%), raw events {100 * raw_total / month_gzip:.1f}%. "
        f"(Athena bills at least 10 MB per query: {n_queries} queries bill at least {_mb(n_queries * 10e6)}.)",
        "",
        "| query | rollups, 90 days | raw, 90 days | rollups, month | Athena bytes, month: rollups | raw |",
        "|---|---|---|---|---|---|",
    ]
    for key in figures[("whole", "rollups")]["per_query"]:
        lines.append(f"| {key} | {figures[('whole', 'rollups')]['per_query'][key] * 1000:.0f} ms | "
                     f"{figures[('whole', 'raw')]['per_query'][key]:.2f} s | "
                     f"{figures[('month', 'rollups')]['per_query'][key] * 1000:.0f} ms | "
                     f"{_mb(scanned[key][0])} | {_mb(scanned[key][1])} |")
    return "\n".join(lines) + "\n"
