"""An S3 warehouse (``s3://bucket/prefix``) cataloged in Glue with partition projection, so Athena can query it.

The layout is the local warehouse's (``warehouse/local.py``) under the prefix: one event object per source object
and UTC day (``events/dt=YYYY-MM-DD/<format>-<source key>.parquet``), its rejects, one ledger record per source.
Ingest into S3 is staged: the ordinary local ingest writes into a private temporary folder, and what it wrote is
uploaded (awswrangler) in a safe order: event and reject objects first, then the ledger records. A run killed
before its ledger records are up is re-run and overwrites the same keys, so counts stay exact (an S3 PUT is
atomic: an object is whole or absent). awswrangler's dataset modes are not used for events on purpose: ``append``
double-counts a re-run and ``overwrite_partitions`` wipes the other source objects of a day.

The ledger is consulted by listing its names (``ledger_keys``), never by reading records; salts are not staged
but created in place with a conditional write (``warehouse/s3_salts.py``), so concurrent ingests agree.
The Glue tables are created or updated with awswrangler (``register_table``): ``events`` partitioned by ``dt``
with partition projection (type date, ``yyyy-MM-dd``, from the first day to NOW), so no partition is ever
registered; a new column in the schema is added to the table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from ..aws.session import split_uri
from ..config import Settings
from ..schema import REJECT_SCHEMA, STORED_SCHEMA
from .salts import SaltStore

UPLOADED_FIRST = ("events", "rejects")  # then _ledger: a record only once its data is up
UPLOAD_THREADS = 8


def filesystem(settings: Settings) -> pafs.S3FileSystem:
    """pyarrow's S3 client, pointed at ``AWS_ENDPOINT_URL(_S3)`` when set (an emulator or S3-compatible store)."""
    kwargs: dict = {}
    if settings.s3_endpoint:
        kwargs["endpoint_override"] = settings.s3_endpoint
        kwargs["scheme"] = "https" if settings.s3_endpoint.startswith("https") else "http"
    if settings.aws_region:
        kwargs["region"] = settings.aws_region
    return pafs.S3FileSystem(**kwargs)


def list_files(fs: pafs.FileSystem, root: str) -> dict[str, int]:
    """Relative path -> size of every file below ``root`` (empty when it does not exist)."""
    selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
    return {
        info.path[len(root) + 1 :]: info.size
        for info in fs.get_file_info(selector)
        if info.type == pafs.FileType.File
    }


