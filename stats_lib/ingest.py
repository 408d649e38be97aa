"""``ingest(sources)``: read log files into the warehouse, exactly once per source file.

For each file: hash its bytes (the source key), skip it when the ledger already has that key, detect its
format, parse to Arrow batches, enrich, write one Parquet file per UTC day, write its rejects, then record it
in the ledger. A run killed at any moment and run again ends with exactly the counts of a clean run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import hashlib
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc
from tqdm.auto import tqdm

from ._background import ahead
from .config import Settings
from .enrich.geo import GeoLocator
from .enrich.pipeline import EnrichContext, enrich, ip_table, utc_days
from .enrich.visitors import VisitorHasher
from .sources import get_format
from .sources.base import LineReader
from .sources.detect import UnknownFormat, detect
from .warehouse.local import LocalWarehouse
from .warehouse.retention import ErasureRules
from .warehouse.salts import ExpiredSaltWarning, SaltStore



class SourceNotFound(FileNotFoundError):
    pass


@dataclass
class FileResult:
    path: str
    format: str | None = None
    status: str = "ingested"  # ingested | already ingested | empty | failed
    lines: int = 0
    events: int = 0
    rejected: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)
    error: str | None = None
    erased: int = 0  # events dropped by the erasure rules of prune/forget
    damage: str | None = None  # ingested up to a damaged part (a cut gzip): what went wrong there


@dataclass
class IngestSummary:
    files: list[FileResult] = field(default_factory=list)
    expired_salt_days: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[FileResult]:
        """The files that failed or were damaged: a run with any exits with status 1."""
        return [f for f in self.files if f.status == "failed" or f.damage]

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def reasons(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.reasons)
        return total

    def text(self) -> str:
        parts = [
            f"files: {len(self.files)} ({self.count('ingested')} ingested, {self.count('already ingested')} already "
            f"ingested, {self.count('empty')} empty, {self.count('failed')} failed)",
            f"lines: {self.lines}",
            f"events written: {self.events}",
            f"lines rejected: {self.rejected}",
            f"lines skipped: {self.skipped}",
        ]
        lines = ["; ".join(parts)]
        for reason, n in self.reasons.most_common():
            lines.append(f"  {n} x {reason}")
        erased = sum(f.erased for f in self.files)
        if erased:
            lines.append(f"  {erased} x erased by an earlier prune/forget (not written again)")
        for f in self.files:
            if f.status == "failed":
                lines.append(f"  failed: {f.error}")
            elif f.damage:
                lines.append(f"  damaged (kept up to the damage): {f.damage}")
        for day in self.expired_salt_days:
            lines.append(f"  warning: the salt for {day} was already deleted; its visitors got new ids")
        return "\n".join(lines)


def expand_sources(sources: list[str]) -> list[Path]:
    """Files, folders (recursively) and globs to a sorted list of files; a source matching nothing is an error."""
    found: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith(".") and p.name != "SOURCE.md"
            )
        else:
            matches = sorted(Path(m) for m in glob.glob(source, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise SourceNotFound(f"no such file, folder or matching glob: {source}")
            found.extend(files)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def source_key(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest(
    sources: list[str],
    *,
    format: str = "auto",
    site: str | None = None,
    settings: Settings | None = None,
    progress: bool | None = None,
) -> IngestSummary:
    """Ingest log files, folders, globs or ``s3://`` prefixes into the warehouse (a folder or ``s3://``)."""
    settings = settings or Settings.from_env()
    forced = None if format == "auto" else get_format(format)
    show = settings.progress if progress is None else progress
    with contextlib.ExitStack() as stack:
        remote = [s for s in sources if s.startswith("s3://")]
        paths = expand_sources([s for s in sources if not s.startswith("s3://")])
        if remote:
            from .warehouse.s3 import download_sources

            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="site-stats-sources-")))
            paths += download_sources(settings, remote, folder)
        if settings.is_s3:
            from .warehouse.s3 import S3Warehouse

            local = stack.enter_context(S3Warehouse(settings).staged())
            return _ingest_paths(paths, forced, site, settings.with_(warehouse=str(local)), show)
        return _ingest_paths(paths, forced, site, settings, show)


def _ingest_paths(paths: list[Path], forced, site: str | None, settings: Settings, show: bool) -> IngestSummary:
    house = LocalWarehouse(settings.warehouse)
    house.ensure()
    with house.lock(settings.lock_timeout_seconds, command="ingest"):  # trust: one writer at a time
        return _ingest_locked(paths, forced, site, settings, show, house)


