"""The S3 lake against a real S3 + Glue HTTP API emulation (moto server, real HTTP on loopback): ingest from an
``s3://`` log bucket into an ``s3://`` warehouse, the Glue catalog Athena reads (partition projection, no
registered partitions), incremental runs that skip known objects without reading them (GetObject requests
counted from moto's own request log), late objects, and salts created with conditional writes."""

from __future__ import annotations

import datetime as dt
import json
import threading

import boto3
import pandas as pd
import pytest
from aws_support import lake_state, request_log  # noqa: F401 (a fixture)
from conftest import run_cli

from stats_lib import query
from stats_lib.config import Settings
from stats_lib.ingest import ingest
from stats_lib.samples import generate
from stats_lib.schema import STORED_SCHEMA
from stats_lib.warehouse.s3 import S3Warehouse, glue_columns
from stats_lib.warehouse.s3_salts import S3SaltFolder
from stats_lib.warehouse.salts import SaltStore


def _daily(settings: Settings) -> pd.DataFrame:
    return query("daily", settings=settings)


def test_s3_round_trip_incremental_and_late_object(aws, tmp_path, request_log, capsys):
    logs = tmp_path / "logs"
    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)  # salts still in their window
    generate(logs, days=2, end=yesterday, seed=9, visitors_per_day=40)
    expected = json.loads((logs / "expected-daily.json").read_text())
    files = sorted(logs.glob("*.gz"))
    late = files[2]  # the first day's third object arrives after the day was ingested
    s3 = boto3.client("s3")
    for bucket in ("cf-logs", "lake"):
        s3.create_bucket(Bucket=bucket)
    for f in files:
        if f != late:
            s3.upload_file(str(f), "cf-logs", f"cloudfront/{f.name}")
    env = {**aws, "SITE_STATS_WAREHOUSE": "s3://lake/warehouse"}
    s3_settings = Settings.from_env(warehouse="s3://lake/warehouse", progress=False)

    # first run: every object listed is read once
    first = run_cli("ingest", "s3://cf-logs/cloudfront/", env=env).stdout
    read_first = request_log.get_objects("cf-logs")
    assert sorted(read_first) == sorted(f"cloudfront/{f.name}" for f in files if f != late)
    assert f"files: {len(files) - 1} ({len(files) - 1} ingested, 0 already ingested" in first

    glue = boto3.client("glue")
    table = glue.get_table(DatabaseName="site_stats", Name="events")["Table"]
    assert table["StorageDescriptor"]["Columns"] == glue_columns(STORED_SCHEMA)
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    assert table["StorageDescriptor"]["Location"] == "s3://lake/warehouse/events/"
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert (params["projection.dt.type"], params["projection.dt.format"]) == ("date", "yyyy-MM-dd")
    assert params["projection.dt.range"] == f"{yesterday - dt.timedelta(days=1)},NOW"
    assert glue.get_partitions(DatabaseName="site_stats", TableName="events")["Partitions"] == []

    local = Settings.from_env(warehouse=str(tmp_path / "local"), progress=False)
    ingest([str(f) for f in files if f != late], settings=local)
    pd.testing.assert_frame_equal(_daily(s3_settings), _daily(local))

    # second run over the unchanged prefix: listing only, zero GetObject, nothing changes
    before, table_before = lake_state(s3), glue.get_table(DatabaseName="site_stats", Name="events")["Table"]
    request_log.lines.clear()
    second = run_cli("ingest", "s3://cf-logs/cloudfront/", env=env).stdout
    read_second = request_log.get_objects("cf-logs")
    assert read_second == []
    assert f"files: {len(files) - 1} (0 ingested, {len(files) - 1} already ingested" in second
    assert "events written: 0" in second
    assert lake_state(s3) == before
    assert glue.get_table(DatabaseName="site_stats", Name="events")["Table"] == table_before

    # a late object for a day already ingested: read alone, adds exactly its own events
    s3.upload_file(str(late), "cf-logs", f"cloudfront/{late.name}")
    only_late = Settings.from_env(warehouse=str(tmp_path / "late-only"), progress=False)
    late_events = ingest([str(late)], settings=only_late).events
    request_log.lines.clear()
    third = run_cli("ingest", "s3://cf-logs/cloudfront/", env=env).stdout
    assert request_log.get_objects("cf-logs") == [f"cloudfront/{late.name}"]
    assert f"events written: {late_events}" in third
    ingest([str(late)], settings=local)
    s3_daily = _daily(s3_settings)
    pd.testing.assert_frame_equal(s3_daily, _daily(local))
    assert [(r["day"], r["hits"], r["pageviews"], r["visitors"], r["sessions"]) for r in expected] == [
        (d.isoformat(), h, p, v, s) for d, h, p, v, s in
        s3_daily[["day", "hits", "pageviews", "visitors", "sessions"]].itertuples(index=False)]
    assert not any(k.endswith(".tmp") for k in lake_state(s3))
    with capsys.disabled():
        print(f"\n[s3 round trip] run 1: listed {len(files) - 1}, read {len(read_first)}, skipped 0; "
              f"run 2: listed {len(files) - 1}, read {len(read_second)} (GetObject on the log bucket: "
              f"{len(read_second)}), skipped {len(files) - 1}; late object: read 1, events +{late_events}")