class S3Warehouse:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket, self.prefix = split_uri(settings.warehouse)

    @cached_property
    def aws(self):
        """The run's checked boto3 session (a missing region or credentials is one clear error)."""
        from ..aws.session import session

        return session(self.settings)

    @cached_property
    def s3(self):
        return self.aws.client("s3")

    @cached_property
    def fs(self) -> pafs.S3FileSystem:
        return filesystem(self.settings)

    @property
    def root(self) -> str:
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket

    def key(self, *parts: str) -> str:
        """The object key of a path inside the warehouse."""
        return "/".join([self.prefix, *parts]) if self.prefix else "/".join(parts)

    def uri(self, *parts: str) -> str:
        return "s3://" + "/".join([self.root, *parts])

    # -- ledger and salts -----------------------------------------------------------------------------
    def ledger_keys(self) -> set[str]:
        """The source keys the ledger holds, from a listing of its record names (no record is read)."""
        folder = self.key("_ledger") + "/"
        keys: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder):
            keys.update(item["Key"][len(folder):-5] for item in page.get("Contents", ())
                        if item["Key"].endswith(".json"))
        return keys

    def salt_store(self) -> SaltStore:
        """The daily salts, kept under ``_salts/`` and created with a conditional write."""
        from .s3_salts import S3SaltFolder

        return SaltStore(S3SaltFolder(self.s3, self.bucket, self.key("_salts")),
                         retention_days=self.settings.salt_retention_days)

    # -- staged ingest --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def staged(self) -> Iterator[Path]:
        """An empty local warehouse folder for one ingest; what it holds afterwards is uploaded on success."""
        folder = Path(tempfile.mkdtemp(prefix="site-stats-stage-"))
        os.chmod(folder, 0o700)
        try:
            yield folder
            self._push(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _push(self, folder: Path) -> None:
        import awswrangler as wr

        written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        first = [rel for rel in written if rel.split("/", 1)[0] in UPLOADED_FIRST]
        ledger = [rel for rel in written if rel.startswith("_ledger/")]

        def upload(rel: str) -> None:
            wr.s3.upload(local_file=str(folder / rel), path=self.uri(rel), boto3_session=self.aws)

        for batch in (first, ledger):
            with ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="s3-put") as pool:
                list(pool.map(upload, batch))
        self._clear_failures(folder, ledger)
        days = sorted({rel.split("/")[1][3:] for rel in first if rel.startswith("events/dt=")})
        if days:
            self.register(days[0])

    def _clear_failures(self, folder: Path, ledger: list[str]) -> None:
        """Delete the ``failed-`` records of the sources this run ingested (the local ingest removed them from
        its empty stage, not from S3)."""
        from .local import FAILED_PREFIX, path_key

        sources = set()
        for rel in ledger:
            if not Path(rel).name.startswith(FAILED_PREFIX):
                record = json.loads((folder / rel).read_bytes())
                sources.add(record.get("source") or "")
        stale = [{"Key": self.key("_ledger", f"{path_key(s)}.json")} for s in sorted(sources) if s]
        for start in range(0, len(stale), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": stale[start:start + 1000], "Quiet": True})

    # -- Glue catalog ---------------------------------------------------------------------------------
    def register(self, first_day: str | None = None) -> None:
        """The Glue database and the ``events`` and ``rejects`` tables, created or brought up to date."""
        import awswrangler as wr

        wr.catalog.create_database(self.settings.database, exist_ok=True, boto3_session=self.aws)
        self.register_table("events", STORED_SCHEMA, partitioned=True, first_day=first_day)
        self.register_table("rejects", REJECT_SCHEMA, partitioned=False)

    def retype_column(self, name: str, column: str, glue_type: str) -> None:
        """Give the Glue table ``name``'s ``column`` the type ``glue_type`` (the storage upgrade), if the table
        exists and has the column with another type."""
        glue = self.aws.client("glue")
        try:
            table = glue.get_table(DatabaseName=self.settings.database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return
        changed = [c for c in table["StorageDescriptor"]["Columns"] if c["Name"] == column and c["Type"] != glue_type]
        if not changed:
            return
        for c in changed:
            c["Type"] = glue_type
        table_input = {k: v for k, v in table.items() if k in _TABLE_INPUT_KEYS}
        glue.update_table(DatabaseName=self.settings.database, TableInput=table_input)

    def register_table(self, name: str, schema: pa.Schema, *, partitioned: bool, first_day: str | None = None,
                       folder: str | None = None, partition: str = "dt") -> None:
        """Create the Glue table ``name`` over ``<warehouse>/<folder>/`` (default: the table's name) for Parquet of
        ``schema``, or add the columns it lacks. ``partitioned``: by ``dt`` (``dt=YYYY-MM-DD/`` folders), or by
        ``partition="month"`` (``month=YYYY-MM/`` folders: the month-level rollups), with partition projection
        from the earliest of the table's first day and ``first_day`` (default today) to NOW; no partition is
        registered, ever. Rollup tables: ``register_table("rollup_daily", schema, partitioned=True,
        folder="rollups/daily")``."""
        import awswrangler as wr

        database = self.settings.database
        projection: Any = None  # awswrangler wants its own TypedDict
        parameters = {"classification": "parquet"}
        if partitioned:
            monthly = partition == "month"
            start = first_day or dt.datetime.now(dt.timezone.utc).date().isoformat()
            start = start[:7] if monthly else start
            if wr.catalog.does_table_exist(database=database, table=name, boto3_session=self.aws):
                current = wr.catalog.get_table_parameters(database=database, table=name, boto3_session=self.aws)
                start = min(start, current.get(f"projection.{partition}.range", start).split(",")[0])
            projection = {"projection_types": {partition: "date"}, "projection_ranges": {partition: f"{start},NOW"},
                          "projection_formats": {partition: "yyyy-MM" if monthly else "yyyy-MM-dd"}}
            if monthly:
                parameters[f"projection.{partition}.interval.unit"] = "MONTHS"
        wr.catalog.create_parquet_table(
            database=database, table=name, path=self.uri(*(folder or name).split("/")) + "/",
            columns_types={c["Name"]: c["Type"] for c in glue_columns(schema)},
            partitions_types={partition: "string"} if partitioned else None,
            compression="zstd", parameters=parameters,
            mode="append",  # of the catalog entry: keep the table, add what is new (never the data's append)
            athena_partition_projection_settings=projection, boto3_session=self.aws,
        )


# what Glue's GetTable answers and UpdateTable takes back (the rest is read-only: CreateTime, DatabaseName, ...)
_TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys",
                     "TableType", "Parameters", "ViewOriginalText", "ViewExpandedText", "TargetTable")

_GLUE_TYPES = {
    pa.string(): "string", pa.large_string(): "string", pa.int8(): "tinyint", pa.int16(): "smallint",
    pa.int32(): "int", pa.int64(): "bigint", pa.float32(): "float", pa.float64(): "double", pa.bool_(): "boolean",
    pa.date32(): "date", pa.timestamp("ms"): "timestamp", pa.timestamp("us"): "timestamp",
}


def glue_columns(schema: pa.Schema) -> list[dict[str, str]]:
    return [{"Name": f.name, "Type": _GLUE_TYPES[f.type]} for f in schema]
