"""Storage version 2 (64-bit visitor ids) and the upgrade of a warehouse of version 1 (text ids).

A version-1 warehouse is made as site-stats wrote it before: each event file's ids replaced by the keyed BLAKE2b
hex digest of the line's own (site, ip, user agent) under the day's salt, computed here with ``hashlib`` from the
log the test wrote (``test_visitor_ids.version_1_id``), and no ``_storage.json``. Upgraded, it must hold row for
row what the current code writes for the same logs, and a day ingested partly before the upgrade and partly after
must count each visitor once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import shutil
from pathlib import Path

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from conftest import run_cli
from hypothesis import given
from hypothesis import strategies as st
from test_visitor_ids import version_1_id

from stats_lib import query
from stats_lib.api import QuerySession
from stats_lib.aws import handlers
from stats_lib.collector.store import from_rows
from stats_lib.config import Settings
from stats_lib.ingest import ingest
from stats_lib.schema import STORED_SCHEMA
from stats_lib.warehouse import rollups, storage
from stats_lib.warehouse.rollups import Store
from stats_lib.warehouse.storage import from_text

DAY = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)  # inside the salt window
SITES = ["example.com", "shop.example.com", "blog.example.org"]


def _logs(folder: Path) -> dict[tuple[str, int], tuple[str, str, str]]:
    """Two vhost_combined logs of the same day and the same 150 visitors (first.log, second.log, 1,200 lines each);
    (file name, line number) -> the line's (site, ip, ua)."""
    rng = random.Random(20261202)
    visitors = [(rng.choice(SITES), f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
                 f"Mozilla/5.0 (X11; Linux x86_64) Firefox/{rng.randrange(100, 130)}.0") for _ in range(150)]
    truth = {}
    folder.mkdir(parents=True, exist_ok=True)
    stamp = DAY.strftime("%d/%b/%Y")
    for name, hour in (("first.log", 9), ("second.log", 15)):
        lines = []
        for n in range(1, 1201):
            site, ip, ua = rng.choice(visitors)
            lines.append(f'{site}:443 {ip} - - [{stamp}:{hour + n // 600:02d}:{n // 10 % 60:02d}:{n % 60:02d} +0000] '
                         f'"GET /p{rng.randrange(40)} HTTP/1.1" 200 512 "-" "{ua}"')
            truth[(name, n)] = (site, ip, ua)
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return truth


def _salt(warehouse: Path, day: str) -> bytes:
    return bytes.fromhex((warehouse / "_salts" / f"{day}.key").read_text().strip())


def _as_version_1(table: pa.Table, salt: bytes, truth: dict) -> pa.Table:
    """The table with the ids site-stats wrote before storage version 2: 32 hex digits."""
    ids = [version_1_id(salt, *truth[(f, n)]) for f, n in zip(table["source_file"].to_pylist(),
                                                              table["line_number"].to_pylist())]
    index = table.schema.get_field_index("visitor_id")
    return table.set_column(index, pa.field("visitor_id", pa.string()), pa.array(ids, pa.string()))


def _make_version_1(warehouse: Path, truth: dict) -> None:
    """Every file with text ids; the second with a dictionary of them, as other writers (pandas, pyarrow with
    dictionary arrays, our own synthetic bench warehouse before) store text."""
    for n, path in enumerate(sorted((warehouse / "events").glob("dt=*/*.parquet"))):
        salt = _salt(warehouse, path.parent.name[3:])
        table = _as_version_1(pq.read_table(path), salt, truth)
        if n == 1:
            index = table.schema.get_field_index("visitor_id")
            table = table.set_column(index, "visitor_id", table["visitor_id"].dictionary_encode())
            assert pa.types.is_dictionary(pq.read_schema(pa.BufferReader(_parquet_bytes(table))).field("visitor_id").type)
        pq.write_table(table, path, compression="zstd")
    (warehouse / storage.MARKER).unlink()
    assert rollups.rebuild(str(warehouse)).days == [DAY.isoformat()]  # the rollups built from these files


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _events(warehouse: Path) -> pa.Table:
    table = ds.dataset(warehouse / "events", format="parquet", partitioning="hive").to_table()
    return table.sort_by([("source_file", "ascending"), ("line_number", "ascending")])


def _settings(warehouse: Path) -> Settings:
    return Settings.from_env(warehouse=str(warehouse), progress=False)


