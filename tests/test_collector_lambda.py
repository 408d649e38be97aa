"""The collector on AWS, against moto's Firehose and S3 in server mode (real HTTP, real boto3 clients): Function URL
events through the Lambda handler are acknowledged by Firehose, delivered to the lake bucket, and turned into
StoredEvents exactly once by the scheduled step, even when it runs twice or dies before deleting the deliveries."""

from __future__ import annotations

import base64
import json

import boto3
import pyarrow.parquet as pq
import pytest
from collector_support import CHROME_UA

LAKE = "site-lake"
WAREHOUSE = f"s3://{LAKE}/warehouse"
DELIVERIES = f"{LAKE}/warehouse/_firehose"


def function_url_event(body: bytes | str, *, source_ip: str, user_agent: str = CHROME_UA, path: str = "/api/event",
                       method: str = "POST", content_type: str = "text/plain;charset=UTF-8", base64_body=False,
                       headers: dict | None = None) -> dict:
    """A Lambda Function URL request (payload format 2.0), as AWS sends it."""
    raw = body.encode() if isinstance(body, str) else body
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": content_type, "user-agent": user_agent, "host": "abc.lambda-url.us-east-1.on.aws",
                    "content-length": str(len(raw)), **(headers or {})},
        "requestContext": {"accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
                           "domainPrefix": "abc", "requestId": "r", "routeKey": "$default", "stage": "$default",
                           "time": "01/Dec/2026:10:00:00 +0000", "timeEpoch": 0,
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                                    "userAgent": user_agent}},
        "body": base64.b64encode(raw).decode() if base64_body else raw.decode(),
        "isBase64Encoded": base64_body,
    }


