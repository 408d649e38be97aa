"""The local sink: accepted events -> enrichment -> write-ahead log (answered) -> the warehouse's Parquet.

``submit`` returns once the event is enriched and fsynced in the WAL (group commit). A flusher thread moves
each sealed segment into the warehouse exactly once: one Parquet file per UTC day named after the segment
(``events/dt=DAY/collector-<segment>.parquet``), the bots it dropped as rejects, then the ledger record, and only
then deletes the segment. A crash between any two steps is repaired on the next start: the same file names are
rewritten (never duplicated) and a segment whose ledger record exists is only deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import secrets
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..config import Settings
from ..schema import STORED_SCHEMA
from ..warehouse.local import LocalWarehouse
from ..warehouse.retention import ErasureRules
from ..warehouse.rollups import refresh as refresh_rollups
from .store import SOURCE, EnrichedBatch, Enricher, rejects_table, utc_days
from .wal import GroupCommit, WriteAheadLog, read_segment

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
        self.commit = GroupCommit(self._prepare, self._write)
        self.source_file = _process_name()  # the events' source_file; line numbers count this process's events
        self._next_line = 1
        self.accepted = 0
        self.batches = 0  # group commits (WAL writes + fsyncs)
        self.dropped: Counter = Counter()  # reason -> events answered 202 and not stored (bots)
        self.flushed_segments = 0
        self.error: str | None = None  # the last flush failure, shown by /health
        self._salt_day: dt.date | None = None
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
        return {"accepted": self.accepted, "batches": self.batches, "dropped": dict(self.dropped.most_common()),
                "segments_flushed": self.flushed_segments, "error": self.error}

    # -- accepting ----------------------------------------------------------------------------------------
    async def submit(self, row: dict) -> None:
        """Return once ``row`` (a RAW row, see ``store.raw_row``) is durable in the WAL."""
        await self.commit.submit(row)

    def _prepare(self, rows: list[dict]) -> tuple[EnrichedBatch, bytes]:
        """On the prepare thread: enrich the batch (no raw IP goes further) and encode its WAL line."""
        today = dt.datetime.now(dt.timezone.utc).date()
        if today != self._salt_day:
            self.enricher.purge_salts()  # a long-running collector deletes expired salts like an ingest does
            self._salt_day = today
        batch = self.enricher.enrich(rows, self.source_file, self._next_line)
        self._next_line += len(rows)
        return batch, batch.to_json()

    def _write(self, prepared: tuple[EnrichedBatch, bytes]) -> None:
        """On the writer thread: append the line to the WAL (fsynced), then count the batch."""
        batch, data = prepared
        self.wal.append(data, batch.events.num_rows + len(batch.dropped))
        self.batches += 1
        self.accepted += batch.events.num_rows
        self.dropped.update(d["reason"] for d in batch.dropped)

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
        name = path.stem
        with self.house.lock(self.settings.lock_timeout_seconds, command="collector"):  # one writer at a time
            done = self.house.ledger_entry(name)
            if done is not None:  # Parquet and ledger were in place before a crash: only the deletion is left
                path.unlink(missing_ok=True)
                return done
            batches = [EnrichedBatch.from_json(line) for line in read_segment(path)]
            events = pa.concat_tables([b.events for b in batches]) if batches else STORED_SCHEMA.empty_table()
            entry = commit(self.house, name, events, [d for b in batches for d in b.dropped],
                           f"collector WAL segment {path.name}")
        path.unlink()
        self.flushed_segments += 1
        self._unrolled = True
        return entry


def _process_name() -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"collector-{stamp}-{secrets.token_hex(4)}"


def commit(house: LocalWarehouse, name: str, events: pa.Table, dropped: list[dict], source: str) -> dict:
    """Write a batch of StoredEvents into the warehouse under ``name`` exactly once: one Parquet file per UTC day,
    the dropped events as rejects, then the ledger record (last: its presence means the rest is in place)."""
    days: list[str] = []
    day_of = utc_days(events["ts"])
    events, day_of, erased = ErasureRules.load(house.root).apply(events, day_of)  # what forget/prune erased
    if events.num_rows:
        days = sorted(pc.unique(day_of).to_pylist())
        for day in days:
            with house.open_events(day, name) as writer:
                writer.write(events.filter(pc.equal(day_of, day)))
    house.write_rejects(name, rejects_table(dropped))
    entry = {
        "key": name,
        "source": source,
        "format": SOURCE,
        "lines": events.num_rows + len(dropped),
        "events": events.num_rows,
        "rejected": 0,
        "skipped": len(dropped),
        "erased": erased,
        "days": days,
        "ingested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    house.record_source(name, entry)
    return entry
