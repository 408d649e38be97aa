"""``ingest(sources)``: read log files into the warehouse, exactly once per source file.

For each file: hash its bytes (the source key), skip it when the ledger already has that key, detect its
format, parse to Arrow batches, enrich, write one Parquet file per UTC day, write its rejects, then record it
in the ledger. A run killed at any moment and run again ends with exactly the counts of a clean run.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import multiprocessing
import os
import pickle
import queue
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from . import progress
from ._background import ahead, end_with_parent, parse_thread
from ._memory import keep_freed_memory
from .config import Settings
from .dates import utc_timestamp
from .display import safe_text
from .enrich.devices import detector_helper
from .enrich.geo import GeoLocator
from .enrich.pipeline import Enrichment, site_column, split_by_day
from .privacy import mask_ips
from .sources import Source, get_format
from .sources.base import LineReader
from .sources.detect import UnknownFormat, detect
from .warehouse.local import AtomicParquetWriter, LocalWarehouse
from .warehouse.retention import ErasureRules, pull_rules
from .warehouse.rollups import prepare as prepare_rollups
from .warehouse.rollups import refresh as refresh_rollups
from .warehouse.salts import ExpiredSaltWarning, SaltStore
from .warehouse.storage import ensure_current

log = logging.getLogger(__name__)  # what a run did, at INFO (`site-stats --verbose`); never a raw IP

if TYPE_CHECKING:
    from tqdm import tqdm

    from .sources.s3_objects import Planned, S3Object



HELPER_MIN_BYTES = 1 << 20  # inputs this large get the device-detector helper process (enrich.devices.Detections)


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
    headers: int = 0  # header and comment lines
    blank: int = 0  # lines = events + rejected + skipped + headers + blank
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
    def headers(self) -> int:
        return sum(f.headers for f in self.files)

    @property
    def blank(self) -> int:
        return sum(f.blank for f in self.files)

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
            f"header lines: {self.headers}",
            f"blank lines: {self.blank}",
        ]
        lines = ["; ".join(parts)]
        lines += [f"  {drop}" for drop in drops(self.reasons)]
        erased = sum(f.erased for f in self.files)
        if erased:
            lines.append(f"  {erased} x erased by an earlier prune/forget (not written again)")
        for f in self.files:
            if f.status == "failed":
                lines.append(f"  failed: {safe_text(mask_ips(f.error or ''))}")
            elif f.damage:
                lines.append(f"  damaged (kept up to the damage): {safe_text(mask_ips(f.damage))}")
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
    objects: list[S3Object] | None = None,
    rollups: bool = True,
) -> IngestSummary:
    """Ingest log files, folders, globs or ``s3://`` prefixes into the warehouse (a folder or ``s3://``).

    ``objects``: S3 objects already known by key and ETag (from S3 event notifications), read without listing.
    ``rollups``: refresh the rollups of the days touched (the Lambda handler does not: its package has no DuckDB;
    queries stay exact without them)."""
    settings = settings or Settings.from_env()
    forced = None if format == "auto" else get_format(format)
    show = settings.progress if progress is None else progress
    with contextlib.ExitStack() as stack:
        remote = [s for s in sources if s.startswith("s3://")]
        inputs = Inputs(expand_sources([s for s in sources if not s.startswith("s3://")]))
        lake = None
        if settings.is_s3:
            from .warehouse.s3 import S3Warehouse

            lake = S3Warehouse(settings)
            ensure_current(settings, progress=show)  # the Lambda handler has checked first, without rewriting
        seen = lake.ledger_keys().__contains__ if lake else _local_ledger(settings)
        if remote or objects:
            from .sources.s3_objects import plan

            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="site-stats-sources-")))
            inputs.add_s3(plan(settings, remote, list(objects or ()), seen), folder)
        if not lake:
            return _ingest_paths(inputs, forced, site, settings, show, rollups=rollups)
        local = stack.enter_context(lake.staged())
        pull_rules(lake, local)  # (trust) what prune/forget erased on S3 stays erased
        summary = _ingest_paths(inputs, forced, site, settings.with_(warehouse=str(local)), show,
                                seen=seen, salts=lake.salt_store(), rollups=False)
    if rollups:
        refresh_rollups(settings.warehouse, settings, progress=show)  # (rollups) once the new events are pushed
    return summary


def _local_ledger(settings: Settings):
    house = LocalWarehouse(settings.warehouse)
    return lambda key: house.ledger_entry(key) is not None


@dataclass
class Inputs:
    """The files a run reads, and what is known of them before reading (for S3 objects: their ledger key from
    bucket, key and ETag, and their s3:// name); ``settled``: inputs already ingested or unreadable, not read."""

    paths: list[Path]
    keys: dict[Path, str] = field(default_factory=dict)
    names: dict[Path, str] = field(default_factory=dict)
    settled: list[FileResult] = field(default_factory=list)
    s3: Planned | None = None  # sources.s3_objects.Planned: the new S3 objects, downloaded while the run reads
    folder: Path | None = None  # where their copies go

    def add_s3(self, planned, folder: Path) -> None:
        """S3 objects from ``sources.s3_objects.plan``: those the ledger holds are settled without being read."""
        self.s3, self.folder = planned, folder
        self.settled += [FileResult(path=obj.uri, status="already ingested") for obj in planned.skipped]

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.paths) + sum(o.size for o in (self.s3.new if self.s3 else ()))

    def files(self) -> Iterator[Path]:
        """The local files, then each new S3 object's copy as it arrives (deleted once read); an object that
        cannot be downloaded is settled as failed."""
        yield from self.paths
        for obj, copy in self.s3.download(self.folder) if self.s3 and self.folder else ():
            if isinstance(copy, str):
                self.settled.append(FileResult(path=obj.uri, status="failed", error=copy))
                continue
            self.keys[copy], self.names[copy] = obj.ledger_key, obj.uri
            yield copy
            copy.unlink(missing_ok=True)


