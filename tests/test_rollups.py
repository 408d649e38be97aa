"""Numbers stay exact: every report query gives the same rows from the daily rollups as from the raw events.

Three computations of each query are compared row for row: (1) the report query reading stored rollups,
(2) the same query with every day computed from the events (no rollups), and (3) a plain reference query in
tests/plain_queries/ written directly over the events, independently of the rollup definitions. They run on the
demo sample, the report test log (hostile strings), a real Apache log corpus, a log without user agents and a
generated multi-site corpus, for the whole period, a part of it and one site; then again after a late file,
with rollups left stale, and after a re-run (which must write the same bytes). A corpus spanning two months
checks the month level: periods reading whole months, partial months (days) and both.
"""

from __future__ import annotations

import datetime as dt
import gzip
import math
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
import report_data
from conftest import REPO, run_cli

from stats_lib.benchmarks.synthetic import Generator, Shape
from stats_lib.config import Settings
from stats_lib.engines import duckdb as duck
from stats_lib.engines import sql
from stats_lib.ingest import ingest
from stats_lib.samples import generate
from stats_lib.warehouse import rollups

PLAIN = Path(__file__).parent / "plain_queries"
REPORT_QUERIES = sorted(p.stem for p in PLAIN.glob("*.sql"))


def _notebook_queries() -> set[str]:
    import re

    names: set[str] = set()
    for nb in (REPO / "notebooks").glob("*.ipynb"):
        names.update(re.findall(r'query\(\\"([a-z_]+)\\"', nb.read_text()))
    return names


def test_every_report_query_over_events_is_checked_and_reads_rollups():
    over_events = {n for n in _notebook_queries()
                   if n in sql.available() and "duckdb only" not in sql.load(n).description.lower()}
    over_events |= {"data_range", "sites"}
    assert over_events <= set(REPORT_QUERIES)
    for name in REPORT_QUERIES:
        text = sql.load(name).text
        assert "FROM rollup_" in text and "FROM events" not in text, name