def _ingest_locked(paths: list[Path], forced, site: str | None, settings: Settings, show: bool,
                   house: LocalWarehouse) -> IngestSummary:
    house.clean_partial()
    erasures = ErasureRules.load(house.root)  # what prune/forget erased is never written again
    salts = SaltStore.in_folder(house.salts_dir, retention_days=settings.salt_retention_days)
    geo = GeoLocator(settings.geoip_path)
    ips = ip_table(geo)  # each distinct client IP geolocated once per run, across files
    visitors = VisitorHasher(salts)  # each distinct (day, site, ip, ua) hashed once per run
    summary = IngestSummary()
    total = sum(p.stat().st_size for p in paths)
    with tqdm(total=total, unit="B", unit_scale=True, desc="ingest", disable=not show) as bar:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ExpiredSaltWarning)
            for path in paths:
                result = _ingest_file(path, forced, site, house, salts, geo, ips, visitors, bar, erasures)
                _record_outcome(house, result)
                summary.files.append(result)
                bar.update(path.stat().st_size)
            summary.expired_salt_days = sorted(salts.expired_days_used)
        for w in caught:
            if not issubclass(w.category, ExpiredSaltWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    salts.purge()
    return summary


def _record_outcome(house: LocalWarehouse, result: FileResult) -> None:
    """A failed file gets a ``failed`` ledger record (not counted as ingested: a retry reads it again); any
    other outcome clears the path's earlier failure."""
    if result.status == "failed":
        house.record_failure(result.path, result.format, result.error or "failed", _now())
    else:
        house.clear_failure(result.path)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _ingest_file(path, forced, site, house: LocalWarehouse, salts, geo, ips, visitors, bar,
                 erasures: ErasureRules) -> FileResult:
    result = FileResult(path=str(path))
    if path.stat().st_size == 0:
        result.status = "empty"
        return result
    try:
        key = source_key(path)
    except OSError as exc:  # unreadable (permissions, a file that vanished): this file fails, the run goes on
        result.status, result.error = "failed", f"{path}: cannot read it ({exc.strerror or exc})"
        return result
    done = house.ledger_entry(key)
    if done is not None:
        result.status = "already ingested"
        result.format = done.get("format")
        return result
    try:
        module = forced or detect(path)
    except UnknownFormat as exc:
        result.status, result.error = "failed", str(exc)
        return result
    result.format = module.NAME
    name = f"{module.NAME}-{key[:24]}"
    reader = LineReader(str(path), source_file=path.name)
    ctx = EnrichContext(source=module.NAME, source_file=path.name, salts=salts, geo=geo, site=site, ips=ips, visitors=visitors)
    writers: dict[str, object] = {}
    try:
        for raw in ahead(module.parse(reader)):  # the next batch is parsed while this one is enriched
            if raw.num_rows == 0:
                continue
            stored = enrich(raw, ctx)
            days = utc_days(stored["ts"])
            stored, days, erased = erasures.apply(stored, days)
            result.erased += erased
            for day in pc.unique(days).to_pylist():
                part = stored.filter(pc.equal(days, day))
                writer = writers.get(day)
                if writer is None:
                    writer = writers[day] = house.open_events(day, name)
                writer.write(part)
            bar.set_postfix(file=path.name[-30:], lines=reader.lines, refresh=False)
        for writer in writers.values():
            writer.commit()
    except BaseException:
        for writer in writers.values():
            try:
                writer.abort()
            except Exception:
                pass
        raise
    house.write_rejects(name, reader.rejects_table())
    result.lines = reader.lines
    result.events = sum(w.rows for w in writers.values())
    result.rejected, result.skipped = reader.rejected, reader.skipped
    result.reasons = reader.reasons
    if reader.read_error and result.events == 0 and result.lines == 0:
        result.status, result.error = "failed", f"{path}: {reader.read_error}"
    elif reader.read_error:  # the lines before the damage are kept; the file is named and the run exits 1
        result.damage = f"{path}: {reader.read_error}"
    house.record_source(
        key,
        {
            "key": key,
            "source": str(path),
            "format": module.NAME,
            "lines": result.lines,
            "events": result.events,
            "rejected": result.rejected,
            "skipped": result.skipped,
            "days": sorted(writers),
            "ingested_at": _now(),
            "status": "damaged" if result.damage else "ingested",
            "reason": result.damage,
            "erased": result.erased,
        },
    )
    return result