@dataclass
class IngestRun:
    """What every file of one ingest run shares: the warehouse, its salts, the enrichment state (every cache),
    the erasure rules, the progress bar and the options."""

    house: LocalWarehouse
    salts: SaltStore
    enrichment: Enrichment
    erasures: ErasureRules
    bar: tqdm  # progress.bar
    forced: Source | None = None  # --format (None: detect each file's)
    site: str | None = None  # --site
    seen: Callable[[str], bool] | None = None  # whether another ledger (an S3 warehouse's) holds a source key
    parse_pool: ThreadPoolExecutor | None = None  # the process's parse thread, kept for every file (_background)
    ahead: Callable[[], None] | None = None  # what this process does while its workers read files (_in_workers)


def _ingest_paths(inputs: Inputs, forced: Source | None, site: str | None, settings: Settings, show: bool, *,
                  seen: Callable[[str], bool] | None = None, salts: SaltStore | None = None,
                  rollups: bool = True) -> IngestSummary:
    house = LocalWarehouse(settings.warehouse)
    house.ensure()
    with house.lock(settings.lock_timeout_seconds, command="ingest"):  # trust: one writer at a time
        ensure_current(settings, progress=show)  # a warehouse of an older storage version is upgraded first
        summary = _ingest_locked(inputs, forced, site, settings, show, house, seen=seen, salts=salts,
                                 ahead=prepare_rollups if rollups else None)
        if rollups:  # (rollups) the days whose events changed get their rollups rebuilt, under the lock
            refresh_rollups(settings.warehouse, settings, progress=show)
        return summary


