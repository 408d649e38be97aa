"""A local warehouse folder.

Layout::

    events/dt=YYYY-MM-DD/<format>-<source key>.parquet   one file per source file and UTC day
    rejects/<format>-<source key>.parquet                   lines that did not become events, IPs masked
    _ledger/<source key>.json                               one record per ingested source file
    _ledger/failed-<path key>.json                          the last failed attempt at a source path
    _ledger/_files/<path key>.json                          a local file's source key and what it was when hashed
    _salts/YYYY-MM-DD.key                                   the daily visitor-id salts (deleted after the window)

Every file is written under a ``.tmp`` name and renamed when complete; a source's ledger record is written only
after all its files are in place. Re-ingesting a source rewrites the same file names, so it never duplicates.

A ledger record that cannot be read (a damaged or hand-edited JSON file) never blocks anything: its source
counts as not ingested, so the next ingest reads it again and rewrites the record (the same output file names:
no duplicates), and a warning names the record's file. A failed file (format not recognised, unreadable) gets a
``failed-`` record (status ``failed``, the reason, the time of the last attempt) that is not counted as
ingested, so a retry reads it again; it is removed once the path is ingested.

A periodic run of a log folder meets every file it has read before again. Hashing each of them to find its
source key grows with the folder: 0.2 s for the bench corpus's 71 earlier files (114 MB), about 25 s for a year
of hourly CloudFront files (14 GB). So ``_ledger/_files/`` remembers, per local path, the key and the file's
identity when it was hashed (size, modification and status-change times in nanoseconds, device and inode): a
file with that identity still has those bytes, and its key is taken without reading it. Any other file (new,
appended to, rewritten, replaced, even with its old size and modification time: the status-change time moves)
is hashed again. The folder is a cache: losing or damaging it only costs the hashing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..privacy import mask_ips
from ..schema import REJECT_SCHEMA, STORED_SCHEMA
from .lock import WarehouseLock, is_live_tmp, tmp_tag

TMP_SUFFIX = ".tmp"
FAILED_PREFIX = "failed-"

LEDGER_SCHEMA = pa.schema([
    ("key", pa.string()), ("source", pa.string()), ("format", pa.string()), ("status", pa.string()),
    ("lines", pa.int64()), ("events", pa.int64()), ("rejected", pa.int64()), ("skipped", pa.int64()),
    ("days", pa.list_(pa.string())), ("ingested_at", pa.string()), ("reason", pa.string()),
    ("attempted_at", pa.string()), ("erased", pa.int64()),  # erased: events prune/forget removed since
])


class CorruptLedgerWarning(UserWarning):
    """A ledger record could not be read; its source is treated as not ingested."""


def read_record(name: str, data: bytes) -> dict | None:
    """A ledger record from its bytes, or None (with a ``CorruptLedgerWarning`` naming ``name``) when damaged."""
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        record, why = None, f"{type(exc).__name__}: {exc}"
    else:
        why = _record_problem(record)
    if record is None or why:
        warnings.warn(f"ledger record {name} is damaged ({why}); its source counts as not ingested and the next "
                      "ingest of it rewrites the record", CorruptLedgerWarning, stacklevel=2)
        return None
    return record


_PYTHON_TYPES = {pa.string(): str, pa.int64(): int, pa.list_(pa.string()): list}


def _record_problem(record: object) -> str:
    """Why a parsed record is unusable ('' when it is fine): not an object, no key, or a field of the wrong type."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if not isinstance(record.get("key"), str):
        return "no key"
    for field in LEDGER_SCHEMA:
        value = record.get(field.name)
        wanted = _PYTHON_TYPES[field.type]
        if value is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
            return f"{field.name} is not a {wanted.__name__}"
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            return f"{field.name} holds a non-text value"
    return ""


