"""The Athena engine (pyathena) against a real Athena HTTP API emulation (moto server).

moto does not run SQL, so the SQL itself is proven on DuckDB elsewhere; here we prove what reaches Athena (the
Trino text with ``?`` placeholders, the values as execution parameters, never in the text) and what comes back:
rows seeded through moto's ``/moto-api/static/athena/query-results``, typed like DuckDB's, after waiting for the
query to complete, with the scan cost on stderr and a one-line error for a failed query or a missing region.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading

import boto3
import pandas as pd
import pytest
import requests
from conftest import run_cli

from stats_lib import query
from stats_lib.config import Settings
from stats_lib.engines.athena import AthenaQueryFailed, cost
from stats_lib.samples import generate

# What Athena's result metadata calls each column of `daily` (Trino types of the query's expressions).
DAILY_TYPES = {"day": "date", "hits": "bigint", "bot_hits": "bigint", "pageviews": "bigint", "visitors": "bigint",
               "sessions": "bigint", "bounces": "bigint", "bounce_rate": "double", "avg_visit_duration": "double"}


def seed_results(url: str, rows: list[list[str | None]], columns: list[tuple[str, str]]) -> None:
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    body = {
        "account_id": "123456789012",
        "region": "us-east-1",
        "results": [{
            "rows": [header] + [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows],
            "column_info": [{"Name": n, "Type": t, "CatalogName": "hive", "SchemaName": "", "TableName": "",
                             "Label": n, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}
                            for n, t in columns],
        }],
    }
    requests.post(f"{url}/moto-api/static/athena/query-results", json=body, timeout=10).raise_for_status()


def athena_settings(**changes) -> Settings:
    return Settings.from_env(warehouse="s3://site-logs/warehouse", database="site_stats",
                             athena_output="s3://site-logs/athena-results/", progress=False).with_(**changes)


@pytest.fixture
def slow_athena(aws):
    """Queries stay QUEUED and RUNNING for a few status polls each (moto's manual state progression)."""
    url = aws["AWS_ENDPOINT_URL"]

    def hold(polls: int) -> None:
        requests.post(f"{url}/moto-api/state-manager/set-transition", timeout=10, json={
            "model_name": "athena::execution", "transition": {"progression": "manual", "times": polls}})

    yield hold
    requests.post(f"{url}/moto-api/state-manager/unset-transition", json={"model_name": "athena::execution"},
                  timeout=10)


def _last_execution() -> dict:
    client = boto3.client("athena")
    return client.get_query_execution(QueryExecutionId=client.list_query_executions()["QueryExecutionIds"][-1])[
        "QueryExecution"]


def test_results_have_duckdb_columns_and_dtypes_after_completion_wait(aws, tmp_path, slow_athena):
    logs = tmp_path / "logs"
    generate(logs, days=2, end=dt.date(2026, 11, 20), seed=4, visitors_per_day=15)
    local = Settings.from_env(warehouse=str(tmp_path / "wh"), progress=False)
    from stats_lib.ingest import ingest

    ingest([str(logs)], settings=local)
    duck = query("daily", settings=local)
    assert len(duck) == 2
    seed_results(aws["AWS_ENDPOINT_URL"], [[str(v) for v in row] for row in duck.itertuples(index=False)],
                 [(c, DAILY_TYPES[c]) for c in duck.columns])
    slow_athena(3)  # three polls QUEUED, three RUNNING: the rows exist only once the query SUCCEEDED
    frame = query("daily", "2026-11-19", "2026-11-20", "www.Example.com", engine="athena",
                  settings=athena_settings())
    assert list(frame.columns) == list(duck.columns)
    assert frame.dtypes.to_dict() == duck.dtypes.to_dict()
    pd.testing.assert_frame_equal(frame, duck)
    sent = _last_execution()
    assert sent["Status"]["State"] == "SUCCEEDED"
    params = sent["ExecutionParameters"]  # the period and site, once for each read of the events
    assert params and params == ["'2026-11-19'", "'2026-11-20'", "'example.com'", "'example.com'"] * (len(params) // 4)
    assert "2026-11-19" not in sent["Query"] and "example.com" not in sent["Query"]
    assert sent["Query"].count("?") == len(params) and "FROM events" in sent["Query"]
    assert sent["QueryExecutionContext"]["Database"] == "site_stats"
    assert sent["ResultConfiguration"]["OutputLocation"].startswith("s3://site-logs/athena-results/")


def test_more_rows_than_one_results_page_with_nulls_and_types(aws):
    n = 2500  # Athena returns at most 1000 rows a GetQueryResults page
    seed_results(aws["AWS_ENDPOINT_URL"],
                 [[f"/p{i}", str(i), None if i % 7 == 0 else f"{i / 4}", "2026-11-01 10:00:00.000"] for i in range(n)],
                 [("path", "varchar"), ("pageviews", "bigint"), ("share", "double"), ("first_seen", "timestamp")])
    frame = query("top_pages", engine="athena", settings=athena_settings())
    assert len(frame) == n
    assert frame["pageviews"].tolist() == list(range(n))
    assert frame["share"].isna().sum() == len(range(0, n, 7))
    assert frame.loc[5, "share"] == 1.25
    assert frame.loc[0, "first_seen"] == pd.Timestamp("2026-11-01 10:00:00")
    assert frame["path"].iloc[-1] == f"/p{n - 1}"


def test_cli_reports_bytes_scanned_and_cost_on_stderr_json_stays_plain(aws):
    seed_results(aws["AWS_ENDPOINT_URL"], [["404", "3"]], [("status", "smallint"), ("hits", "bigint")])
    proc = run_cli("query", "status_codes", "--engine", "athena", "--format", "json", "--warehouse",
                   "s3://site-logs/warehouse", env={**aws, "SITE_STATS_ATHENA_OUTPUT": "s3://site-logs/out/"})
    assert json.loads(proc.stdout) == [{"status": 404, "hits": 3}]
    # moto reports 0 bytes scanned for every query: billed as Athena's 10 MB minimum
    assert proc.stderr.strip() == "athena: status_codes scanned 0 bytes (billed 10 MB): $0.000048"


def test_cost_rounds_up_to_megabytes_with_a_10_mb_minimum():
    assert cost(0) == (10 << 20, 10 / (1 << 20) * 5)
    assert cost(1 << 40) == (1 << 40, 5.0)
    assert cost((10 << 20) + 1) == (11 << 20, 11 / (1 << 20) * 5)


def test_cancelled_query_is_one_clear_error(aws, slow_athena):
    slow_athena(10_000)  # the query never leaves QUEUED on its own
    client = boto3.client("athena")

    def cancel_when_started() -> None:
        while not client.list_query_executions()["QueryExecutionIds"]:
            threading.Event().wait(0.05)
        client.stop_query_execution(QueryExecutionId=client.list_query_executions()["QueryExecutionIds"][0])

    canceller = threading.Thread(target=cancel_when_started)
    canceller.start()
    with pytest.raises(AthenaQueryFailed) as failed:
        query("daily", engine="athena", settings=athena_settings())
    canceller.join()
    message = str(failed.value)
    assert message.startswith("Athena query daily cancelled (execution ")
    assert "\n" not in message


def test_missing_region_or_credentials_is_one_line_naming_the_variable(aws, tmp_path, monkeypatch):
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_ENDPOINT_URL": aws["AWS_ENDPOINT_URL"]}
    proc = run_cli("query", "daily", "--engine", "athena", env=env, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "AWS_REGION" in proc.stderr and "Traceback" not in proc.stderr

    env["AWS_DEFAULT_REGION"] = "us-east-1"
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    proc = run_cli("query", "daily", "--engine", "athena", env=env, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "AWS_ACCESS_KEY_ID" in proc.stderr


def test_hostile_site_value_stays_a_quoted_parameter(aws):
    query("status_codes", site="x' OR '1'='1", engine="athena", settings=athena_settings())
    sent = _last_execution()
    assert sent["ExecutionParameters"][2] == "'x'' or ''1''=''1'"  # lower-cased like every site, one literal
    assert "OR '1'" not in sent["Query"]
