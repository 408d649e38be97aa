"""The S3 lake and Athena against a real AWS account. Runs only when asked: ``SITE_STATS_AWS_TESTS=1``, AWS
credentials, a region, and ``SITE_STATS_AWS_TEST_BUCKET`` (a bucket of yours in that region); otherwise it is
skipped with the reason. It writes under a fresh prefix and a throwaway Glue database, and deletes both after.
Athena bills the queries (a few times the 10 MB minimum: well under a cent)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import boto3
import pytest

from stats_lib import query
from stats_lib.config import Settings
from stats_lib.ingest import ingest
from stats_lib.samples import generate


@pytest.fixture
def real_aws():
    if os.environ.get("SITE_STATS_AWS_TESTS") != "1":
        pytest.skip("real-AWS tests are opt-in: set SITE_STATS_AWS_TESTS=1 and SITE_STATS_AWS_TEST_BUCKET")
    if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3"):
        pytest.skip("AWS_ENDPOINT_URL points at an emulator, not at AWS")
    aws = boto3.Session()
    if aws.get_credentials() is None or not aws.region_name:
        pytest.skip("no AWS credentials or region in this environment")
    bucket = os.environ.get("SITE_STATS_AWS_TEST_BUCKET")
    if not bucket:
        pytest.skip("set SITE_STATS_AWS_TEST_BUCKET to a bucket of yours for the real-AWS tests")
    run = uuid.uuid4().hex[:12]
    prefix, database = f"site-stats-test/{run}", f"site_stats_test_{run}"
    yield aws, bucket, prefix, database
    s3 = aws.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    glue = aws.client("glue")
    for name in ("events", "rejects"):
        try:
            glue.delete_table(DatabaseName=database, Name=name)
        except glue.exceptions.EntityNotFoundException:
            pass
    try:
        glue.delete_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        pass


def test_round_trip_on_aws_duckdb_and_athena_agree(real_aws, tmp_path):
    aws, bucket, prefix, database = real_aws
    logs = tmp_path / "logs"
    generate(logs, days=1, end=dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1), seed=2,
             visitors_per_day=20)
    s3 = aws.client("s3")
    for f in sorted(logs.glob("*.gz")):
        s3.upload_file(str(f), bucket, f"{prefix}/logs/{f.name}")
    settings = Settings.from_env(warehouse=f"s3://{bucket}/{prefix}/wh", database=database, progress=False,
                                 athena_output=f"s3://{bucket}/{prefix}/athena/")
    first = ingest([f"s3://{bucket}/{prefix}/logs/"], settings=settings)
    assert first.count("ingested") == len(list(logs.glob("*.gz"))) and first.events > 0
    again = ingest([f"s3://{bucket}/{prefix}/logs/"], settings=settings)
    assert again.events == 0 and again.count("already ingested") == first.count("ingested")
    duck = query("daily", settings=settings)
    athena = query("daily", engine="athena", settings=settings)
    assert athena.to_dict(orient="records") == duck.to_dict(orient="records")