def ledger_tables(records: list[dict]) -> tuple[pa.Table, pa.Table]:
    """(the ingested sources, the failed or damaged ones) as Arrow tables of ``LEDGER_SCHEMA``."""
    rows = [{name: r.get(name) for name in LEDGER_SCHEMA.names} for r in records]
    for row in rows:
        row["status"] = row["status"] or "ingested"
        row["days"] = row["days"] or []
    ingested = [r for r in rows if r["status"] != "failed"]
    failures = [r for r in rows if r["status"] == "failed" or r["reason"]]
    return pa.Table.from_pylist(ingested, schema=LEDGER_SCHEMA), pa.Table.from_pylist(failures, schema=LEDGER_SCHEMA)


def _path_digest(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def path_key(source: str) -> str:
    """The name of a source path's ``failed-`` record."""
    return FAILED_PREFIX + _path_digest(source)[:24]


def _file_key(path: Path) -> str:
    """The name of a local path's entry in ``_ledger/_files/``."""
    return _path_digest(str(path))[:32]


def _identity(stat: os.stat_result) -> list[int]:
    """What tells a file's bytes have not changed since: size, modification and status-change times (ns), device
    and inode (a file replaced by another, or written again, changes at least one)."""
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_dev, stat.st_ino]


_SOURCE_KEY = re.compile(r"[0-9a-f]{64}")


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
        for d in (self.events_dir, self.rejects_dir, self.ledger_dir):
            d.mkdir(parents=True, exist_ok=True)
        from .salts import LocalSaltFolder

        LocalSaltFolder(self.salts_dir).secure()

    def lock(self, timeout: float = 600.0, command: str = "") -> WarehouseLock:
        """The warehouse's writer lock (see ``lock.py``): hold it to ingest, prune or forget."""
        return WarehouseLock(self.root, timeout=timeout, command=command)

    def clean_partial(self) -> int:
        """Remove ``.tmp`` files left by an interrupted run; return how many. Call it holding the lock; the
        temporary files of a process still alive on this host are kept all the same."""
        removed = 0
        for tmp in self.root.rglob(f"*{TMP_SUFFIX}"):
            if is_live_tmp(tmp):
                continue
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed

    # -- ledger -----------------------------------------------------------------------------------------
    def ledger_entry(self, key: str) -> dict | None:
        """The source's record, or None when it was never ingested (or its record is damaged: warned)."""
        path = self.ledger_dir / f"{key}.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return read_record(str(path), data)

    def record_source(self, key: str, entry: dict) -> None:
        _atomic_write_bytes(self.ledger_dir / f"{key}.json", json.dumps(entry, indent=1, sort_keys=True).encode())

    def record_failure(self, source: str, format: str | None, reason: str, at: str) -> None:
        """Remember a failed attempt at ``source`` (not counted as ingested: a retry reads it again)."""
        key = path_key(source)
        reason = mask_ips(reason, cap=500)  # a reason may quote a line of the file: never a raw client IP
        entry: dict[str, object] = {"key": key, "source": source, "format": format, "status": "failed", "reason": reason,
                 "attempted_at": at, "lines": 0, "events": 0, "rejected": 0, "skipped": 0, "days": []}
        self.record_source(key, entry)

    # -- the keys of files already hashed ----------------------------------------------------------------
    @property
    def files_dir(self) -> Path:
        return self.ledger_dir / "_files"

    def known_key(self, path: Path, stat: os.stat_result) -> str | None:
        """The source key of the local file ``path`` when it has the identity ``stat`` it had when last hashed;
        else None (never hashed, changed since, or its entry unreadable)."""
        try:
            entry = json.loads((self.files_dir / f"{_file_key(path)}.json").read_bytes())
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(entry, dict) or entry.get("path") != str(path) or entry.get("identity") != _identity(stat):
            return None
        key = entry.get("key")
        return key if isinstance(key, str) and _SOURCE_KEY.fullmatch(key) else None

    def remember_key(self, path: Path, stat: os.stat_result, key: str) -> None:
        """Remember that ``path`` with identity ``stat`` (taken before hashing) has source ``key``, unless the file
        changed while it was hashed. Not synced to disk: a lost entry only means hashing the file again."""
        try:
            if _identity(path.stat()) != _identity(stat):
                return
            entry = {"path": str(path), "identity": _identity(stat), "key": key}
            _atomic_write_bytes(self.files_dir / f"{_file_key(path)}.json",
                                json.dumps(entry).encode("utf-8", "surrogatepass"), sync=False)
        except OSError:  # a read-only or full disk: the next run hashes the file again
            return

    def clear_failure(self, source: str) -> None:
        (self.ledger_dir / f"{path_key(source)}.json").unlink(missing_ok=True)

    def ledger(self) -> list[dict]:
        """Every readable record (ingested, damaged and failed sources); damaged records are warned about."""
        if not self.ledger_dir.exists():
            return []
        records = (read_record(str(p), p.read_bytes()) for p in sorted(self.ledger_dir.glob("*.json")))
        return [r for r in records if r is not None]

    # -- data files -------------------------------------------------------------------------------------
    def event_path(self, day: str, name: str) -> Path:
        return self.events_dir / f"dt={day}" / f"{name}.parquet"

    def open_events(self, day: str, name: str) -> AtomicParquetWriter:
        return event_writer(self.event_path(day, name), STORED_SCHEMA)

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


