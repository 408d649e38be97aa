"""``make lambda`` builds the deployment package from the package index for Lambda's platform; the handler is
imported from the built package alone (``python -S``: no site-packages, so nothing comes from this venv) and
ingests a real log object from moto's S3 with it, counting what the venv's own ingest counts. Slow (it downloads
~70 MB of wheels) but part of ``make test``."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from stats_lib.config import Settings
from stats_lib.ingest import ingest
from stats_lib.samples import generate

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "build" / "lambda"
LIMIT_BYTES = 262_144_000  # Lambda's documented limit: 250 MB (MiB) unzipped

IN_PACKAGE = """
import json, sys
import stats_lib.aws.handlers as handlers
import stats_lib.collector.lambda_app
import awswrangler, boto3, numpy, pandas, pyarrow, stats_lib
outside = [m.__name__ for m in (handlers, awswrangler, boto3, numpy, pandas, pyarrow, stats_lib)
           if not m.__file__.startswith(sys.argv[1])]
assert not outside, outside
event = json.loads(sys.stdin.read())
print(json.dumps({"result": handlers.ingest_sqs(event, None), "pandas": pandas.__version__}))
"""


@pytest.fixture(scope="module")
def built():
    # -o: the venv is the one running this test; make must not reinstall it from under the test run
    proc = subprocess.run(["make", "-o", ".venv/.installed", "lambda"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print("\n" + "\n".join(line for line in proc.stdout.splitlines() if line.startswith("lambda:")))
    return proc.stdout


def test_package_is_under_the_limit_and_zipped(built):
    size = sum(p.stat().st_size for p in PACKAGE.rglob("*") if p.is_file() and not p.is_symlink())
    assert 50_000_000 < size <= LIMIT_BYTES
    assert f"is {size / 1e6:.1f} MB unzipped" in built
    assert (REPO / "build" / "lambda.zip").stat().st_size > 10_000_000
    assert not any(PACKAGE.glob("jupyter*")) and not any(PACKAGE.glob("matplotlib*"))


def test_handler_from_the_package_alone_ingests_an_object(built, aws, tmp_path):
    logs = tmp_path / "logs"
    generate(logs, days=1, end=dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1), seed=8,
             visitors_per_day=15)
    log = sorted(logs.glob("*.gz"))[0]
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake")
    s3.upload_file(str(log), "site-logs", f"cloudfront/{log.name}")
    head = s3.head_object(Bucket="site-logs", Key=f"cloudfront/{log.name}")
    record = {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
              "s3": {"bucket": {"name": "site-logs"}, "object": {
                  "key": f"cloudfront/{log.name}", "size": head["ContentLength"], "eTag": head["ETag"].strip('"')}}}
    event = {"Records": [{"messageId": "m-1", "body": json.dumps({"Records": [record]}), "eventSource": "aws:sqs"}]}
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(PACKAGE),
           "SITE_STATS_WAREHOUSE": "s3://lake/warehouse", "SITE_STATS_PROGRESS": "0", **aws}
    proc = subprocess.run([sys.executable, "-S", "-c", IN_PACKAGE, str(PACKAGE)], input=json.dumps(event),
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    out, log_line = json.loads(lines[-1]), json.loads(lines[-2])
    assert out["result"] == {"batchItemFailures": []}
    expected = ingest([str(log)], settings=Settings.from_env(warehouse=str(tmp_path / "local"), progress=False))
    assert (log_line["ingested"], log_line["events"]) == (1, expected.events)
    print(f"\n[lambda package] pandas {out['pandas']}: {log_line}")
