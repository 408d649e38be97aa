"""Rollups on an S3 warehouse (moto server, real HTTP): built by DuckDB through pyarrow's S3 client and exact;
rebuilt per day by Athena (delete the day's objects, INSERT INTO ... SELECT with the day as execution
parameters, Glue tables with partition projection), and read by report queries on Athena. moto's Athena does not
run SQL, so the Athena tests prove the plumbing: what is deleted, sent, registered and written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import boto3
import pyarrow.fs as pafs
import pytest
from test_rollups import PLAIN, REPORT_QUERIES, _rows

from stats_lib.api import QuerySession
from stats_lib.benchmarks.synthetic import Generator, Shape
from stats_lib.config import Settings
from stats_lib.engines import duckdb as duck
from stats_lib.engines import sql
from stats_lib.warehouse import rollups
from stats_lib.warehouse.s3 import filesystem

WAREHOUSE = "s3://site-logs/wh"
DAYS = ["2026-02-03", "2026-02-04"]


def _s3_events(tmp_path: Path, settings: Settings) -> None:
    local = tmp_path / "local"
    Generator(Shape(days=2, events_per_day=3000, paths=200, agents=50, countries=15, cities=40, referrers=30,
                    edges=8), seed=3).write(local, dt.date(2026, 2, 4))
    fs = filesystem(settings)
    for name in ("events", "_storage.json"):  # the files, and the storage version they are written in
        pafs.copy_files(str(local / name), f"site-logs/wh/{name}", source_filesystem=pafs.LocalFileSystem(),
                        destination_filesystem=fs)


def _settings(**changes) -> Settings:
    return Settings.from_env(warehouse=WAREHOUSE, database="site_stats", athena_output="s3://site-logs/athena/",
                             progress=False).with_(**changes)


def test_duckdb_builds_rollups_on_s3_and_every_query_is_exact(aws, tmp_path):
    settings = _settings()
    _s3_events(tmp_path, settings)
    result = rollups.rebuild(WAREHOUSE, settings)
    assert result.days == DAYS and result.months == ["2026-02"]
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="site-logs", Prefix="wh/rollups/")["Contents"]}
    assert "wh/rollups/pages/dt=2026-02-03/part.parquet" in keys and "wh/rollups/_days/2026-02-04.json" in keys
    assert "wh/rollups/_months/pages/month=2026-02/part.parquet" in keys
    with duck.Session(WAREHOUSE, settings) as fast, duck.Session(WAREHOUSE, settings, rollups=False) as slow:
        assert not fast.state.stale_days() and not fast.state.stale_months()
        for start, end in ((None, None), (dt.date(2026, 2, 4), dt.date(2026, 2, 4))):  # the month; a day
            params = sql.parameters(start, end, None)
            for name in REPORT_QUERIES:
                want = _rows(duck.execute(slow.con, sql.Query(name, (PLAIN / f"{name}.sql").read_text()), params))
                assert _rows(fast.run(sql.load(name), params)) == want, name


def _executions() -> list[dict]:
    client = boto3.client("athena")
    ids = client.list_query_executions()["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


def _athena_house(tmp_path: Path, stale: str) -> tuple[Settings, object]:
    """Settings for Athena, the events on S3, and an old object (``stale``) a rebuild must delete."""
    settings = _settings(engine="athena")
    _s3_events(tmp_path, settings)
    s3 = boto3.client("s3")
    s3.put_object(Bucket="site-logs", Key=stale, Body=b"old")
    return settings, s3


def test_athena_rebuilds_a_day_with_insert_into_after_deleting_its_objects(aws, tmp_path):
    stale = "wh/rollups/pages/dt=2026-02-03/20260101_old_rows.parquet"
    settings, s3 = _athena_house(tmp_path, stale)
    defs = {n: d for n, d in rollups.definitions().items() if n in ("pages", "totals")}  # two of them: quick
    store = rollups.Store.for_warehouse(WAREHOUSE, settings)
    state = rollups.RollupState.load(store, defs)
    with rollups.AthenaRollupBuilder(store, defs, settings) as builder:
        builder.build(DAYS[0], state.event_days[DAYS[0]])
    sent = [e for e in _executions() if e["Query"].lstrip().upper().startswith("INSERT INTO")]
    assert sorted(e["Query"].split()[2] for e in sent) == ["rollup_pages", "rollup_totals"]
    for e in sent:
        assert set(e["ExecutionParameters"]) == {f"'{DAYS[0]}'", "''"}, e["ExecutionParameters"]
        assert DAYS[0] not in e["Query"] and "FROM events" in e["Query"]  # the day travels as a parameter
        assert e["Query"].count("?") == len(e["ExecutionParameters"])
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site-logs", Prefix="wh/rollups/")["Contents"]}
    assert stale not in keys and f"wh/rollups/_days/{DAYS[0]}.json" in keys
    glue = boto3.client("glue")
    table = glue.get_table(DatabaseName="site_stats", Name="rollup_pages")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://site-logs/wh/rollups/pages/"
    assert table["Parameters"]["projection.enabled"] == "true" and table["Parameters"]["projection.dt.type"] == "date"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt"]
    assert {c["Name"] for c in table["StorageDescriptor"]["Columns"]} == {"site", "path", "visitors", "pageviews"}
    assert not glue.get_partitions(DatabaseName="site_stats", TableName="rollup_pages")["Partitions"]
    state = rollups.RollupState.load(store, defs)
    assert state.valid["pages"] == {DAYS[0]} and state.stale_days() == [DAYS[1]]


def test_athena_rebuilds_a_month_from_its_day_rows_with_insert_into(aws, tmp_path):
    stale = "wh/rollups/_months/pages/month=2026-02/20260101_old_rows.parquet"
    settings, s3 = _athena_house(tmp_path, stale)
    defs = {n: d for n, d in rollups.definitions().items() if n in ("pages", "custom_events")}
    store = rollups.Store.for_warehouse(WAREHOUSE, settings)
    with rollups.AthenaRollupBuilder(store, defs, settings) as builder:
        for day in DAYS:
            builder.build(day, rollups.RollupState.load(store, defs).event_days[day])
        state = rollups.RollupState.load(store, defs)
        assert rollups.buildable_months(state) == ["2026-02"]
        builder.build_month("2026-02", state)
    sent = {e["Query"].split()[2]: e for e in _executions() if e["Query"].lstrip().startswith("INSERT INTO rollup_month_")}
    assert sorted(sent) == ["rollup_month_custom_events", "rollup_month_pages"]
    pages = sent["rollup_month_pages"]
    assert pages["ExecutionParameters"] == ["'2026-02'"] and pages["Query"].count("?") == 1  # the month, bound
    assert "FROM rollup_pages WHERE dt IN ('2026-02-03', '2026-02-04')" in pages["Query"]
    assert "SUM(visitors) AS visitors" in pages["Query"] and "FROM events" not in pages["Query"]
    assert "MIN(first_seen) AS first_seen" in sent["rollup_month_custom_events"]["Query"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site-logs", Prefix="wh/rollups/")["Contents"]}
    assert stale not in keys and "wh/rollups/_months/_manifests/2026-02.json" in keys
    table = boto3.client("glue").get_table(DatabaseName="site_stats", Name="rollup_month_pages")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://site-logs/wh/rollups/_months/pages/"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["month"]
    assert table["Parameters"]["projection.month.format"] == "yyyy-MM"
    assert table["Parameters"]["projection.month.interval.unit"] == "MONTHS"
    state = rollups.RollupState.load(store, defs)
    assert state.valid_months["pages"] == {"2026-02"} and not state.stale_months()


def test_report_queries_on_athena_read_the_month_rows_of_whole_months(aws, tmp_path):
    settings = _settings(engine="athena")
    _s3_events(tmp_path, settings)
    assert rollups.rebuild(WAREHOUSE, _settings()).months == ["2026-02"]  # built by DuckDB
    with QuerySession(settings) as session:
        session.query("top_pages", "2026-02-01", "2026-02-28")
        session.query("daily", "2026-02-01", "2026-02-28")  # groups by dt: reads the days
    sent = [e["Query"] for e in _executions() if "INSERT" not in e["Query"]]
    top = [q for q in sent if "rollup_month_pages" in q]
    assert len(top) == 1 and "FROM rollup_month_pages WHERE month IN ('2026-02')" in top[0]
    assert "FROM rollup_pages" not in top[0] and "FROM events" not in top[0]
    daily = [q for q in sent if "rollup_totals" in q]
    assert daily and "FROM rollup_totals WHERE dt IN ('2026-02-03', '2026-02-04')" in daily[0]
    assert "rollup_month_totals" not in daily[0]


def test_report_queries_on_athena_read_the_rollup_tables(aws, tmp_path):
    settings = _settings(engine="athena")
    _s3_events(tmp_path, settings)
    rollups.rebuild(WAREHOUSE, _settings())  # built by DuckDB: Athena reads them the same way
    with QuerySession(settings) as session:
        session.query("top_pages", "2026-02-04", "2026-02-04")
    query = [e for e in _executions() if "rollup_pages" in e["Query"] and "INSERT" not in e["Query"]][0]["Query"]
    assert "FROM rollup_pages WHERE dt IN ('2026-02-04')" in query and "FROM events" not in query


def test_athena_without_rollups_computes_from_the_events(aws, tmp_path):
    settings = _settings(engine="athena")
    _s3_events(tmp_path, settings)
    with QuerySession(settings) as session:
        session.query("top_pages", "2026-02-04", "2026-02-04")
    query = [e for e in _executions() if "top_pages" in e["Query"] or "path" in e["Query"]][-1]["Query"]
    assert "FROM events WHERE dt IN ('2026-02-04')" in query and "FROM rollup_pages" not in query


@pytest.fixture(autouse=True)
def _no_progress(monkeypatch):
    monkeypatch.setenv("SITE_STATS_PROGRESS", "0")