def _rows(table: pa.Table) -> tuple[list[str], list[tuple]]:
    def norm(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        if hasattr(v, "as_py"):
            v = v.as_py()
        return v

    return table.column_names, [tuple(norm(v) for v in row.values()) for row in table.to_pylist()]


def _plain(con, name: str, params: dict) -> pa.Table:
    return duck.execute(con, sql.Query(name, (PLAIN / f"{name}.sql").read_text()), params)


def assert_exact(warehouse: Path, *, periods: list[tuple[str | None, str | None, str | None]] | None = None,
                 expect_rollups: bool = True) -> int:
    """Every report query, three ways, row for row; returns the number of rows compared."""
    settings = Settings.from_env(warehouse=str(warehouse), progress=False)
    state = rollups.RollupState.load(rollups.Store.for_warehouse(str(warehouse)))
    if expect_rollups:
        assert state.event_days and not state.stale_days(), "rollups should be complete here"
        assert not state.stale_months(), "the month level should be complete here"
    compared = 0
    with duck.Session(warehouse, settings) as fast, duck.Session(warehouse, settings, rollups=False) as slow:
        for start, end, site in periods or [(None, None, None)]:
            params = sql.parameters(start and dt.date.fromisoformat(start), end and dt.date.fromisoformat(end), site)
            for name in REPORT_QUERIES:
                q = sql.load(name)
                want = _rows(_plain(slow.con, name, params))
                assert _rows(slow.run(q, params)) == want, (name, start, end, site, "computed from events")
                assert _rows(fast.run(q, params)) == want, (name, start, end, site, "from rollups")
                compared += len(want[1])
    return compared


def _periods(warehouse: Path, site: str) -> list[tuple[str | None, str | None, str | None]]:
    days = sorted(rollups.Store.for_warehouse(str(warehouse)).event_days())
    mid = days[len(days) // 2]
    return [(None, None, None), (days[1], days[-2], None), (mid, mid, None), (None, None, site)]


@pytest.fixture(scope="module")
def demo_house(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate(root / "logs", days=5, end=dt.date(2026, 11, 20), seed=11, visitors_per_day=80)
    (root / "logs" / "expected-daily.json").unlink()
    ingest([str(root / "logs")], settings=Settings.from_env(warehouse=str(root / "wh"), progress=False), progress=False)
    return root / "wh"


def test_demo_data_is_exact_from_rollups_written_by_ingest(demo_house):
    assert assert_exact(demo_house, periods=_periods(demo_house, "example.com")) > 100


def test_report_log_with_hostile_strings_is_exact(tmp_path):
    log = report_data.write_log(tmp_path / "logs")
    wh = tmp_path / "wh"
    ingest([str(log)], settings=Settings.from_env(warehouse=str(wh), progress=False), progress=False)
    assert assert_exact(wh, periods=[(None, None, None), (None, None, report_data.SITE)]) > 50


def test_real_apache_log_corpus_is_exact(tmp_path, corpora):
    wh = tmp_path / "wh"
    ingest([str(corpora / "elastic-examples-apache-logs" / "apache_logs")],
           settings=Settings.from_env(warehouse=str(wh), progress=False), progress=False)
    assert assert_exact(wh) > 100


def test_a_log_without_user_agents_is_exact(tmp_path):
    log = tmp_path / "access.log"
    log.write_text("".join(f'203.0.113.{i % 7} - - [0{4 + i % 3}/May/2026:1{i % 10}:0{i % 6}:00 +0000] '
                           f'"GET /p{i % 5} HTTP/1.1" {(200, 404, 304)[i % 3]} 512\n' for i in range(60)))
    wh = tmp_path / "wh"
    ingest([str(log)], format="common", settings=Settings.from_env(warehouse=str(wh), progress=False), progress=False)
    assert assert_exact(wh) > 10


@pytest.fixture(scope="module")
def synthetic_house(tmp_path_factory) -> Path:
    wh = tmp_path_factory.mktemp("synthetic") / "wh"
    Generator(Shape(days=4, events_per_day=6000, paths=300, agents=80, countries=20, cities=60, referrers=40,
                    edges=10), seed=5).write(wh, dt.date(2026, 2, 4))
    return wh


def test_generated_multi_site_corpus_is_exact_without_then_with_rollups(synthetic_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    assert assert_exact(wh, expect_rollups=False) > 0  # a warehouse written before rollups: all computed
    result = rollups.rebuild(str(wh))
    assert result.days == ["2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04"]
    assert assert_exact(wh, periods=_periods(wh, "shop.example.com")) > 1000


def _part_bytes(wh: Path) -> dict[str, bytes]:
    return {str(p.relative_to(wh)): p.read_bytes() for p in sorted((wh / "rollups").rglob("*.parquet"))}


def test_a_rerun_writes_the_same_bytes(synthetic_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    rollups.rebuild(str(wh))
    first = _part_bytes(wh)
    assert rollups.refresh(str(wh)).days == []  # nothing changed: nothing rebuilt
    rollups.rebuild(str(wh))
    assert _part_bytes(wh) == first and len(first) == (4 + 1) * len(sql.rollup_names())  # 4 days, 1 month
    (wh / "rollups" / "_months" / "_manifests" / "2026-02.json").unlink()
    assert rollups.refresh(str(wh)).months == ["2026-02"]  # the month level alone, rebuilt the same
    assert _part_bytes(wh) == first


def _build_with(wh: Path, workers: int) -> dict[str, bytes]:
    """Every day's and month's rollups built by a DuckDB builder running ``workers`` queries at once (the days'
    queries in one pool: a day's last ones beside the next day's first)."""
    store = rollups.Store.for_warehouse(str(wh))
    state = rollups.RollupState.load(store)
    with rollups.LocalBuild(store, state.defs, duck.RollupBuilder(store, state.defs, workers=workers)) as build:
        rows = dict(build.build_days(state.event_days))
        assert list(rows) == list(state.event_days)  # each day yielded, in order
        state = rollups.RollupState.load(store, state.defs)
        for month in rollups.buildable_months(state):
            build.build_month(month, state)
    assert all(sum(r.values()) > 0 for r in rows.values())
    return _part_bytes(wh)


def test_queries_run_at_once_write_the_same_bytes_as_one_at_a_time(synthetic_house, tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    shutil.copytree(synthetic_house, serial)
    shutil.copytree(synthetic_house, parallel)
    one = _build_with(serial, workers=1)
    assert len(one) == (4 + 1) * len(sql.rollup_names())
    assert _build_with(parallel, workers=4) == one
    assert rollups.RollupState.load(rollups.Store.for_warehouse(str(parallel))).stale_days() == []


def test_days_are_built_two_at_a_time_in_order(synthetic_house, tmp_path):
    """However many days a rebuild has, the builder holds the shared tables of two days at most: a day's queries
    are queued only once the day two before it is done."""
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    store = rollups.Store.for_warehouse(str(wh))
    state = rollups.RollupState.load(store)
    builder = duck.RollupBuilder(store, state.defs, workers=2)
    held: list[int] = []
    submit = builder._submit

    def counting(*args, **kwargs):
        job = submit(*args, **kwargs)
        held.append(builder.con.sql("SELECT count(*) FROM duckdb_schemas() "
                                    "WHERE schema_name LIKE '\\_rollup\\_day\\_%' ESCAPE '\\'").fetchall()[0][0])
        return job

    builder._submit = counting  # type: ignore[method-assign]
    with rollups.LocalBuild(store, state.defs, builder) as build:
        done = [day for day, _ in build.build_days(state.event_days)]
        left = builder.con.sql("SELECT count(*) FROM duckdb_schemas() WHERE schema_name LIKE '%rollup_day%'").fetchall()
    assert done == list(state.event_days) and len(done) == 4
    assert held == [1, 2, 2, 2]  # queued: the first day; the second beside it; then one more as each is done
    assert left == [(0,)]  # every day's tables dropped


def test_a_failing_rollup_query_fails_the_day_and_leaves_it_computed(synthetic_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    store = rollups.Store.for_warehouse(str(wh))
    state = rollups.RollupState.load(store)
    day, files = next(iter(state.event_days.items()))
    defs = dict(state.defs)  # one rollup of the day breaks
    defs["pages"] = rollups.Definition("pages", sql.Query("rollup pages", "SELECT dt, site FROM no_such_table"))
    builder = duck.RollupBuilder(store, defs, workers=2)
    with rollups.LocalBuild(store, defs, builder) as build:
        with pytest.raises(Exception, match="no_such_table"):
            build.build(day, files)
        assert builder.con.sql("SELECT count(*) FROM duckdb_schemas() WHERE schema_name LIKE '%rollup_day%'").fetchall() \
            == [(0,)]  # the failed day's tables dropped too
    assert day in rollups.RollupState.load(store).stale_days()  # no manifest: the day is read from the events
    assert_exact(wh, expect_rollups=False)


def test_a_day_of_files_with_different_columns_is_exact(synthetic_house, tmp_path):
    """A day whose event files differ in columns (one written before campaigns were stored, its columns in another
    order) is read matching columns by name; the other days' files, one schema, without."""
    import pyarrow.parquet as pq

    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    old = sorted((wh / "events" / "dt=2026-02-02").glob("*.parquet"))[-1]  # not the first: DuckDB reads its schema
    table = pq.read_table(old).drop_columns(["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                                             "click_id"])
    pq.write_table(table.select(list(reversed(table.column_names))), old)
    store = rollups.Store.for_warehouse(str(wh))
    assert not duck._one_schema(store, tuple(str(p) for p in old.parent.glob("*.parquet")))
    assert duck._one_schema(store, tuple(str(p) for p in (wh / "events" / "dt=2026-02-03").glob("*.parquet")))
    assert rollups.rebuild(str(wh)).days == ["2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04"]
    assert assert_exact(wh, periods=_periods(wh, "shop.example.com")) > 1000


def test_a_day_that_fails_among_several_leaves_the_days_before_it_built(synthetic_house, tmp_path):
    """The days' queries share one pool; a damaged event file fails its day: the days before it keep their
    rollups, it and the days after it are computed from the events until a rebuild succeeds."""
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    damaged = sorted((wh / "events" / "dt=2026-02-03").glob("*.parquet"))[0]
    good = damaged.read_bytes()
    damaged.write_bytes(b"PAR1 not a parquet file PAR1")
    with pytest.raises(Exception, match=r"(?i)parquet|magic|corrupt|invalid"):
        rollups.rebuild(str(wh))
    state = rollups.RollupState.load(rollups.Store.for_warehouse(str(wh)))
    assert state.stale_days() == ["2026-02-03", "2026-02-04"]  # the day after it ran, but is never yielded
    damaged.write_bytes(good)
    assert rollups.refresh(str(wh)).days == state.stale_days()
    assert assert_exact(wh) > 0


def test_a_late_file_rebuilds_its_day_and_stays_exact(synthetic_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    rollups.rebuild(str(wh))
    late = Generator(Shape(days=1, events_per_day=500, paths=300, agents=80, countries=20, cities=60,
                           referrers=40, edges=10, files_per_day=1), seed=99)
    table = late.day(dt.date(2026, 2, 2))
    import pyarrow.parquet as pq

    pq.write_table(table, wh / "events" / "dt=2026-02-02" / "late.parquet")
    store = rollups.Store.for_warehouse(str(wh))
    assert rollups.RollupState.load(store).stale_days() == ["2026-02-02"]
    # stale: the day is computed from the events until it is rebuilt, so the answers are already exact
    assert assert_exact(wh, expect_rollups=False) > 0
    assert rollups.RollupState.load(store).stale_months() == ["2026-02"]
    result = rollups.refresh(str(wh))
    assert result.days == ["2026-02-02"] and result.months == ["2026-02"]
    assert assert_exact(wh, periods=[("2026-02-02", "2026-02-03", None), (None, None, None)]) > 0


def test_ingest_of_a_late_file_rebuilds_only_its_day(demo_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(demo_house, wh)
    manifests = {p.name: p.stat().st_mtime_ns for p in (wh / "rollups" / "_days").glob("*.json")}
    log = tmp_path / "late.log.gz"
    line = report_data._line(dt.datetime(2026, 11, 18, 12, 0, 0), "81.2.69.142", "/late-page", n=1)
    log.write_bytes(gzip.compress(("#Version: 1.0\n#Fields: " + report_data.FIELDS + "\n" + line + "\n").encode()))
    ingest([str(log)], settings=Settings.from_env(warehouse=str(wh), progress=False), progress=False)
    after = {p.name: p.stat().st_mtime_ns for p in (wh / "rollups" / "_days").glob("*.json")}
    assert [d for d in after if after[d] != manifests.get(d)] == ["2026-11-18.json"]
    assert assert_exact(wh) > 0


def test_a_definition_change_makes_the_days_computed_until_rebuilt(synthetic_house, tmp_path, monkeypatch):
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    rollups.rebuild(str(wh))
    defs = rollups.definitions()
    changed = dict(defs)
    pages = defs["pages"]
    changed["pages"] = rollups.Definition("pages", sql.Query(pages.query.name, pages.query.text + "\n-- v2\n"))
    state = rollups.RollupState.load(rollups.Store.for_warehouse(str(wh)), changed)
    assert state.valid["pages"] == set() and state.valid["totals"] == set(state.event_days)


def test_days_without_events_lose_their_rollups(synthetic_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    rollups.rebuild(str(wh))
    shutil.rmtree(wh / "events" / "dt=2026-02-01")
    result = rollups.refresh(str(wh))
    assert result.removed == ["2026-02-01"] and result.months == ["2026-02"]  # the month lost a day
    assert not list((wh / "rollups").rglob("dt=2026-02-01/*")) and not (wh / "rollups" / "_days" / "2026-02-01.json").exists()
    assert assert_exact(wh) > 0


def test_rollup_command_rebuilds_the_given_days(synthetic_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    out = run_cli("rollup", "--warehouse", str(wh), "--start", "2026-02-02", "--end", "2026-02-03").stdout
    assert "rollups rebuilt for 2 day(s) (2026-02-02 to 2026-02-03)" in out
    assert sorted(p.stem for p in (wh / "rollups" / "_days").glob("*.json")) == ["2026-02-02", "2026-02-03"]
    assert assert_exact(wh, expect_rollups=False) > 0  # two days from rollups, two computed
    bad = run_cli("rollup", "--warehouse", str(wh), "--start", "2026-02-03", "--end", "2026-02-02", check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_report_session_reads_only_rollup_files_of_the_period(synthetic_house, tmp_path):
    """Partition pruning: with complete rollups a query reads no event file and only its days' rollup files."""
    wh = tmp_path / "wh"
    shutil.copytree(synthetic_house, wh)
    rollups.rebuild(str(wh))
    with duck.Session(wh) as session:
        params = sql.parameters(dt.date(2026, 2, 2), dt.date(2026, 2, 3), None)
        session.run(sql.load("top_pages"), params)
        text = sql.load("top_pages").with_rollups(
            rollups.Plan(session.state, params["start"], params["end"], session._rollup_view)).for_duckdb()
        assert "FROM events" not in text.replace("FROM events WHERE FALSE", "")
        views = [k for k in session._views if k[0] == "pages"]
        assert views == [("pages", "dt", ("2026-02-02", "2026-02-03"))]


def test_a_report_runs_all_its_queries_on_one_duckdb_connection(synthetic_house, monkeypatch):
    import duckdb

    from stats_lib.reports.context import open_report

    opened = []
    real = duckdb.connect
    monkeypatch.setattr(duck.duckdb, "connect", lambda *a, **k: opened.append(1) or real(*a, **k))
    report = open_report("t", "2026-02-02", "2026-02-04", warehouse=str(synthetic_house))
    before = len(opened)
    for name in REPORT_QUERIES:
        report.query(name)
    report.query("daily", period="previous")
    assert len(opened) - before == 1


@pytest.fixture(scope="module")
def two_month_house(tmp_path_factory) -> Path:
    """Four days across a month boundary (2026-02-27 to 2026-03-02), rollups and month level built."""
    wh = tmp_path_factory.mktemp("two-months") / "wh"
    Generator(Shape(days=4, events_per_day=5000, paths=300, agents=80, countries=20, cities=60, referrers=40,
                    edges=10), seed=8).write(wh, dt.date(2026, 3, 2))
    result = rollups.rebuild(str(wh))
    assert result.months == ["2026-02", "2026-03"]
    return wh


MONTH_PERIODS = [
    (None, None, None),  # both months whole
    ("2026-02-28", "2026-03-02", None),  # February in part (a day), March whole
    ("2026-02-27", "2026-03-01", None),  # February whole, March in part
    ("2026-02-28", "2026-03-01", None),  # both in part: days only
    ("2026-02-27", "2026-02-28", "blog.example.org"),  # one month whole, one site
]


def test_periods_over_whole_and_partial_months_are_exact(two_month_house):
    assert assert_exact(two_month_house, periods=MONTH_PERIODS) > 1000


def test_a_period_reads_the_month_rows_of_its_whole_months_and_the_days_of_the_rest(two_month_house):
    with duck.Session(two_month_house) as session:
        def split(name: str, start: str, end: str, months: bool = True) -> sql.Split:
            return rollups.Plan(session.state, start, end).split(name, months)

        assert split("referrer_pages", "2026-02-28", "2026-03-02") == sql.Split(
            "rollup_referrer_pages", ["2026-02-28"], [], "rollup_month_referrer_pages", ("2026-03",))
        assert split("pages", "2026-01-01", "2026-12-31").months == ("2026-02", "2026-03")
        assert split("pages", "2026-02-28", "2026-03-01").months == ()
        assert split("totals", "2026-01-01", "2026-12-31", months=False).months == ()
        # daily groups by dt: it reads days only; top_pages filters dt by the period: it reads the month rows
        assert not sql.month_safe(sql.load("daily").text) and sql.month_safe(sql.load("top_pages").text)
        params = sql.parameters(dt.date(2026, 2, 28), dt.date(2026, 3, 2), None)
        session.run(sql.load("top_pages"), params)
        session.run(sql.load("daily"), params)
        assert {k[1:] for k in session._views if k[0] == "pages"} == {("month", ("2026-03",)), ("dt", ("2026-02-28",))}
        assert {k[1:] for k in session._views if k[0] == "totals"} == {("dt", ("2026-02-28", "2026-03-01",
                                                                              "2026-03-02"))}


def test_a_stale_month_is_read_as_days_until_rebuilt(two_month_house, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(two_month_house, wh)
    store = rollups.Store.for_warehouse(str(wh))
    manifest = wh / "rollups" / "_months" / "_manifests" / "2026-03.json"
    manifest.write_text(manifest.read_text().replace('"2026-03-01": "', '"2026-03-01": "x'))  # other event files
    state = rollups.RollupState.load(store)
    assert state.stale_months() == ["2026-03"] and state.split("pages", "2026-01-01", "2026-12-31", months=True)[0] \
        == ["2026-02"]
    assert assert_exact(wh, periods=MONTH_PERIODS[:2], expect_rollups=False) > 0
    assert rollups.refresh(str(wh)).months == ["2026-03"]


def test_month_measures_follow_the_definition_and_refuse_what_cannot_be_summed():
    assert rollups.definitions()["totals"].month_query.text.count("SUM(") == 10  # through its CTEs and join
    assert "MIN(first_seen) AS first_seen" in sql.month_rollup("custom_events").text
    avg = sql.Query("rollup avg", "SELECT dt, site, AVG(time_taken_ms) AS mean FROM events GROUP BY dt, site")
    with pytest.raises(ValueError, match="cannot be combined across days"):
        sql.rollup_measures(avg)


# -- the exact top 100 of referrer_pages (threshold method), against a plain sum in Python -----------------
def _python_top(rows: list[dict], k: int = 100) -> list[tuple]:
    totals: dict[tuple, list[int]] = {}
    for r in rows:
        t = totals.setdefault((r["source"], r["referrer"], r["path"]), [0, 0])
        t[0] += r["visitors"]
        t[1] += r["pageviews"]
    order = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0][0], kv[0][1],
                                                   (kv[0][2] is None, kv[0][2] or "")))
    return [(s, ref, path, v, p) for (s, ref, path), (v, p) in order[:k]]


def _rollup_rows(seed: int, kind: str) -> list[dict]:
    """Rows of rollup_referrer_pages (one per part, site and group) shaped to trouble a pruned top 100."""
    import random

    rnd = random.Random(seed)
    parts = [f"2026-03-{d:02d}" for d in range(1, 21)]
    sites = [None, "a.example"] if kind == "spread-unknown-site" else ["a.example", "b.example"]  # None: no host
    cells: dict[tuple, list[int]] = {}

    def add(part: str, site: str, group: tuple, visitors: int) -> None:
        cell = cells.setdefault((part, site, *group), [0, 0])
        cell[0] += visitors
        cell[1] += visitors + rnd.randrange(3)

    def group(i: int) -> tuple:
        path = None if i % 17 == 0 else ("" if i % 19 == 0 else f"/p{i % 50}")
        return (f"src{i % 9}", f"https://r{i}.example/", path)

    if kind.startswith("spread"):  # the true top never stands out in any part; spikes fill one part
        for i in range(150):
            for part in parts:
                for site in sites:
                    add(part, site, group(i), 3)
        for i in range(150, 260):
            add(parts[0], sites[1], group(i), 100 + i % 7)
    elif kind == "ties":  # totals tie across the 100th place: pageviews and names decide
        for i in range(400):
            add(parts[i % 20], sites[i % 2], group(i), 40 if i < 250 else rnd.randrange(1, 40))
    elif kind == "few":  # under 100 rows a part: no floor, every group a candidate
        for i in range(60):
            add(parts[i % 3], sites[0], group(i), rnd.randrange(1, 5))
    else:  # a long tail (Zipf-like totals, each spread over two parts at random)
        for i in range(3000):
            total = max(1, 20000 // (i + 1) + rnd.randrange(3))
            for _ in range(rnd.randrange(1, 5)):
                add(rnd.choice(parts[:2]), sites[0], group(i), max(1, total // 3))
    return [{"dt": part, "site": site, "source": source, "referrer": referrer, "path": path,
             "visitors": v, "pageviews": p} for (part, site, source, referrer, path), (v, p) in sorted(
                 cells.items(), key=lambda kv: tuple("" if x is None else x for x in kv[0]))]


@pytest.mark.parametrize("kind,seed", [("spread", 1), ("spread-unknown-site", 7), ("ties", 2), ("ties", 3), ("few", 4), ("tail", 5),
                                       ("tail", 6)])
def test_the_top_referrer_pages_are_exact_however_the_totals_are_spread(kind, seed):
    import duckdb

    rows = _rollup_rows(seed, kind)
    con = duckdb.connect()
    con.register("stored", pa.Table.from_pylist(rows))
    query = sql.load("referrer_pages").with_rollups(rollups.StoredDays("stored"))
    for site in ("", "a.example"):
        params = {"start": "2026-03-01", "end": "2026-03-31", "site": site}
        got = [tuple(r.values()) for r in duck.execute(con, query, params).to_pylist()]
        assert got == _python_top([r for r in rows if site in ("", r["site"])]), (kind, seed, site)
    pruned = sql.Query("candidates", query.text.split("SELECT e.source, e.referrer, e.path AS landing_path")[0]
                       + "SELECT COUNT(*) AS n FROM candidates").with_rollups(rollups.StoredDays("stored"))
    candidates = duck.execute(con, pruned, {"start": "2026-03-01", "end": "2026-03-31", "site": ""})["n"][0].as_py()
    groups = len({(r["source"], r["referrer"], r["path"]) for r in rows})
    if kind == "tail":
        assert candidates < groups / 2, (candidates, groups)  # the tail is left out, not summed
    if kind == "few":
        assert candidates == groups