def test_local_files_into_s3_warehouse_are_skipped_by_content_hash(aws, tmp_path):
    logs = tmp_path / "logs"
    generate(logs, days=1, end=dt.date(2026, 11, 20), seed=3, visitors_per_day=10)
    warehouse = "s3://site-logs/wh"
    files = [str(f) for f in sorted(logs.glob("*.gz"))]
    out = run_cli("ingest", *files, "--warehouse", warehouse, env=aws).stdout
    assert "0 already ingested" in out
    again = run_cli("ingest", *files, "--warehouse", warehouse, env=aws).stdout
    assert "events written: 0" in again and "(0 ingested," in again


def test_new_column_and_earlier_day_update_the_glue_table(aws):
    house = S3Warehouse(Settings.from_env(warehouse="s3://site-logs/wh", progress=False))
    house.register("2026-11-10")
    house.register_table("events", STORED_SCHEMA.append(pytest.importorskip("pyarrow").field("lang", "string")),
                         partitioned=True, first_day="2026-11-01")
    glue = boto3.client("glue")
    table = glue.get_table(DatabaseName="site_stats", Name="events")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]][-1] == "lang"
    assert table["Parameters"]["projection.dt.range"] == "2026-11-01,NOW"
    house.register("2026-11-15")  # a later first day never narrows the range, and the new column stays
    table = glue.get_table(DatabaseName="site_stats", Name="events")["Table"]
    assert table["Parameters"]["projection.dt.range"] == "2026-11-01,NOW"
    assert "lang" in [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    assert glue.get_partitions(DatabaseName="site_stats", TableName="events")["Partitions"] == []
    rollup = pytest.importorskip("pyarrow").schema([("site", "string"), ("visitors", "int64")])
    house.register_table("rollup_daily", rollup, partitioned=True, first_day="2026-11-02", folder="rollups/daily")
    table = glue.get_table(DatabaseName="site_stats", Name="rollup_daily")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://site-logs/wh/rollups/daily/"
    assert table["Parameters"]["projection.dt.range"] == "2026-11-02,NOW"
    assert [c["Type"] for c in table["StorageDescriptor"]["Columns"]] == ["string", "bigint"]


def test_two_writers_creating_the_same_days_salt_end_with_one_salt(aws):
    writers = 8
    barrier = threading.Barrier(writers)
    got: list[bytes] = []

    def create(i: int) -> None:
        backend = S3SaltFolder(boto3.client("s3"), "site-logs", "wh/_salts")
        barrier.wait()
        got.append(backend.create("2026-11-20", bytes([i]) * 32))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="site-logs", Prefix="wh/_salts/")["Contents"]]
    assert keys == ["wh/_salts/2026-11-20.key"]
    stored = bytes.fromhex(s3.get_object(Bucket="site-logs", Key=keys[0])["Body"].read().decode())
    assert got == [stored] * writers
    tags = s3.get_object_tagging(Bucket="site-logs", Key=keys[0])["TagSet"]
    assert tags == [{"Key": "site-stats", "Value": "salt"}]


