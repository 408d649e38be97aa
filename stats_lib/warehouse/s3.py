"""An S3 warehouse (``s3://bucket/prefix``) cataloged in Glue, so Athena can query it.

Ingest into S3 is staged: the ledger and the salts are pulled into a private temporary folder, the ordinary local
ingest runs there, and what it added is pushed in a safe order: event and reject files first, then ledger
records, then salt changes. A run killed before its ledger records are pushed is re-run from scratch and
overwrites the same object keys, so counts stay exact (S3 PUTs are atomic: an object is either whole or absent).
Finally the Glue tables ``events`` (partitioned by ``dt``) and ``rejects`` are created if missing and the new
day partitions are added.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from ..config import Settings
from ..schema import REJECT_SCHEMA, STORED_SCHEMA

PULLED = ("_ledger", "_salts")  # small folders the local ingest needs to read
PUSH_ORDER = ("events", "rejects", "_ledger", "_salts")


def split_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b/' -> ('bucket', 'a/b')."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri}")
    return bucket, prefix.strip("/")


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


def _local_files(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


class S3Warehouse:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket, self.prefix = split_uri(settings.warehouse)
        self.fs = filesystem(settings)

    @property
    def root(self) -> str:
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket

    def uri(self, *parts: str) -> str:
        return "s3://" + "/".join([self.root, *parts])

    @contextlib.contextmanager
    def staged(self) -> Iterator[Path]:
        """A local warehouse folder holding this warehouse's ledger and salts; pushed back on success."""
        folder = Path(tempfile.mkdtemp(prefix="site-stats-stage-"))
        os.chmod(folder, 0o700)  # it holds the salts
        try:
            for sub in PULLED:
                for rel in list_files(self.fs, f"{self.root}/{sub}"):
                    target = folder / sub / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with self.fs.open_input_stream(f"{self.root}/{sub}/{rel}") as src:
                        target.write_bytes(src.read())
            before = _local_files(folder)
            yield folder
            self._push(folder, before)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _push(self, folder: Path, before: dict[str, float]) -> None:
        after = _local_files(folder)
        changed = [rel for rel, stamp in after.items() if before.get(rel) != stamp]
        for top in PUSH_ORDER:
            for rel in sorted(r for r in changed if r.split("/", 1)[0] == top):
                with open(folder / rel, "rb") as src, self.fs.open_output_stream(f"{self.root}/{rel}") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        for rel in before:
            if rel not in after:  # expired salts
                self.fs.delete_file(f"{self.root}/{rel}")
        days = sorted({rel.split("/")[1][3:] for rel in changed if rel.startswith("events/dt=")})
        self.register(days)

    # -- Glue catalog ---------------------------------------------------------------------------------
    def register(self, days: list[str]) -> None:
        """Create the Glue database and tables when missing and add the given day partitions."""
        import boto3

        glue = boto3.client("glue")
        database = self.settings.database
        try:
            glue.create_database(DatabaseInput={"Name": database, "Description": "site-stats warehouse"})
        except glue.exceptions.AlreadyExistsException:
            pass
        self._ensure_table(glue, "events", STORED_SCHEMA, partitioned=True)
        self._ensure_table(glue, "rejects", REJECT_SCHEMA, partitioned=False)
        inputs = [
            {"Values": [day], "StorageDescriptor": _storage(self.uri("events", f"dt={day}") + "/", STORED_SCHEMA)}
            for day in days
        ]
        for start in range(0, len(inputs), 100):
            glue.batch_create_partition(DatabaseName=database, TableName="events",
                                        PartitionInputList=inputs[start : start + 100])

    def _ensure_table(self, glue, name: str, schema: pa.Schema, partitioned: bool) -> None:
        table = {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
            "StorageDescriptor": _storage(self.uri(name) + "/", schema),
            "PartitionKeys": [{"Name": "dt", "Type": "string"}] if partitioned else [],
        }
        try:
            glue.create_table(DatabaseName=self.settings.database, TableInput=table)
        except glue.exceptions.AlreadyExistsException:
            pass


_GLUE_TYPES = {
    pa.string(): "string", pa.int16(): "smallint", pa.int64(): "bigint", pa.float64(): "double",
    pa.bool_(): "boolean", pa.timestamp("ms"): "timestamp",
}


def glue_columns(schema: pa.Schema) -> list[dict[str, str]]:
    return [{"Name": f.name, "Type": _GLUE_TYPES[f.type]} for f in schema]


def _storage(location: str, schema: pa.Schema) -> dict:
    return {
        "Columns": glue_columns(schema),
        "Location": location,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    }


def download_sources(settings: Settings, uris: list[str], folder: Path) -> list[Path]:
    """Copy the objects under ``s3://`` sources into ``folder`` (keeping their names); return the local paths."""
    fs = filesystem(settings)
    paths: list[Path] = []
    for uri in uris:
        bucket, prefix = split_uri(uri)
        base = f"{bucket}/{prefix}" if prefix else bucket
        info = fs.get_file_info(base)
        keys = [base] if info.type == pafs.FileType.File else [f"{base}/{rel}" for rel in sorted(list_files(fs, base))]
        if not keys:
            raise FileNotFoundError(f"no objects under {uri}")
        for key in keys:
            target = folder / key
            target.parent.mkdir(parents=True, exist_ok=True)
            with fs.open_input_stream(key) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            paths.append(target)
    return paths
