"""A local warehouse folder.

Layout::

    events/dt=YYYY-MM-DD/<format>-<source key>.parquet   one file per source file and UTC day
    rejects/<format>-<source key>.parquet                   lines that did not become events, IPs masked
    _ledger/<source key>.json                               one record per ingested source file
    _salts/YYYY-MM-DD.key                                   the daily visitor-id salts (deleted after the window)

Every file is written under a ``.tmp`` name and renamed when complete; a source's ledger record is written only
after all its files are in place. Re-ingesting a source rewrites the same file names, so it never duplicates.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..schema import REJECT_SCHEMA, STORED_SCHEMA

TMP_SUFFIX = ".tmp"


class LocalWarehouse:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- layout -----------------------------------------------------------------------------------------
    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def rejects_dir(self) -> Path:
        return self.root / "rejects"

    @property
    def ledger_dir(self) -> Path:
        return self.root / "_ledger"

    @property
    def salts_dir(self) -> Path:
        return self.root / "_salts"

    def ensure(self) -> None:
        for d in (self.events_dir, self.rejects_dir, self.ledger_dir, self.salts_dir):
            d.mkdir(parents=True, exist_ok=True)

    def clean_partial(self) -> int:
        """Remove ``.tmp`` files left by an interrupted run; return how many."""
        removed = 0
        for tmp in self.root.rglob(f"*{TMP_SUFFIX}"):
            if tmp.parent == self.salts_dir:
                continue
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed

    # -- ledger -----------------------------------------------------------------------------------------
    def ledger_entry(self, key: str) -> dict | None:
        path = self.ledger_dir / f"{key}.json"
        if not path.exists():
            return None
        return json.loads(path.read_text())

    def record_source(self, key: str, entry: dict) -> None:
        _atomic_write_bytes(self.ledger_dir / f"{key}.json", json.dumps(entry, indent=1, sort_keys=True).encode())

    def ledger(self) -> list[dict]:
        if not self.ledger_dir.exists():
            return []
        return [json.loads(p.read_text()) for p in sorted(self.ledger_dir.glob("*.json"))]

    # -- data files -------------------------------------------------------------------------------------
    def event_path(self, day: str, name: str) -> Path:
        return self.events_dir / f"dt={day}" / f"{name}.parquet"

    def open_events(self, day: str, name: str) -> "AtomicParquetWriter":
        return AtomicParquetWriter(self.event_path(day, name), STORED_SCHEMA)

    def write_rejects(self, name: str, table: pa.Table) -> None:
        path = self.rejects_dir / f"{name}.parquet"
        if table.num_rows == 0:
            path.unlink(missing_ok=True)
            return
        with AtomicParquetWriter(path, REJECT_SCHEMA) as writer:
            writer.write(table)

    def event_files(self) -> list[Path]:
        return sorted(self.events_dir.glob("dt=*/*.parquet")) if self.events_dir.exists() else []

    def reject_files(self) -> list[Path]:
        return sorted(self.rejects_dir.glob("*.parquet")) if self.rejects_dir.exists() else []


class AtomicParquetWriter:
    """A Parquet file written under a temporary name and renamed into place by ``commit``."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + TMP_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)
        self.rows += table.num_rows

    def commit(self) -> None:
        self._writer.close()
        _fsync(self.tmp)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self._writer.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "AtomicParquetWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    tmp.write_bytes(data)
    _fsync(tmp)
    os.replace(tmp, path)
