"""The Athena client plumbing against a real Athena HTTP API emulation (moto server).

moto does not run SQL, so the SQL itself is proven on DuckDB elsewhere; here we prove what reaches Athena: the
Trino text with ``?`` placeholders, the values as execution parameters (never in the text), and the typed parse
of the results Athena returns.
"""

from __future__ import annotations

import datetime as dt

import boto3
import requests

from stats_lib import query
from stats_lib.config import Settings


def seed_results(url: str, rows: list[list[str]], columns: list[tuple[str, str]]) -> None:
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    body = {
        "account_id": "123456789012",
        "region": "us-east-1",
        "results": [{
            "rows": [header] + [{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
            "column_info": [{"Name": n, "Type": t, "CatalogName": "hive", "SchemaName": "", "TableName": "",
                             "Label": n, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}
                            for n, t in columns],
        }],
    }
    requests.post(f"{url}/moto-api/static/athena/query-results", json=body, timeout=10).raise_for_status()


def test_daily_on_athena_sends_parameters_and_types_results(aws):
    seed_results(aws["AWS_ENDPOINT_URL"], [["2026-11-01", "120", "7", "0.25"]],
                 [("day", "date"), ("hits", "bigint"), ("bot_hits", "bigint"), ("bounce_rate", "double")])
    settings = Settings(warehouse="s3://site-logs/warehouse", database="site_stats",
                        athena_output="s3://site-logs/athena-results/", progress=False)
    frame = query("daily", dt.date(2026, 11, 1), dt.date(2026, 11, 7), "www.Example.com", engine="athena",
                  settings=settings)
    assert frame.to_dict(orient="records") == [
        {"day": dt.date(2026, 11, 1), "hits": 120, "bot_hits": 7, "bounce_rate": 0.25}
    ]
    client = boto3.client("athena")
    ids = client.list_query_executions()["QueryExecutionIds"]
    sent = client.get_query_execution(QueryExecutionId=ids[0])["QueryExecution"]
    params = sent["ExecutionParameters"]  # the period and site, once for each read of the events
    assert params and params == ["'2026-11-01'", "'2026-11-07'", "'example.com'", "'example.com'"] * (len(params) // 4)
    assert "2026-11-01" not in sent["Query"] and "example.com" not in sent["Query"]
    assert sent["Query"].count("?") == len(params) and "FROM events" in sent["Query"]
    assert sent["QueryExecutionContext"] == {"Database": "site_stats"}
    assert sent["ResultConfiguration"]["OutputLocation"].startswith("s3://site-logs/athena-results/")


def test_hostile_site_value_stays_a_quoted_parameter(aws):
    settings = Settings(warehouse="s3://site-logs/warehouse", athena_output="s3://site-logs/out/", progress=False)
    query("status_codes", site="x' OR '1'='1", engine="athena", settings=settings)
    client = boto3.client("athena")
    sent = client.get_query_execution(QueryExecutionId=client.list_query_executions()["QueryExecutionIds"][0])
    params = sent["QueryExecution"]["ExecutionParameters"]
    assert params[2] == "'x'' or ''1''=''1'"  # lower-cased like every site, quotes doubled inside one literal
    assert "OR '1'" not in sent["QueryExecution"]["Query"]