# (reader, issue 13) The event columns whose row-group min/max are written: every non-text column and the text
# columns a query filters on (site, path, status class, event name, country...). The others (user agents, visitor
# ids, addresses, referrers...) are never a filter a range could answer; their statistics cost about a third of
# the Parquet write (measured: 0.22 -> 0.15 CPU s per 167k rows, same file size).
EVENT_STATISTICS = [f.name for f in STORED_SCHEMA if not pa.types.is_string(f.type) and f.name != "visitor_id"] + [
    "site", "source", "source_file", "method", "path", "content_type", "protocol", "operation", "edge_result_type",
    "event_name", "props", "device", "country_code",
]


# (reader, issue 13) The event columns written without a dictionary: nearly every value of a file is distinct
# (line numbers, byte counts; timestamps to the second), so a dictionary only costs its hash table and makes the
# file larger. Measured on 12 hourly files of the bench corpus (333k events): 1.06 -> 0.98 CPU us a row to
# encode, 13.84 -> 12.49 MB.
EVENT_PLAIN = ("ts", "line_number", "bytes_sent")


def event_writer(path: Path, schema: pa.Schema) -> AtomicParquetWriter:
    """The writer of an event file: statistics where a query filters (``EVENT_STATISTICS``), no dictionary for
    the columns of distinct values (``EVENT_PLAIN``)."""
    return AtomicParquetWriter(path, schema, statistics=[c for c in EVENT_STATISTICS if c in schema.names],
                               plain=EVENT_PLAIN)


class AtomicParquetWriter:
    """A Parquet file written under a temporary name and renamed into place by ``commit``; ``statistics``: the
    columns whose min/max are written (default: all); ``plain``: columns written without a dictionary."""

    def __init__(self, path: Path, schema: pa.Schema, statistics: list[str] | None = None,
                 plain: tuple[str, ...] = ()) -> None:
        self.path = path
        self.tmp = path.with_name(f"{path.name}.{tmp_tag()}{TMP_SUFFIX}")
        path.parent.mkdir(parents=True, exist_ok=True)
        dictionary = [n for n in schema.names if n not in plain] if plain else True
        self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd", use_dictionary=dictionary,
                                        write_statistics=True if statistics is None else statistics)
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

    def __enter__(self) -> AtomicParquetWriter:
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


def _atomic_write_bytes(path: Path, data: bytes, *, sync: bool = True) -> None:
    """``data`` in ``path``, whole or not at all; ``sync``: on disk before the rename (a cache need not be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{tmp_tag()}{TMP_SUFFIX}")
    tmp.write_bytes(data)
    if sync:
        _fsync(tmp)
    os.replace(tmp, path)