def test_conditional_create_keeps_the_first_salt_and_purge_leaves_a_tombstone(aws):
    s3 = boto3.client("s3")
    first = S3SaltFolder(s3, "site-logs", "wh/_salts")
    assert first.create("2026-11-01", b"\x01" * 32) == b"\x01" * 32
    assert S3SaltFolder(boto3.client("s3"), "site-logs", "wh/_salts").create("2026-11-01", b"\x02" * 32) == b"\x01" * 32
    store = SaltStore(first, retention_days=2, today=dt.date(2026, 11, 5))
    assert store.salt("2026-11-04") == first.read("2026-11-04")
    assert store.purge() == ["2026-11-01"]
    assert first.days() == ["2026-11-04"] and first.deleted("2026-11-01") and first.read("2026-11-01") is None
    with pytest.warns(UserWarning, match="already deleted"):
        SaltStore(first).salt("2026-11-01")


def test_downloads_stay_a_bounded_window_ahead_and_in_order(aws, tmp_path):
    from stats_lib.sources.s3_objects import list_objects, plan

    s3 = boto3.client("s3")
    for i in range(30):
        s3.put_object(Bucket="site-logs", Key=f"many/{i:03d}.log", Body=f"line {i}\n".encode())
    planned = plan(Settings.from_env(progress=False), ["s3://site-logs/many/"], [], seen=lambda key: False)
    assert [o.key for o in planned.new] == [o.key for o in list_objects(s3, "s3://site-logs/many/")]
    folder = tmp_path / "copies"
    most = 0
    for i, (obj, copy) in enumerate(planned.download(folder, threads=2)):
        assert obj.key == f"many/{i:03d}.log" and copy.read_text() == f"line {i}\n"
        most = max(most, sum(1 for p in folder.rglob("*") if p.is_file()))
        copy.unlink()
    assert 1 <= most <= 2 * 2 + 1  # the window ahead (2 x threads) plus the copy being read


def test_an_object_that_changed_or_vanished_since_listing_fails_alone(aws, tmp_path):
    from stats_lib.sources.s3_objects import S3Object

    logs = tmp_path / "logs"
    generate(logs, days=1, end=dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1), seed=6,
             visitors_per_day=5)
    good = sorted(logs.glob("*.gz"))[0]
    s3 = boto3.client("s3")
    s3.upload_file(str(good), "site-logs", "cf/good.gz")
    head = s3.head_object(Bucket="site-logs", Key="cf/good.gz")
    objects = [S3Object("site-logs", "cf/good.gz", head["ETag"], head["ContentLength"]),
               S3Object("site-logs", "cf/good.gz", '"0123456789abcdef0123456789abcdef"', 10),  # an older version
               S3Object("site-logs", "cf/gone.gz", '"fedcba9876543210fedcba9876543210"', 10)]
    summary = ingest([], objects=objects, settings=Settings.from_env(warehouse=str(tmp_path / "wh"), progress=False))
    by_status = sorted((f.status, f.path) for f in summary.files)
    assert by_status == [("failed", "s3://site-logs/cf/gone.gz"), ("failed", "s3://site-logs/cf/good.gz"),
                         ("ingested", "s3://site-logs/cf/good.gz")]
    errors = sorted(f.error for f in summary.files if f.status == "failed")
    assert "PreconditionFailed" in errors[1] and "NoSuchKey" in errors[0]


def test_a_fixed_object_clears_its_failure_record_on_s3(aws, tmp_path):
    logs = tmp_path / "logs"
    generate(logs, days=1, end=dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1), seed=7,
             visitors_per_day=5)
    s3 = boto3.client("s3")
    s3.put_object(Bucket="site-logs", Key="fix/E2EXAMPLE.log.gz", Body=b"not gzip\n")
    settings = Settings.from_env(warehouse="s3://site-logs/wh", progress=False)

    def failure_records() -> list[str]:
        listed = s3.list_objects_v2(Bucket="site-logs", Prefix="wh/_ledger/failed-").get("Contents", [])
        return [o["Key"] for o in listed]

    assert ingest(["s3://site-logs/fix/"], settings=settings).count("failed") == 1
    assert len(failure_records()) == 1
    s3.upload_file(str(sorted(logs.glob("*.gz"))[0]), "site-logs", "fix/E2EXAMPLE.log.gz")  # fixed: a new ETag
    assert ingest(["s3://site-logs/fix/"], settings=settings).count("ingested") == 1
    assert failure_records() == []
