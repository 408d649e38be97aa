"""The collector on AWS: enriched events to Kinesis Data Firehose, and Firehose's deliveries into StoredEvents.

In Lambda the same ASGI application answers 202 once Firehose has acknowledged the event's records (Firehose
stores them durably and delivers them to the lake bucket in batches). Events are enriched in the function,
before they leave it, so no raw IP is ever sent or delivered: a record is one JSON line, ``{"event": {...}}`` (a
StoredEvent row) or ``{"dropped": {...}}`` (a bot, kept as a reject). A scheduled step (``convert_deliveries``)
turns each delivered object into StoredEvent Parquet exactly once: deterministic names from the object's key
and ETag, the ledger record written after the data, the delivered object deleted last.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pyarrow as pa

from ..config import Settings
from ..errors import UserError
from ..warehouse.local import LocalWarehouse
from ..warehouse.storage import ensure_current
from .sinks import commit
from .store import MAX_REJECT_LINE, Enricher, from_rows, mask_ips, to_rows
from .wal import GroupCommit

MAX_RECORDS = 500  # Firehose PutRecordBatch: at most 500 records (and 4 MiB) a call
ATTEMPTS = 4


class FirehoseSink:
    """Enrich a batch of accepted events and put its records to a Firehose delivery stream."""

    def __init__(self, settings: Settings, *, client=None, salts=None) -> None:
        if not settings.collector_firehose_stream:
            raise UserError("no Firehose delivery stream", "set SITE_STATS_COLLECTOR_FIREHOSE_STREAM")
        self.stream = settings.collector_firehose_stream
        if client is None or salts is None:
            from ..warehouse.s3 import S3Warehouse

            house = S3Warehouse(settings)
            client = client or house.aws.client("firehose")
            salts = salts or house.salt_store()
        self.client = client
        self.enricher = Enricher(settings, salts=salts)
        self.commit = GroupCommit(self._send)
        self.sent = 0
        self.error: str | None = None

    def start(self) -> None:
        """Nothing to recover: Firehose holds what it acknowledged."""
        self.enricher.warm_up()

    def stop(self) -> None:
        """Nothing buffered here: every answered event was acknowledged by Firehose."""

    @property
    def healthy(self) -> bool:
        return self.error is None

    def counters(self) -> dict:
        return {"sent": self.sent, "error": self.error}

    async def submit(self, row: dict) -> None:
        await self.commit.submit(row)

    def _send(self, rows: list[dict]) -> None:
        """On the writer thread: enrich the batch (the raw IP stays here), encode its records and put them; line
        numbers are set on conversion."""
        batch = self.enricher.enrich(rows, "firehose")
        records = [json.dumps({"event": row}, separators=(",", ":")).encode() + b"\n" for row in to_rows(batch.events)]
        records += [json.dumps({"dropped": d}, separators=(",", ":")).encode() + b"\n" for d in batch.dropped]
        for start in range(0, len(records), MAX_RECORDS):
            self._put(records[start : start + MAX_RECORDS])
        self.sent += batch.events.num_rows

    def _put(self, records: list[bytes]) -> None:
        """Put records, retrying the ones Firehose refused; raise when some never got in."""
        pending = records
        for attempt in range(ATTEMPTS):
            answer = self.client.put_record_batch(DeliveryStreamName=self.stream,
                                                  Records=[{"Data": data} for data in pending])
            if not answer.get("FailedPutCount"):
                self.error = None
                return
            pending = [data for data, result in zip(pending, answer["RequestResponses"]) if result.get("ErrorCode")]
            time.sleep(0.05 * 2**attempt)
        self.error = f"Firehose refused {len(pending)} records {ATTEMPTS} times"
        raise OSError(self.error)


@dataclass
class Conversion:
    """What ``convert_deliveries`` did."""

    objects: int = 0
    converted: int = 0
    already: int = 0
    events: int = 0
    dropped: int = 0
    damaged_lines: int = 0
    names: list[str] = field(default_factory=list)


def delivery_name(bucket: str, key: str, etag: str) -> str:
    """The warehouse name of one delivered object: the same object always gets the same name."""
    digest = hashlib.sha256(f"{bucket}/{key}\x00{etag.strip(chr(34))}".encode()).hexdigest()
    return f"collector-firehose-{digest[:24]}"


def convert_deliveries(settings: Settings, *, s3=None) -> Conversion:
    """Turn every object Firehose delivered under ``settings.collector_deliveries`` into StoredEvents, once."""
    from ..warehouse.s3 import S3Warehouse, split_uri

    if not settings.collector_deliveries:
        raise UserError("no Firehose delivery location", "set SITE_STATS_COLLECTOR_DELIVERIES to s3://bucket/prefix")
    bucket, prefix = split_uri(settings.collector_deliveries)
    house = S3Warehouse(settings)
    ensure_current(settings, rewrite=False)  # it runs in Lambda: an older warehouse waits for site-stats upgrade
    s3 = s3 or house.s3
    done = house.ledger_keys()
    result = Conversion()
    objects = [item for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
               for item in page.get("Contents", ())]
    result.objects = len(objects)
    finished: list[str] = []
    with house.staged() as folder:
        local = LocalWarehouse(folder)
        local.ensure()
        for item in objects:
            name = delivery_name(bucket, item["Key"], item["ETag"])
            if name in done:
                result.already += 1
                finished.append(item["Key"])
                continue
            body = s3.get_object(Bucket=bucket, Key=item["Key"], IfMatch=item["ETag"])["Body"].read()
            events, dropped, damaged = _records(body, PurePosixPath(item["Key"]).name)
            commit(local, name, events, dropped, f"s3://{bucket}/{item['Key']}")
            result.converted += 1
            result.events += events.num_rows
            result.dropped += len(dropped)
            result.damaged_lines += damaged
            result.names.append(name)
            finished.append(item["Key"])
    for start in range(0, len(finished), 1000):  # only once their Parquet and ledger records are up
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in finished[start : start + 1000]],
                                                 "Quiet": True})
    return result


def _records(body: bytes, source_file: str) -> tuple[pa.Table, list[dict], int]:
    """(StoredEvents, dropped and damaged records as rejects, damaged lines) of one delivered object; rows are
    numbered in the object."""
    rows: list[dict] = []
    dropped: list[dict] = []
    damaged = 0
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("event"), dict):
            rows.append(record["event"])
        elif isinstance(record, dict) and isinstance(record.get("dropped"), dict):
            dropped.append(record["dropped"])
        else:  # not written by the collector: kept as a reject, never silently lost
            damaged += 1
            dropped.append({"kind": "rejected", "reason": "damaged Firehose record",
                            "line": mask_ips(line.decode("utf-8", "replace"), MAX_REJECT_LINE)})
    for number, row in enumerate(rows, start=1):
        row["source_file"], row["line_number"] = source_file, number
    for number, record in enumerate(dropped, start=len(rows) + 1):
        record["source_file"], record["line_number"] = source_file, number
    return from_rows(rows), dropped, damaged