def _distinct_visitors(truth: dict, files: tuple[str, ...]) -> int:
    return len({who for (name, _), who in truth.items() if name in files})


def test_a_day_ingested_across_the_upgrade_counts_each_visitor_once(tmp_path):
    logs = tmp_path / "logs"
    truth = _logs(logs)
    current, old = tmp_path / "current", tmp_path / "old"
    run_cli("ingest", str(logs / "first.log"), "--warehouse", str(current))
    shutil.copytree(current, old)  # the same salts: the same visitors get the same ids
    assert json.loads((current / storage.MARKER).read_text()) == {"version": 2}
    assert _events(current).schema.field("visitor_id").type == pa.int64()
    _make_version_1(old, truth)

    refused = run_cli("query", "daily", "--warehouse", str(old), check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 1 and "run: site-stats upgrade --warehouse" in refused.stderr

    # the rest of the day arrives after the upgrade: ingest upgrades first, then writes
    for wh in (current, old):
        run_cli("ingest", str(logs / "second.log"), "--warehouse", str(wh))
    assert json.loads((old / storage.MARKER).read_text()) == {"version": 2}
    got, want = _events(old), _events(current)
    assert got.schema == want.schema and got.num_rows == want.num_rows == 2400
    assert got.equals(want)  # every column, visitor ids included, row for row

    for name in ("daily", "top_pages", "entry_pages", "referrers"):
        pd.testing.assert_frame_equal(query(name, settings=_settings(old)), query(name, settings=_settings(current)))
    daily = query("daily", settings=_settings(old))
    assert daily["visitors"].tolist() == [_distinct_visitors(truth, ("first.log", "second.log"))]
    assert 100 < daily["visitors"][0] < daily["pageviews"][0]


def _both_logs_twice(tmp_path: Path) -> tuple[Path, Path]:
    """(a warehouse of both logs, its copy made version 1): the same salts, so the same visitors' ids."""
    logs = tmp_path / "logs"
    truth = _logs(logs)
    current, old = tmp_path / "current", tmp_path / "old"
    run_cli("ingest", str(logs / "first.log"), str(logs / "second.log"), "--warehouse", str(current))
    shutil.copytree(current, old)
    _make_version_1(old, truth)
    return current, old


def test_upgrade_converts_finishes_an_interrupted_run_and_rebuilds_rollups(tmp_path):
    current, old = _both_logs_twice(tmp_path)
    files = storage.event_files(Store.for_warehouse(str(old)))
    assert len(files) == 2
    # an upgrade killed after its first file: that file is converted, the marker not written
    with pytest.raises(storage.UpgradeRequired):
        storage.check_readable(_settings(old))
    assert storage._convert(Store.for_warehouse(str(old)), files[0], tmp_path).rows == 1200
    with pytest.raises(storage.UpgradeRequired):
        storage.check_readable(_settings(old))

    done = run_cli("upgrade", "--warehouse", str(old))
    assert "1 event file(s) with 1200 events converted, 1 already converted" in done.stdout
    assert "the rollups of 0 day(s) kept" in done.stdout  # the first file's old ids are gone: not provable
    assert "rollups rebuilt for 1 day(s)" in done.stdout
    assert _events(old).equals(_events(current))
    metadata = pq.ParquetFile(files[1]).metadata  # written as ingest writes: no min/max for the ids
    column = metadata.schema.names.index("visitor_id")
    assert metadata.row_group(0).column(column).physical_type == "INT64"
    assert not metadata.row_group(0).column(column).is_stats_set
    for name in ("daily", "top_pages", "hourly", "countries"):
        pd.testing.assert_frame_equal(query(name, settings=_settings(old)), query(name, settings=_settings(current)))

    again = run_cli("upgrade", "--warehouse", str(old))
    assert again.stdout.strip() == "storage already at version 2: nothing to upgrade"


def _rollup_bytes(warehouse: Path) -> dict[str, bytes]:
    return {str(p.relative_to(warehouse)): p.read_bytes() for p in sorted((warehouse / "rollups").rglob("*.parquet"))}


def _plain(name: str, warehouse: Path) -> pd.DataFrame:
    with QuerySession(_settings(warehouse), rollups=False) as session:  # every figure from the events
        return session.query(name)


def test_an_upgrade_keeps_the_rollups_of_days_it_relabels_one_to_one(tmp_path):
    current, old = _both_logs_twice(tmp_path)
    parts = _rollup_bytes(old)
    done = run_cli("upgrade", "--warehouse", str(old))
    assert "2 event file(s) with 2400 events converted" in done.stdout
    assert "the rollups of 1 day(s) kept" in done.stdout and "rollups rebuilt for 0 day(s)" in done.stdout
    assert _rollup_bytes(old) == parts  # not one rollup written again
    state = rollups.RollupState.load(Store.for_warehouse(str(old)))
    assert state.stale_days() == [] and state.stale_months() == []
    for name in ("daily", "top_pages", "entry_pages", "referrers", "hourly"):
        kept = query(name, settings=_settings(old))
        pd.testing.assert_frame_equal(kept, query(name, settings=_settings(current)))
        pd.testing.assert_frame_equal(kept, _plain(name, old))


def test_a_day_where_two_old_ids_become_one_is_rebuilt(tmp_path):
    """Two visitors whose version-1 ids share their first 16 hex digits get one 64-bit id: that day's rollups,
    built with two, are not kept; rebuilt, they count what the events now hold."""
    logs = tmp_path / "logs"
    truth = _logs(logs)
    wh = tmp_path / "wh"
    run_cli("ingest", str(logs / "first.log"), "--warehouse", str(wh))
    salt = _salt(wh, DAY.isoformat())
    ids = {who: version_1_id(salt, *who) for who in truth.values()}
    a, b = sorted(i for who, i in ids.items() if who[0] == SITES[0])[:2]  # one site: visitors are counted per site
    clash = {a: a, b: a[:16] + b[16:]}  # b keeps its own second half: still another id in version 1
    truth_ids = {key: clash.get(ids[who], ids[who]) for key, who in truth.items()}
    path = next((wh / "events").glob("dt=*/*.parquet"))
    table = pq.read_table(path)
    keys = zip(table["source_file"].to_pylist(), table["line_number"].to_pylist())
    table = table.set_column(table.schema.get_field_index("visitor_id"), pa.field("visitor_id", pa.string()),
                             pa.array([truth_ids[k] for k in keys], pa.string()))
    pq.write_table(table, path)
    (wh / storage.MARKER).unlink()
    assert rollups.rebuild(str(wh)).days == [DAY.isoformat()]  # as the old code built them: a and b two visitors
    visitors_before = len({truth_ids[k] for k in truth if k[0] == "first.log"})  # every line is a pageview
    done = run_cli("upgrade", "--warehouse", str(wh))
    assert "the rollups of 0 day(s) kept" in done.stdout and "rollups rebuilt for 1 day(s)" in done.stdout
    after = query("daily", settings=_settings(wh))
    assert after["visitors"].tolist() == [visitors_before - 1]
    pd.testing.assert_frame_equal(after, _plain("daily", wh))


def test_a_warehouse_of_a_newer_version_is_refused(tmp_path):
    logs = tmp_path / "logs"
    _logs(logs)
    wh = tmp_path / "wh"
    run_cli("ingest", str(logs / "first.log"), "--warehouse", str(wh))
    (wh / storage.MARKER).write_text(json.dumps({"version": 3}))
    for args in (("query", "daily"), ("ingest", str(logs / "second.log"))):
        proc = run_cli(*args, "--warehouse", str(wh), check=False)
        assert proc.returncode == 2 and "storage version 3, written by a newer site-stats" in proc.stderr, args
        assert "Traceback" not in proc.stderr


@given(st.lists(st.binary(min_size=16, max_size=16) | st.none(), max_size=30))
def test_a_version_1_id_becomes_the_first_8_bytes_of_its_digest(digests):
    ids = pa.array([None if d is None else d.hex() for d in digests], pa.string())
    want = [None if d is None else int.from_bytes(d[:8], "big", signed=True) for d in digests]
    assert from_text(ids).to_pylist() == want


def test_other_text_ids_stay_distinct_and_repeatable():
    texts = ["a", "b", "A" * 32, "g" * 32, "0123456789abcdef0123456789ABCDEF", "a"]
    got = from_text(pa.array(texts)).to_pylist()
    assert got[0] == got[5] and len(set(got)) == 5
    assert got[0] == int.from_bytes(hashlib.blake2b(b"a", digest_size=8).digest(), "big", signed=True)


def test_a_collector_record_of_version_1_is_stored_with_its_64_bit_id():
    """A WAL segment or a Firehose delivery written before the upgrade holds text ids."""
    digest = hashlib.blake2b(b"x", digest_size=16).digest()
    row = {f.name: None for f in STORED_SCHEMA}
    row.update(ts=1_764_633_600_000, site="example.com", source="collector", visitor_id=digest.hex())
    table = from_rows([row])
    assert table["visitor_id"].to_pylist() == [int.from_bytes(digest[:8], "big", signed=True)]


# -- an S3 warehouse (moto server) ------------------------------------------------------------------------------
def _s3_as_version_1(s3, glue, truth: dict, salts: dict[str, bytes]) -> None:
    """What an S3 warehouse written before the upgrade holds: text ids in its objects and its Glue column."""
    listed = s3.list_objects_v2(Bucket="lake", Prefix="warehouse/events/")["Contents"]
    for item in listed:
        table = pq.read_table(pa.BufferReader(s3.get_object(Bucket="lake", Key=item["Key"])["Body"].read()))
        day = item["Key"].split("/dt=")[1][:10]
        s3.put_object(Bucket="lake", Key=item["Key"], Body=_parquet_bytes(_as_version_1(table, salts[day], truth)))
    table = glue.get_table(DatabaseName="site_stats", Name="events")["Table"]
    for column in table["StorageDescriptor"]["Columns"]:
        if column["Name"] == "visitor_id":
            column["Type"] = "string"
    glue.update_table(DatabaseName="site_stats", TableInput={
        k: table[k] for k in ("Name", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")})
    s3.delete_object(Bucket="lake", Key=f"warehouse/{storage.MARKER}")


def _visitor_column_type(glue) -> str:
    columns = glue.get_table(DatabaseName="site_stats", Name="events")["Table"]["StorageDescriptor"]["Columns"]
    return next(c["Type"] for c in columns if c["Name"] == "visitor_id")


def test_an_s3_warehouse_waits_in_lambda_and_is_upgraded_by_the_cli(aws, tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    truth = _logs(logs)
    s3, glue = boto3.client("s3"), boto3.client("glue")
    for bucket in ("lake", "cf-logs"):
        s3.create_bucket(Bucket=bucket)
    monkeypatch.setenv("SITE_STATS_WAREHOUSE", "s3://lake/warehouse")
    monkeypatch.setenv("SITE_STATS_DATABASE", "site_stats")
    lake = Settings.from_env(progress=False)
    local = _settings(tmp_path / "local")
    ingest([str(logs / "first.log")], settings=lake)
    assert _visitor_column_type(glue) == "bigint"
    salts = {DAY.isoformat(): bytes.fromhex(
        s3.get_object(Bucket="lake", Key=f"warehouse/_salts/{DAY.isoformat()}.key")["Body"].read().decode().strip())}
    _s3_as_version_1(s3, glue, truth, salts)
    assert _visitor_column_type(glue) == "string"

    s3.upload_file(str(logs / "second.log"), "cf-logs", "logs/second.log")
    etag = s3.head_object(Bucket="cf-logs", Key="logs/second.log")["ETag"]
    record = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "cf-logs"}, "object": {
        "key": "logs/second.log", "eTag": etag.strip('"'), "size": (logs / "second.log").stat().st_size}}}
    event = {"Records": [{"messageId": "m-1", "body": json.dumps({"Records": [record]})}]}
    before = {o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="warehouse/")["Contents"]}
    assert handlers.ingest_sqs(event, None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert {o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="warehouse/")["Contents"]} == before

    done = run_cli("upgrade", "--warehouse", "s3://lake/warehouse", env=aws)
    assert "1 event file(s) with 1200 events converted" in done.stdout
    assert _visitor_column_type(glue) == "bigint"
    assert handlers.ingest_sqs(event, None) == {"batchItemFailures": []}  # SQS delivered it again

    # the lake now holds what the current code writes for the same logs, day counted once
    # (the same salt: the local warehouse gets a copy of the lake's)
    (tmp_path / "local" / "_salts").mkdir(parents=True)
    (tmp_path / "local" / "_salts" / f"{DAY.isoformat()}.key").write_text(salts[DAY.isoformat()].hex())
    ingest([str(logs / "first.log"), str(logs / "second.log")], settings=local)
    pd.testing.assert_frame_equal(query("daily", settings=lake), query("daily", settings=local))
    assert query("daily", settings=lake)["visitors"].tolist() == [_distinct_visitors(truth, ("first.log", "second.log"))]
    shutil.rmtree(tmp_path / "local")
