"""The ingest Lambda handler fed real S3 event notifications: moto's S3 sends them to moto's SQS queue (real
event shapes, real HTTP), the test receives the messages and hands them to the handler as the Lambda SQS event
source would. Redelivery changes nothing; an unreadable object fails only its own SQS record."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import unquote_plus

import boto3
import pandas as pd
import pytest
from aws_support import lake_state, request_log  # noqa: F401 (a fixture)

from stats_lib import query
from stats_lib.aws import handlers
from stats_lib.config import Settings
from stats_lib.ingest import ingest
from stats_lib.samples import generate


@pytest.fixture
def notifications(aws, monkeypatch):
    """Buckets ``cf-logs`` (notifying an SQS queue of every object created under cloudfront/) and ``lake``, the
    function's environment pointing at s3://lake/warehouse, and a function returning the next SQS batch as the
    Lambda event the SQS event source mapping delivers."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    for bucket in ("cf-logs", "lake"):
        s3.create_bucket(Bucket=bucket)
    queue = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket="cf-logs", NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "cloudfront/"}]}}}]})
    monkeypatch.setenv("SITE_STATS_WAREHOUSE", "s3://lake/warehouse")
    monkeypatch.setenv("SITE_STATS_DATABASE", "site_stats")

    def batch() -> dict:
        messages = []
        while received := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                              AttributeNames=["All"]).get("Messages"):
            messages += received
            for m in received:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1",
        } for m in messages]}

    return s3, batch


def _objects_named(event: dict) -> dict[str, list[str]]:
    """SQS message id -> the keys its S3 event names (URL-encoded in the event; moto's s3:TestEvent names none)."""
    return {r["messageId"]: [unquote_plus(x["s3"]["object"]["key"]) for x in json.loads(r["body"]).get("Records", [])]
            for r in event["Records"]}


def test_same_batch_twice_then_a_batch_with_one_unreadable_object(notifications, tmp_path, request_log, capsys):
    s3, batch = notifications
    logs = tmp_path / "logs"
    generate(logs, days=2, end=dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1), seed=5,
             visitors_per_day=25)
    files = sorted(logs.glob("*.gz"))
    first_files, later_files = files[:5], files[5:]
    for f in first_files:
        s3.upload_file(str(f), "cf-logs", f"cloudfront/{f.name}")
    event = batch()
    named = _objects_named(event)
    assert sorted(k for keys in named.values() for k in keys) == sorted(f"cloudfront/{f.name}" for f in first_files)

    local = Settings.from_env(warehouse=str(tmp_path / "local"), progress=False)
    expected_events = ingest([str(f) for f in first_files], settings=local).events
    lake = Settings.from_env(warehouse="s3://lake/warehouse", progress=False)

    assert handlers.ingest_sqs(event, None) == {"batchItemFailures": []}
    first_log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (first_log["ingested"], first_log["events"]) == (len(first_files), expected_events)
    pd.testing.assert_frame_equal(query("daily", settings=lake), query("daily", settings=local))
    state = lake_state(s3)

    request_log.lines.clear()
    assert handlers.ingest_sqs(event, None) == {"batchItemFailures": []}  # SQS redelivered the same batch
    again_log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (again_log["ingested"], again_log["already_ingested"], again_log["events"]) == (0, len(first_files), 0)
    assert request_log.get_objects("cf-logs") == []
    assert lake_state(s3) == state

    # a batch with one object that cannot be read (not gzip although named .gz) among good ones
    s3.put_object(Bucket="cf-logs", Key="cloudfront/E2EXAMPLE.broken.gz", Body=b"not gzip at all\n" * 4)
    for f in later_files:
        s3.upload_file(str(f), "cf-logs", f"cloudfront/{f.name}")
    event = batch()
    named = _objects_named(event)
    broken = [m for m, keys in named.items() if keys == ["cloudfront/E2EXAMPLE.broken.gz"]]
    assert len(broken) == 1
    result = handlers.ingest_sqs(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": broken[0]}]}
    mixed_log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    later_events = ingest([str(f) for f in later_files], settings=local).events
    assert (mixed_log["ingested"], mixed_log["events"], len(mixed_log["failed"])) == (
        len(later_files), later_events, 1)
    assert mixed_log["failed"][0].startswith("s3://cf-logs/cloudfront/E2EXAMPLE.broken.gz: format not recognised")
    pd.testing.assert_frame_equal(query("daily", settings=lake), query("daily", settings=local))
    with capsys.disabled():
        print(f"\n[lambda] batch 1: {first_log}\n[lambda] redelivered: {again_log}, GetObject 0\n"
              f"[lambda] mixed batch: {mixed_log}, batchItemFailures={result['batchItemFailures']}")


def test_a_message_that_is_not_an_s3_event_fails_alone(notifications):
    _, batch = notifications
    event = {"Records": [{"messageId": "m-1", "body": "{not json"},
                         {"messageId": "m-2", "body": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})}]}
    assert handlers.ingest_sqs(event, None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_cleanup_deletes_salts_past_the_window(notifications):
    s3, _ = notifications
    old = (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=10)).isoformat()
    s3.put_object(Bucket="lake", Key=f"warehouse/_salts/{old}.key", Body=b"00" * 32)
    assert handlers.cleanup({}, None) == {"salts_deleted": [old]}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="warehouse/_salts/")["Contents"]]
    assert keys == [f"warehouse/_salts/{old}.deleted"]


def test_geolocation_database_is_fetched_from_s3_once(notifications, corpora, tmp_path):
    s3, _ = notifications
    mmdb = corpora / "maxmind-db-test-data" / "GeoLite2-City-Test.mmdb"
    s3.upload_file(str(mmdb), "lake", "geoip/city.mmdb")
    settings = Settings.from_env(progress=False).with_(geoip_s3_uri="s3://lake/geoip/city.mmdb")
    local = handlers.with_geoip(settings, folder=str(tmp_path))
    assert local.geoip_db == str(tmp_path / "site-stats-geoip.mmdb")
    assert (tmp_path / "site-stats-geoip.mmdb").read_bytes() == mmdb.read_bytes()
    s3.delete_object(Bucket="lake", Key="geoip/city.mmdb")  # a warm container does not fetch it again
    assert handlers.with_geoip(settings, folder=str(tmp_path)).geoip_db == local.geoip_db
