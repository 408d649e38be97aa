"""The local sink: accepted events -> WAL record -> write-ahead log (answered) -> enrichment -> Parquet.

``submit`` turns the event into its WAL record on the event loop (what needs the client IP: prefix, geolocation,
visitor id; ``store.Enricher.record``) and returns once the record is fsynced in the WAL (group commit: one
write and one fsync for all the requests that arrived meanwhile, on the writer thread). A flusher thread moves
each sealed segment into the warehouse exactly once, enriching it as one columnar batch on the way
(``Enricher.finish``: bots, user agents, referrers, campaigns): one Parquet file per UTC day named after the
segment (``events/dt=DAY/<segment>.parquet``; the events' ``source_file`` is the segment, ``line_number`` their
line in it), the bots it dropped as rejects, then the ledger record, and only then deletes the segment. A crash
between any two steps is repaired on the next start: the same file names are rewritten (never duplicated) and a
segment whose ledger record exists is only deleted. Each move is logged at INFO (``site-stats serve --verbose``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from ..config import Settings
from ..dates import utc_timestamp
from ..warehouse.local import LocalWarehouse
from ..warehouse.retention import ErasureRules
from ..warehouse.rollups import refresh as refresh_rollups
from ..warehouse.storage import ensure_current
from .store import SOURCE, Enricher, encode_record, read_records, rejects_table, split_by_day, utc_days
from .wal import GroupCommit, WriteAheadLog

log = logging.getLogger(__name__)


class LocalSink:
    """WAL + flusher into a local warehouse folder; one per running collector."""

    def __init__(self, settings: Settings) -> None:
        if settings.is_s3:
            raise ValueError("site-stats serve writes a local warehouse; on AWS the collector runs in Lambda "
                             "(stats_lib.aws.handlers.collector) and delivers through Firehose")
        self.settings = settings
        self.house = LocalWarehouse(settings.warehouse)
        self.house.ensure()
        self.enricher = Enricher(settings, self.house.salts_dir)
        self._sealed: queue.Queue[Path | None] = queue.Queue()
        self.wal = WriteAheadLog(settings.wal_dir, max_events=settings.collector_flush_events,
                                 max_seconds=settings.collector_flush_seconds, on_sealed=self._sealed.put)
        self.commit = GroupCommit(self._write)
        self.accepted = 0  # events answered 202 (durable in the WAL)
        self.batches = 0  # group commits (WAL writes + fsyncs)
        self.stored = 0  # events moved into the warehouse
        self.dropped: Counter = Counter()  # reason -> events answered 202 and not stored (bots), counted when moved
        self.flushed_segments = 0
        self.error: str | None = None  # the last flush failure, shown by /health
        self._salt_day: int | None = None
        self._rolled_up = time.monotonic()  # when the rollups were last brought up to date
        self._unrolled = False  # segments moved since then
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the flusher, first on what a previous process left in the WAL (accepting events meanwhile: a
        long ingest holding the warehouse lock delays the move into Parquet, never an answer)."""
        self.enricher.warm_up()
        for path in self.wal.leftovers():
            self._sealed.put(path)
        self._thread = threading.Thread(target=self._flusher, name="wal-flusher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Seal the current segment and move everything into the warehouse (a clean shutdown leaves no WAL)."""
        self.commit.close()
        self.wal.seal()
        self._sealed.put(None)
        if self._thread is not None:
            self._thread.join()

    @property
    def healthy(self) -> bool:
        """Events can be accepted (a flush that failed is retried and shown in ``error``; nothing is lost)."""
        return self._thread is not None and self._thread.is_alive()

    def counters(self) -> dict:
        """What /health shows: events stored, dropped by reason, segments moved, the last flush error."""
        return {"accepted": self.accepted, "batches": self.batches, "stored": self.stored,
                "dropped": dict(self.dropped.most_common()), "segments_flushed": self.flushed_segments,
                "error": self.error}

    # -- accepting ----------------------------------------------------------------------------------------
    async def submit(self, row: dict) -> None:
        """Return once ``row`` (a RAW row, see ``store.raw_row``) is durable in the WAL as its record (no raw IP)."""
        today = int(time.time() // 86400)  # the UTC day number
        if today != self._salt_day:  # once a day: delete expired salts like an ingest does
            self.enricher.purge_salts()
            self._salt_day = today
        await self.commit.submit(encode_record(self.enricher.record(row)))

    def _write(self, lines: list[bytes]) -> None:
        """On the writer thread: append the batch's lines to the WAL (fsynced), then count them."""
        self.wal.append(b"".join(lines), len(lines))
        self.batches += 1
        self.accepted += len(lines)

    # -- flushing ------------------------------------------------------------------------------------------
    def _flusher(self) -> None:
        tick = max(0.05, min(1.0, self.settings.collector_flush_seconds / 4))
        while True:
            try:
                path = self._sealed.get(timeout=tick)
            except queue.Empty:
                self.wal.seal_if_due()
                continue
            if path is None:  # stop(): its last segment was queued before this
                self._refresh_rollups()
                return
            self._flush_logged(path)
            if time.monotonic() - self._rolled_up >= self.settings.collector_rollup_seconds:
                self._refresh_rollups()

    def _flush_logged(self, path: Path) -> None:
        try:
            self.flush_segment(path)
            self.error = None
        except Exception as exc:  # the segment stays in the WAL; the next start (or seal) retries it
            self.error = f"moving {path.name} into the warehouse failed: {exc}"
            log.error("%s", self.error)

    def _refresh_rollups(self) -> None:
        """Rebuild the rollups of the days the moved segments changed (reports stay exact meanwhile: a day
        whose rollups are stale is computed from its events)."""
        if not self._unrolled:
            return
        try:
            with self.house.lock(self.settings.lock_timeout_seconds, command="collector rollups"):
                refresh_rollups(self.settings.warehouse, self.settings)
            self._unrolled = False
        except Exception as exc:  # retried after the next flush; the events themselves are in place
            self.error = f"refreshing the rollups failed: {exc}"
            log.error("%s", self.error)
        self._rolled_up = time.monotonic()

    def flush_segment(self, path: Path) -> dict:
        """Move one sealed segment into the warehouse (exactly once); return its ledger record."""
        started = time.perf_counter()
        name = path.stem
        with self.house.lock(self.settings.lock_timeout_seconds, command="collector"):  # one writer at a time
            ensure_current(self.settings)  # a warehouse of an older storage version is upgraded first
            done = self.house.ledger_entry(name)
            if done is not None:  # Parquet and ledger were in place before a crash: only the deletion is left
                path.unlink(missing_ok=True)
                return done
            records, damaged = read_records(path.read_bytes(), name)
            batch = self.enricher.finish(records, name)
            entry = commit(self.house, name, batch.events, damaged + batch.dropped,
                           f"collector WAL segment {path.name}")
        path.unlink()
        self.flushed_segments += 1
        self.stored += batch.events.num_rows
        self.dropped.update(d["reason"] for d in batch.dropped)
        self._unrolled = True
        log.info("collector: moved %s into the warehouse: %d events stored on %d day(s) (%s), %d dropped%s, in %.2f s",
                 name, entry["events"], len(entry["days"]), ", ".join(entry["days"]) or "none",
                 len(batch.dropped) + len(damaged), _reasons(damaged + batch.dropped), time.perf_counter() - started)
        return entry


def _reasons(dropped: list[dict]) -> str:
    """' (bot: Googlebot 2, ...)': the drop counts by reason, most frequent first (reasons hold no IP)."""
    counts = Counter(d["reason"] for d in dropped)
    return " (" + ", ".join(f"{reason} {n}" for reason, n in counts.most_common()) + ")" if counts else ""


def commit(house: LocalWarehouse, name: str, events: pa.Table, dropped: list[dict], source: str) -> dict:
    """Write a batch of StoredEvents into the warehouse under ``name`` exactly once: one Parquet file per UTC day,
    the dropped events as rejects, then the ledger record (last: its presence means the rest is in place)."""
    days: list[str] = []
    day_of = utc_days(events["ts"])
    events, day_of, erased = ErasureRules.load(house.root).apply(events, day_of)  # what forget/prune erased
    if events.num_rows:
        parts = split_by_day(events)
        days = sorted(day for day, _ in parts)
        for day, part in parts:
            with house.open_events(day, name) as writer:
                writer.write(part)
    house.write_rejects(name, rejects_table(dropped))
    entry = {
        "key": name,
        "source": source,
        "format": SOURCE,
        "lines": events.num_rows + len(dropped) + erased,
        "events": events.num_rows,
        "rejected": sum(d["kind"] == "rejected" for d in dropped),  # damaged records
        "skipped": sum(d["kind"] != "rejected" for d in dropped),  # bots
        "erased": erased,
        "days": days,
        "ingested_at": utc_timestamp(),
    }
    house.record_source(name, entry)
    return entry