def _ingest_locked(inputs: Inputs, forced: Source | None, site: str | None, settings: Settings, show: bool,
                   house: LocalWarehouse, *, seen: Callable[[str], bool] | None = None,
                   salts: SaltStore | None = None, ahead: Callable[[], None] | None = None) -> IngestSummary:
    house.clean_partial()
    erasures = ErasureRules.load(house.root)  # what prune/forget erased is never written again
    salts = salts or SaltStore.in_folder(house.salts_dir, retention_days=settings.salt_retention_days)
    settled = len(inputs.settled)
    summary = IngestSummary(files=list(inputs.settled))
    total = inputs.total_bytes()
    with contextlib.ExitStack() as stack:
        # forked first, while this process is quiet: the device detector's first calls run beside the bot step
        helper = _detector_helper(stack, total)
        pool = stack.enter_context(parse_thread())
        bar = stack.enter_context(progress.bar(total=total, unit="B", unit_scale=True, desc="ingest", show=show))
        # one per run: its caches serve every file
        enrichment = Enrichment(salts, GeoLocator(settings.geoip_path), detector_helper=helper)
        run = IngestRun(house, salts, enrichment, erasures, bar, forced=forced, site=site, seen=seen,
                        parse_pool=pool, ahead=ahead)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ExpiredSaltWarning)
            started = last = time.perf_counter()
            for path, result in _file_results(inputs, run, settings.ingest_workers):  # (reader) maybe in parallel
                _record_outcome(house, result)
                summary.files.append(result)
                bar.update(path.stat().st_size)
                now = time.perf_counter()
                _log_file(result, now - last)
                last = now
            summary.files += inputs.settled[settled:]  # S3 objects that could not be downloaded
            summary.expired_salt_days = sorted(salts.expired_days_used)
        for w in caught:
            if not issubclass(w.category, ExpiredSaltWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    purged = salts.purge()
    log.info("run: %d files, %d lines, %d events written, %d rejected in %.1f s; %d expired salts deleted",
             len(summary.files), summary.lines, summary.events, summary.rejected, time.perf_counter() - started,
             len(purged))
    return summary


def _log_file(result: FileResult, seconds: float) -> None:
    """One INFO line per file: what became of it, its counts and drops, and how long it took."""
    top = ", ".join(drops(result.reasons, 3))
    log.info("%s: %s (%s), %d lines, %d events, %d rejected, %d skipped%s in %.2f s",
             safe_text(mask_ips(result.path)), result.status, result.format or "format unknown", result.lines,
             result.events, result.rejected, result.skipped, f" ({safe_text(mask_ips(top))})" if top else "",
             seconds)


def drops(reasons: Counter, most: int | None = None) -> list[str]:
    """'N x reason' for the reasons lines were rejected or skipped, most frequent first (the ``most`` first)."""
    return [f"{n} x {reason}" for reason, n in reasons.most_common(most)]


def _record_outcome(house: LocalWarehouse, result: FileResult) -> None:
    """A failed file gets a ``failed`` ledger record (not counted as ingested: a retry reads it again); any
    other outcome clears the path's earlier failure."""
    if result.status == "failed":
        house.record_failure(result.path, result.format, result.error or "failed", utc_timestamp())
    else:
        house.clear_failure(result.path)


def _local_key(path: Path, stat: os.stat_result, run: IngestRun) -> str:
    """A local file's source key: remembered from an earlier run when the file has not changed since
    (``LocalWarehouse.known_key``), else hashed and remembered. A run into an S3 warehouse hashes every file: its
    stage folder is thrown away after the run and would remember nothing."""
    if run.seen is not None:
        return source_key(path)
    key = run.house.known_key(path, stat)
    if key is None:
        key = source_key(path)
        run.house.remember_key(path, stat, key)
    return key


def _ingest_file(path: Path, run: IngestRun, *, key: str | None = None, label: str | None = None) -> FileResult:
    """``key``/``label``: the ledger key and source name when known without reading (an S3 object's)."""
    house = run.house
    source = label or str(path)
    result = FileResult(path=source)
    stat = path.stat()
    if stat.st_size == 0:
        result.status = "empty"
        return result
    try:
        key = key or _local_key(path, stat, run)
    except OSError as exc:  # unreadable (permissions, a file that vanished): this file fails, the run goes on
        result.status, result.error = "failed", f"{path}: cannot read it ({exc.strerror or exc})"
        return result
    done = house.ledger_entry(key) or ({"key": key} if run.seen and run.seen(key) else None)
    if done is not None:
        result.status = "already ingested"
        result.format = done.get("format")
        return result
    try:
        module = run.forced or detect(path)
    except UnknownFormat as exc:
        result.status, result.error = "failed", str(exc).replace(str(path), source, 1)
        return result
    result.format = module.NAME
    name = f"{module.NAME}-{key[:24]}"
    reader = LineReader(str(path), source_file=path.name)
    writers: dict[str, AtomicParquetWriter] = {}
    try:
        for raw in ahead(module.parse(reader), pool=run.parse_pool):  # the next batch is parsed meanwhile
            if raw.num_rows == 0:
                continue
            raw, erased = run.erasures.filter(raw, partial(site_column, raw, run.site))  # trust: prune/forget stay erased
            result.erased += erased
            if raw.num_rows == 0:
                continue
            stored = run.enrichment.enrich(raw, module.NAME, path.name, site=run.site)
            for day, part in split_by_day(stored):
                writer = writers.get(day)
                if writer is None:
                    writer = writers[day] = house.open_events(day, name)
                writer.write(part)
            run.bar.set_postfix(file=progress.label(path.name), lines=reader.lines, refresh=False)
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
    result.headers, result.blank = reader.headers, reader.blank
    result.reasons = reader.reasons
    if reader.read_error and result.events == 0 and result.lines <= 1:  # nothing readable before the damage
        result.status, result.error = "failed", f"{source}: {reader.read_error}"
    elif reader.read_error:  # the lines before the damage are kept; the file is named and the run exits 1
        read = result.lines - 1  # the unreadable rest is the last line, rejected
        result.damage = f"{source}: unreadable after line {read} ({reader.read_error}); the {read} lines before were read"
    house.record_source(
        key,
        {
            "key": key,
            "source": source,
            "format": module.NAME,
            "lines": result.lines,
            "events": result.events,
            "rejected": result.rejected,
            "skipped": result.skipped,
            "days": sorted(writers),
            "ingested_at": utc_timestamp(),
            "status": "damaged" if result.damage else "ingested",
            "reason": result.damage,
            "erased": result.erased,
        },
    )
    return result


# -- parallel ingest (reader, issue 13) -----------------------------------------------------------------------
# The first local file is read in the run's own process; then worker processes forked from it read the others,
# one file at a time each. Most of an ingest's work is per distinct value (user agents above all: the device
# detector), and most distinct values of a site's logs appear in its first file: forked after it, the workers
# start with those caches warm (shared copy-on-write) instead of each computing them again. A file's events,
# rejects and ledger record are written by the one process that read it (exactly once, as in one process); the
# parent records outcomes, updates the progress bar and refreshes rollups. Every process uses the same salt
# folder (a day's salt is created once, atomically), so visitor ids are the ones a single process computes.
# S3 inputs and S3 warehouses stay in one process (on AWS, one Lambda invocation per object is the parallelism).

def _file_results(inputs: Inputs, run: IngestRun, workers: int) -> Iterator[tuple[Path, FileResult]]:
    """(path, result) for every input file, in input order: in worker processes when that can help."""
    count = _worker_count(inputs, run, workers)
    if count <= 1:
        for path in inputs.files():
            yield path, _ingest_file(path, run, key=inputs.keys.get(path), label=inputs.names.get(path))
        return
    yield from _in_workers(inputs, run, count)


def _worker_count(inputs: Inputs, run: IngestRun, workers: int) -> int:
    """How many worker processes: ``workers`` (0: one per core), at most one per file; 1 for S3 inputs or
    warehouses, or where processes cannot be forked."""
    if inputs.s3 is not None or run.seen is not None or not _can_fork():
        return 1
    return min(workers or os.cpu_count() or 1, len(inputs.paths) - 1)


def _detector_helper(stack: contextlib.ExitStack, total: int) -> Executor | None:
    """The device-detector helper process (``enrich.devices.Detections``) for inputs of ``HELPER_MIN_BYTES`` or
    more, where a process can be forked and given semaphores (AWS Lambda has none); else None."""
    if total < HELPER_MIN_BYTES or not _can_fork():
        return None
    try:
        return stack.enter_context(detector_helper())
    except OSError:
        return None


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _in_workers(inputs: Inputs, run: IngestRun, count: int) -> Iterator[tuple[Path, FileResult]]:
    """This process reads files until it has ingested one (an already ingested file costs one hash): that file
    warms the caches the workers are forked with, beside the detector's helper. Then the workers read the rest,
    if any: a periodic run whose only new file is the folder's last forks none."""
    paths = list(inputs.paths)
    while paths:
        path = paths.pop(0)
        result = _ingest_file(path, run, key=inputs.keys.get(path), label=inputs.names.get(path))
        yield path, result
        if result.status == "ingested":
            break
    if not paths:
        return
    count = min(count, len(paths))
    run.enrichment.settle()  # the workers inherit every answer asked for
    context = multiprocessing.get_context("fork")
    tasks, results = context.Queue(), context.Queue()
    workers = [context.Process(target=_worker, args=(run, tasks, results), daemon=True, name=f"ingest-{i}")
               for i in range(count)]
    for worker in workers:
        worker.start()
    if run.ahead is not None:  # this process only waits for results now: the next step's preparation
        threading.Thread(target=_quietly, args=(run.ahead,), name="ingest-ahead", daemon=True).start()
    try:
        for index, path in enumerate(paths):
            tasks.put((index, path, inputs.keys.get(path), inputs.names.get(path)))
        for _ in workers:
            tasks.put(None)
        done: dict[int, FileResult] = {}
        following = 0
        while following < len(paths):
            index, result, expired, error = _next_result(results, workers)
            if error is not None:
                raise error
            run.salts.expired_days_used.update(expired)
            done[index] = result
            while following in done:  # in input order, as soon as the next one is there
                yield paths[following], done.pop(following)
                following += 1
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()


def _quietly(work: Callable[[], None]) -> None:
    """Work done ahead of time: a failure is left to the step that needs the work, which meets it again."""
    try:
        work()
    except Exception:  # noqa: BLE001, S110 - refresh_rollups transpiles the same SQL and reports its error
        pass


def _next_result(results, workers: list) -> tuple:
    """The next worker's answer; an error when every worker has ended without sending it (killed)."""
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                codes = ", ".join(str(worker.exitcode) for worker in workers)
                raise RuntimeError(f"the ingest worker processes ended before finishing (exit codes {codes})") from None


def _worker(run: IngestRun, tasks, results) -> None:
    """A worker process: ingest the files it is given until told to stop, answering each with its result."""
    end_with_parent()  # a killed run's workers end too (the lock file they inherited with it)
    keep_freed_memory()  # a worker ends with the run: freed buffers serve its next file (_memory)
    warnings.simplefilter("ignore", ExpiredSaltWarning)  # the days are sent back with each result
    run.enrichment.forked()  # the parent's helper process serves the parent
    with parse_thread() as pool:  # nor is the parent's thread in this process
        run = replace(run, bar=progress.bar(show=False), parse_pool=pool)
        while (task := tasks.get()) is not None:
            index, path, key, label = task
            try:
                result = _ingest_file(path, run, key=key, label=label)
            except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
                results.put((index, None, (), _sendable(exc)))
                return
            results.put((index, result, sorted(run.salts.expired_days_used), None))


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")
