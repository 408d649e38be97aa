"""Lambda entry points (named in the contract): thin adapters from AWS events to the library.

- ``ingest_sqs``: S3 object-created notifications delivered through SQS. Each SQS record carries one S3 event
  whose records name objects (bucket, key, ETag); all the batch's objects are ingested with the same code as
  ``site-stats ingest`` (``stats_lib.ingest.ingest``), into the warehouse and database of the function's
  environment (``SITE_STATS_WAREHOUSE``, ``SITE_STATS_DATABASE``, through ``Settings``). Objects are skipped by
  their (bucket, key, ETag) ledger key, so a redelivered message changes nothing. Only the SQS records whose
  objects failed are returned in ``batchItemFailures`` (the event source mapping must enable
  ``ReportBatchItemFailures``), so SQS retries those alone and moves them to the dead-letter queue after the
  queue's ``maxReceiveCount``. On a warehouse of an older storage version every message fails, so nothing is
  written until ``site-stats upgrade`` has run (``warehouse.storage``); make the queue's ``maxReceiveCount`` and
  the dead-letter queue's retention cover the time an upgrade takes.
- ``collector``: the beacon collector behind a Lambda Function URL (``stats_lib.collector.lambda_app``).
- ``cleanup``: the daily schedule: deletes the salts of days past the retention window.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..config import Settings


def ingest_sqs(event: dict[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
    from ..ingest import ingest
    from ..sources.s3_objects import notified_object

    settings = with_geoip(Settings.from_env(progress=False))
    failed: list[str] = []
    wanted: dict[str, list] = {}  # SQS message id -> the objects its S3 event names
    for record in event.get("Records", []):
        message_id = record["messageId"]
        try:
            body = json.loads(record["body"])
            wanted[message_id] = [notified_object(r) for r in body.get("Records", [])  # s3:TestEvent has none
                                  if str(r.get("eventName", "")).startswith("ObjectCreated")]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            _log({"message": message_id, "error": f"not an S3 event notification: {exc!r}"[:300]})
            failed.append(message_id)
    objects = [obj for objs in wanted.values() for obj in objs]
    if objects:
        from ..warehouse.storage import UpgradeRequired, ensure_current

        try:  # never a rewrite of the whole warehouse here: that is site-stats upgrade's work
            ensure_current(settings, rewrite=False)
        except UpgradeRequired as exc:  # every message comes back after its visibility timeout
            _log({"objects": len(objects), "error": str(exc)})
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event.get("Records", [])]}
        # rollups=False: the package carries no DuckDB (Lambda's size limit); queries stay exact without rollups
        summary = ingest([], objects=objects, settings=settings, progress=False, rollups=False)
        broken = {f.path: f.error for f in summary.files if f.status == "failed"}
        for message_id, objs in wanted.items():
            if any(obj.uri in broken for obj in objs):
                failed.append(message_id)
        _log({"objects": len(objects), "ingested": summary.count("ingested"),
              "already_ingested": summary.count("already ingested"), "failed": sorted(broken.values()),
              "events": summary.events, "rejected": summary.rejected})
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}


def collector(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The collector's Lambda Function URL handler (built in ``stats_lib.collector.lambda_app``)."""
    from ..collector.lambda_app import handler

    return handler(event, context)


def cleanup(event: dict[str, Any] | None = None, context: Any = None) -> dict[str, Any]:
    """Delete the salts of days past the retention window (``SITE_STATS_SALT_RETENTION_DAYS``)."""
    from ..warehouse.s3 import S3Warehouse

    settings = Settings.from_env(progress=False)
    removed = S3Warehouse(settings).salt_store().purge()
    _log({"salts_deleted": removed})
    return {"salts_deleted": removed}


def with_geoip(settings: Settings, folder: str = "/tmp") -> Settings:
    """The settings with ``geoip_db`` set to a local copy of ``SITE_STATS_GEOIP_S3_URI`` (downloaded on a
    container's first invocation; Lambda keeps /tmp between invocations of the same container)."""
    if settings.geoip_db or not settings.geoip_s3_uri:
        return settings
    from pathlib import Path

    from ..aws.session import session
    from .session import split_uri

    bucket, key = split_uri(settings.geoip_s3_uri)
    local = Path(folder) / "site-stats-geoip.mmdb"
    if not local.is_file():
        partial = local.with_name(local.name + ".part")
        session(settings).client("s3").download_file(bucket, key, str(partial))
        partial.replace(local)
    return settings.with_(geoip_db=str(local))


def _log(fields: dict[str, Any]) -> None:
    """One JSON line for CloudWatch Logs (no client IP is ever in it: only counts, URIs and reasons)."""
    print(json.dumps(fields, sort_keys=True), file=sys.stdout, flush=True)