@pytest.fixture
def lake(aws, monkeypatch, corpora):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=LAKE)
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="firehose", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName="collector", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": f"arn:aws:s3:::{LAKE}",
                                            "Prefix": "warehouse/_firehose/",
                                            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1}})
    env = {"SITE_STATS_WAREHOUSE": WAREHOUSE, "SITE_STATS_SITES": "example.com",
           "SITE_STATS_COLLECTOR_FIREHOSE_STREAM": "collector", "SITE_STATS_COLLECTOR_DELIVERIES": f"s3://{DELIVERIES}",
           "SITE_STATS_GEOIP_DB": str(corpora / "maxmind-db-test-data" / "GeoIP2-City-Test.mmdb"),
           "SITE_STATS_PROGRESS": "0"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from stats_lib.collector import lambda_app

    lambda_app._adapter.cache_clear()
    yield s3
    lambda_app._adapter.cache_clear()


def _stored(s3) -> list[dict]:
    import io

    rows = []
    for item in s3.list_objects_v2(Bucket=LAKE, Prefix="warehouse/events/").get("Contents", []):
        data = s3.get_object(Bucket=LAKE, Key=item["Key"])["Body"].read()
        rows += pq.read_table(io.BytesIO(data)).to_pylist()
    return sorted(rows, key=lambda r: (r["ts"], r["path"]))


def _deliveries(s3) -> list[str]:
    return [i["Key"] for i in s3.list_objects_v2(Bucket=LAKE, Prefix="warehouse/_firehose/").get("Contents", [])]


def test_events_through_the_lambda_handler_end_as_stored_events_exactly_once(lake):
    from stats_lib.collector.lambda_app import deliveries, handler

    answers = []
    for i, path in enumerate(["/", "/pricing", "/pricing"]):
        body = json.dumps({"name": "pageview", "url": f"https://example.com{path}", "props": {"i": i}})
        answers.append(handler(function_url_event(body, source_ip="81.2.69.142", base64_body=i == 1), None))
    custom = json.dumps({"name": "signup", "url": "https://example.com/pricing", "props": {"plan": "pro"}})
    answers.append(handler(function_url_event(custom, source_ip="89.160.20.112",
                                              content_type="application/json"), None))
    bot = json.dumps({"name": "pageview", "url": "https://example.com/"})
    answers.append(handler(function_url_event(bot, source_ip="81.2.69.142", user_agent="curl/8.5.0"), None))
    refused = handler(function_url_event(json.dumps({"name": "pageview", "url": "https://evil.test/"}),
                                         source_ip="81.2.69.142"), None)
    unsigned = handler(function_url_event(json.dumps({"name": "pageview", "url": "https://example.com/",
                                                      "ip": "1.2.3.4"}), source_ip="81.2.69.142"), None)
    assert [a["statusCode"] for a in answers] == [202] * 5
    assert (refused["statusCode"], unsigned["statusCode"]) == (403, 400)
    delivered = _deliveries(lake)
    assert delivered  # Firehose delivered the acknowledged records to the lake bucket
    for key in delivered:
        assert b"81.2.69.142" not in lake.get_object(Bucket=LAKE, Key=key)["Body"].read()  # enriched before sending

    first = deliveries({}, None)
    assert first["events"] == 4 and first["dropped"] == 1 and first["converted"] == len(delivered)
    rows = _stored(lake)
    assert [(r["event_name"], r["path"]) for r in rows] == [
        ("pageview", "/"), ("pageview", "/pricing"), ("pageview", "/pricing"), ("signup", "/pricing")]
    assert {r["source"] for r in rows} == {"collector"}
    # SOURCE.md of the MaxMind test data: 81.2.69.142 -> GB London; 89.160.20.112 -> SE Linköping
    assert [(r["country_code"], r["city"]) for r in rows] == [("GB", "London")] * 3 + [("SE", "Linköping")]
    assert {r["ip_prefix"] for r in rows} == {"81.2.69.0/24", "89.160.20.0/24"}
    assert len({r["visitor_id"] for r in rows[:3]}) == 1 and rows[3]["visitor_id"] != rows[0]["visitor_id"]
    assert _deliveries(lake) == []  # converted deliveries are deleted once their StoredEvents are up

    again = deliveries({}, None)
    assert again["converted"] == 0 and again["events"] == 0
    assert len(_stored(lake)) == 4


def test_a_conversion_that_died_before_deleting_is_not_counted_twice(lake):
    from stats_lib.collector.lambda_app import deliveries, handler

    body = json.dumps({"name": "pageview", "url": "https://example.com/once"})
    assert handler(function_url_event(body, source_ip="81.2.69.142"), None)["statusCode"] == 202
    kept = {key: lake.get_object(Bucket=LAKE, Key=key)["Body"].read() for key in _deliveries(lake)}
    deliveries({}, None)
    for key, data in kept.items():  # as if the step died after its ledger records, before deleting
        lake.put_object(Bucket=LAKE, Key=key, Body=data)
    again = deliveries({}, None)
    assert again["already"] == len(kept) and again["converted"] == 0
    assert [r["path"] for r in _stored(lake)] == ["/once"]
    assert _deliveries(lake) == []


def test_the_tracker_and_health_are_served_by_the_function_url(lake):
    from stats_lib.collector.lambda_app import handler

    script = handler(function_url_event("", source_ip="81.2.69.142", path="/js/script.js", method="GET"), None)
    assert script["statusCode"] == 200 and script["headers"]["content-type"].startswith("application/javascript")
    health = handler(function_url_event("", source_ip="81.2.69.142", path="/health", method="GET"), None)
    assert health["statusCode"] == 200 and json.loads(health["body"])["status"] == "ok"


def test_the_template_wires_the_collector_to_firehose_and_the_schedule():
    import importlib

    from test_deploy import _template

    resources = _template()["Resources"]
    function = resources["CollectorFunction"]["Properties"]
    assert function["Handler"] == "stats_lib.aws.handlers.collector"
    assert resources["CollectorFunctionUrl"]["Properties"]["AuthType"] == "NONE"
    stream = resources["CollectorDeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    deliveries = resources["CollectorDeliveriesFunction"]["Properties"]
    assert deliveries["Environment"]["Variables"]["SITE_STATS_COLLECTOR_DELIVERIES"].endswith(
        stream["Prefix"].rstrip("/"))  # the converter reads where Firehose delivers
    for handler in (function["Handler"], deliveries["Handler"]):
        module, name = handler.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))
