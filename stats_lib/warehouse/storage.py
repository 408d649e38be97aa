"""Storage versions: what a warehouse's event files hold, recorded in ``_storage.json`` at its root, and the upgrade.

- Version 1 (site-stats until December 2026): ``visitor_id`` is text, 32 hex digits (a 16-byte keyed digest).
- Version 2: ``visitor_id`` is a signed 64-bit integer, the first 8 bytes of the same digest
  (``enrich.visitors``). No other column changed.

A warehouse without ``_storage.json`` is of version 1 when it holds event files (every warehouse written before
the marker existed), else new.

- **Writers upgrade.** Every command that writes events (ingest, rollup, prune, forget, the collector) first
  calls ``ensure_current`` holding the writer lock: a new warehouse only gets the marker. A version-1 one has every
  event file rewritten with its ids converted (``visitors.from_text``: exactly the id the current code gives the
  same visitor on the same day). Each file is written beside the old one and renamed over it; on S3 it is one PUT
  of the same key. Then the Glue column is retyped, and the marker is written last. An interrupted upgrade is
  finished by the next one: a file already converted is skipped (its footer says int64).
- **The Lambda functions never rewrite.** A warehouse's whole history does not fit in 15 minutes. On a
  version-1 warehouse they fail with ``UpgradeRequired``, and SQS delivers the notifications again until
  ``site-stats upgrade`` has run.
- **Readers refuse a version-1 warehouse** (or one whose upgrade is under way or was interrupted) with the
  same one-line error, rather than mix text and integer ids in one count.
- **Rollups.** A day's rollups stay exact when the conversion relabels its ids one to one (checked: as many
  distinct ids after as before), so their manifests are pointed at the rewritten files (``rollups.keep_rollups``)
  instead of being rebuilt. Any other day (two old ids sharing their first 16 digits; a day an interrupted run
  had partly converted) is left stale: ``site-stats upgrade`` rebuilds it at once, else the next ingest does, and
  queries compute it from the events meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .._arrow import flat, per_distinct
from ..config import Settings
from ..errors import UserError
from .rollups import Store

log = logging.getLogger(__name__)

MARKER = "_storage.json"
CURRENT = 2
COLUMN = "visitor_id"


class UpgradeRequired(UserError):
    """The warehouse's event files are of an older storage version: ``site-stats upgrade`` converts them."""


@dataclass
class UpgradeResult:
    files: int = 0  # event files converted
    current: int = 0  # event files already of the current version (an interrupted upgrade's)
    events: int = 0  # events in the converted files
    kept_days: int = 0  # days whose rollups stay valid (the conversion was one-to-one there)
    seconds: float = 0.0

    def text(self) -> str:
        return (f"storage upgraded to version {CURRENT} (64-bit visitor ids): {self.files} event file(s) with "
                f"{self.events} events converted, {self.current} already converted, in {self.seconds:.1f} s; "
                f"the rollups of {self.kept_days} day(s) kept (the same counts)")


def _store(settings: Settings) -> Store:
    return Store.for_warehouse(settings.warehouse, settings)


def stored_version(store: Store) -> int | None:
    """The version ``_storage.json`` records; None when it is missing or unreadable."""
    try:
        with store.fs.open_input_stream(store.path(MARKER)) as fh:
            version = json.loads(fh.read()).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def event_files(store: Store) -> list[str]:
    """The paths of every event file (``events/dt=DAY/NAME.parquet``), sorted."""
    return [store.path("events", f"dt={day}", name) for day, files in store.event_days().items() for name, _ in files]


def _check_not_newer(recorded: int | None, settings: Settings) -> None:
    if recorded is not None and recorded > CURRENT:
        raise UserError(f"the warehouse {settings.warehouse} is of storage version {recorded}, written by a newer "
                        f"site-stats (this one knows {CURRENT})", "upgrade site-stats to read or write it")


def _required(settings: Settings) -> UpgradeRequired:
    return UpgradeRequired(
        f"the warehouse {settings.warehouse} holds event files of an older storage version (text visitor ids), or "
        "an upgrade of them is under way or was interrupted",
        f"run: site-stats upgrade --warehouse {settings.warehouse}")


def check_readable(settings: Settings) -> None:
    """Raise ``UpgradeRequired`` unless the warehouse's event files are all of the current version."""
    store = _store(settings)
    recorded = stored_version(store)
    _check_not_newer(recorded, settings)
    if recorded == CURRENT or (recorded is None and not store.event_days()):
        return
    raise _required(settings)


def mark_current(store: Store) -> None:
    store.write_bytes(store.path(MARKER), json.dumps({"version": CURRENT}).encode())


def ensure_current(settings: Settings, *, rewrite: bool = True, progress: bool = False) -> UpgradeResult | None:
    """Bring the warehouse to the current version (see the module docstring); hold the writer lock. ``rewrite``
    False: raise ``UpgradeRequired`` instead of converting files (the Lambda functions). The result, or None
    when no file needed converting."""
    store = _store(settings)
    recorded = stored_version(store)
    _check_not_newer(recorded, settings)
    if recorded == CURRENT:
        return None
    days = store.event_days()  # one listing, for the check and the upgrade
    if not days:
        mark_current(store)
        return None
    if not rewrite:
        raise _required(settings)
    return upgrade(settings, store, days, progress=progress)


