"""The AWS path against a real S3 + Glue HTTP API emulation (moto server): ingest from and into s3://, the Glue
catalog Athena would read, and the same exact numbers through DuckDB reading the S3 objects."""

from __future__ import annotations

import datetime as dt
import json

import boto3

from conftest import run_cli
from stats_lib.samples import generate

def test_ingest_s3_logs_into_s3_warehouse_with_glue_catalog(aws, tmp_path):
    logs = tmp_path / "logs"
    generate(logs, days=2, end=dt.date(2026, 11, 20), seed=9, visitors_per_day=40)
    expected = json.loads((logs / "expected-daily.json").read_text())
    s3 = boto3.client("s3")
    for f in sorted(logs.glob("*.gz")):
        s3.upload_file(str(f), "site-logs", f"cloudfront/{f.name}")
    warehouse = "s3://site-logs/warehouse"

    out = run_cli("ingest", "s3://site-logs/cloudfront/", "--warehouse", warehouse, env=aws).stdout
    assert "events written: %d" % sum(e["hits"] for e in expected) in out
    again = run_cli("ingest", "s3://site-logs/cloudfront/", "--warehouse", warehouse, env=aws).stdout
    assert "events written: 0" in again and "already ingested" in again

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="site-logs", Prefix="warehouse/")["Contents"]]
    assert any(k.startswith("warehouse/events/dt=2026-11-19/") for k in keys)
    assert any(k.startswith("warehouse/_ledger/") for k in keys)
    assert not any(k.endswith(".tmp") for k in keys)

    glue = boto3.client("glue")
    table = glue.get_table(DatabaseName="site_stats", Name="events")["Table"]
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    assert table["StorageDescriptor"]["Location"] == "s3://site-logs/warehouse/events/"
    assert {"visitor_id", "ip_prefix", "is_pageview"} <= {c["Name"] for c in table["StorageDescriptor"]["Columns"]}
    assert "client_ip" not in {c["Name"] for c in table["StorageDescriptor"]["Columns"]}
    partitions = glue.get_partitions(DatabaseName="site_stats", TableName="events")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == ["2026-11-19", "2026-11-20"]

    got = json.loads(run_cli("query", "daily", "--warehouse", warehouse, "--format", "json", env=aws).stdout)
    assert [(r["day"], r["hits"], r["pageviews"], r["visitors"], r["sessions"]) for r in got] == [
        (e["day"], e["hits"], e["pageviews"], e["visitors"], e["sessions"]) for e in expected
    ]