def upgrade(settings: Settings, store: Store, days: dict[str, list[tuple[str, int]]], *,
            progress: bool = False) -> UpgradeResult:
    """Convert every event file of version 1 (``days``: ``Store.event_days``), keep the rollups that stay exact, retype the Glue column (S3),
    then write the marker.

    A day's rollups stay exact when the conversion is one-to-one on that day's ids: then every count of distinct
    visitors and every session is the same with the new ids as with the old. So for a day whose files were all
    converted here and whose distinct ids are as many after as before, its manifest (and its month's) is pointed
    at the rewritten files instead of having its rollups rebuilt (the bench's 100M-event warehouse of version 1: 94 s
    in all, all 90 days kept, against 215 s with every day rebuilt). A day where two old ids share their first 16 digits (about 1 in 37 million for a million
    visitors) is left stale and rebuilt with the new ids, as it would be counted from now on."""
    from ..progress import bar
    from .rollups import keep_rollups

    started = time.perf_counter()
    result = UpgradeResult()
    one_to_one: list[str] = []
    with tempfile.TemporaryDirectory(prefix="site-stats-upgrade-") as scratch, \
            bar(total=sum(map(len, days.values())), unit="file", desc="upgrade", show=progress) as shown:
        for day, day_files in days.items():
            old: list[pa.Array] = []
            new: list[pa.Array] = []
            whole = True  # every file of the day converted here, so its old ids are known
            for name, _ in day_files:
                converted = _convert(store, store.path("events", f"dt={day}", name), Path(scratch))
                shown.update(1)
                if converted is None:  # converted by an earlier, interrupted run: the day is rebuilt
                    result.current += 1
                    whole = False
                    continue
                result.files += 1
                result.events += converted.rows
                old.append(converted.old)
                new.append(converted.new)
            if whole and _distinct(old) == _distinct(new):
                one_to_one.append(day)
    result.kept_days = len(keep_rollups(store, days, one_to_one))
    if settings.is_s3:
        from .s3 import S3Warehouse

        S3Warehouse(settings).retype_column("events", COLUMN, "bigint")
    mark_current(store)
    result.seconds = time.perf_counter() - started
    log.info("%s: %s", settings.warehouse, result.text())
    return result


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _distinct(arrays: list[pa.Array]) -> int:
    return len(pc.unique(pa.concat_arrays(arrays))) if arrays else 0


@dataclass
class _Converted:
    rows: int
    old: pa.Array  # the file's distinct text ids
    new: pa.Array  # its distinct 64-bit ids


def _convert(store: Store, path: str, scratch: Path) -> _Converted | None:
    """Rewrite one event file with 64-bit visitor ids (the same encodings as ingest: ``local.event_writer``);
    what it held, or None when it already has them."""
    from .local import event_writer

    with store.fs.open_input_file(path) as fh:
        parquet = pq.ParquetFile(fh)
        schema = parquet.schema_arrow
        if COLUMN not in schema.names or pa.types.is_integer(schema.field(COLUMN).type):
            return None
        kind = schema.field(COLUMN).type
        if not _is_text(kind):
            raise UserError(f"the event file {path} has visitor ids of type {kind}, neither text (storage version 1) "
                            "nor 64-bit integers", "move the file out of the warehouse, then run the upgrade again")
        table = parquet.read()
    index = table.schema.get_field_index(COLUMN)
    text = table[COLUMN].cast(pa.string())  # also a dictionary of text (other tools write those)
    ids = from_text(text)
    table = table.set_column(index, pa.field(COLUMN, pa.int64()), ids)
    if store.atomic_rename:  # a local file: written beside the old one, renamed over it
        target = Path(path)
    else:
        target = scratch / "part.parquet"
    with event_writer(target, table.schema) as writer:
        writer.write(table)
    if not store.atomic_rename:  # S3: one PUT of the same key
        store.write_bytes(path, target.read_bytes())
    return _Converted(table.num_rows, pc.unique(flat(text)), pc.unique(ids))


def from_text(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Version-2 ids (int64) for text ids: a version-1 id (32 hex digits) becomes the integer of its first 16 digits
    (what ``enrich.visitors.visitor_id`` gives for the same visitor and day); any other text (another tool's ids) the first 8 bytes
    of its BLAKE2b digest, so distinct ids stay distinct. Nulls stay null. Once per distinct value."""
    return per_distinct(ids, _from_text_values)


def _from_text_values(values: pa.Array) -> pa.Array:
    return pa.array([None if v is None else id_from_text(v) for v in values.to_pylist()], pa.int64())


_VERSION_1 = re.compile(r"[0-9a-f]{32}")


def id_from_text(value: str) -> int:
    """``from_text`` for one id."""
    if _VERSION_1.fullmatch(value):
        return int.from_bytes(bytes.fromhex(value[:16]), "big", signed=True)
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
