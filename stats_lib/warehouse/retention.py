"""Retention and erasure: ``site-stats prune --keep-days N`` and ``site-stats forget --site HOST | --path-like P``.

Both first make a ``Plan`` (what would be deleted: days, files, event counts), which the CLI shows and asks
about, then ``apply`` it holding the warehouse lock:

- **prune** deletes the day partitions older than the cutoff (today - N, UTC), their rollups, the rejects files
  and ledger records of sources that had events only on those days (the others' records lose those days), the
  salts and tombstones of those days.
- **forget** rewrites every event file holding matching events without them (written beside it, then renamed
  over it: a reader sees the old file or the new one, never half of one; a file left empty is deleted), drops
  matching reject lines (``--path-like``: lines containing the pattern's text) and the rejects of sources left
  without events (``--site``), and keeps each ledger record true (events, days, and how many were erased).
  Rollups of the touched days are rebuilt (the rollups helper's ``refresh``), those of pruned days removed.

So that re-ingesting the same files (or a copy, or a rotated concatenation of them) never brings erased events
back, every prune and forget is also recorded as a rule in ``_erasures/rules.json`` that ingest applies to
every batch before it is written (the events it drops are counted as "erased" in its summary): events of days
before the latest prune cutoff, of a forgotten site, or with a path matching a forgotten pattern. The rules hold
no personal data beyond the pattern the user typed. To let a forgotten site's new logs in again, remove its rule
from that file.

Patterns are SQL LIKE patterns (``%`` any run, ``_`` one character, ``\\`` escapes), matched case-sensitively
on ``path`` with Arrow's ``match_like``, the same function at ingest and when rewriting.

An S3 warehouse is handled by ``S3Retention`` on the same logic (a private mirror, changes written back).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..config import Settings
from ..dates import utc_today
from ..errors import UserError
from ..schema import REJECT_SCHEMA, STORED_SCHEMA
from ..sites import normalise_site
from .local import AtomicParquetWriter, LocalWarehouse, _atomic_write_bytes, event_writer
from .salts import LocalSaltFolder
from .storage import ensure_current

RULES_FILE = Path("_erasures") / "rules.json"


def _site(host: str) -> str:
    return normalise_site(host) or ""


# -- rules applied at ingest ----------------------------------------------------------------------------------
@dataclass
class ErasureRules:
    """What prune and forget erased, so ingest never writes it again."""

    before: str | None = None  # 'YYYY-MM-DD': events of earlier days are dropped (the latest prune cutoff)
    sites: list[str] = field(default_factory=list)
    path_like: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, root: str | Path) -> ErasureRules:
        path = Path(root) / RULES_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise UserError(f"the erasure rules {path} cannot be read ({exc})",
                            "restore the file from a backup, or fix its JSON by hand") from None
        return cls(before=data.get("before"), sites=list(data.get("sites", [])), path_like=list(data.get("path_like", [])))

    def save(self, root: str | Path) -> None:
        data = {"before": self.before, "sites": sorted(set(self.sites)), "path_like": sorted(set(self.path_like))}
        _atomic_write_bytes(Path(root) / RULES_FILE, json.dumps(data, indent=1).encode())

    @property
    def empty(self) -> bool:
        return not (self.before or self.sites or self.path_like)

    def matches(self, sites: pa.Array | pa.ChunkedArray, paths: pa.Array | pa.ChunkedArray,
                days: pa.Array | pa.ChunkedArray | None = None) -> pa.Array:
        """A boolean mask of the rows (given by their site, path and UTC day) that the rules erase."""
        mask = pa.array(np.zeros(len(paths), dtype=bool))
        if self.before and days is not None:
            mask = pc.or_(mask, pc.fill_null(pc.less(days, self.before), False))
        for site in self.sites:
            mask = pc.or_(mask, pc.fill_null(pc.equal(sites, site), False))
        for pattern in self.path_like:
            mask = pc.or_(mask, pc.fill_null(pc.match_like(paths, pattern), False))
        return mask

    def apply(self, table: pa.Table, days: pa.Array) -> tuple[pa.Table, pa.Array, int]:
        """For enriched StoredEvent rows (the collector): (the rows kept, their UTC days, how many were erased)."""
        if self.empty or table.num_rows == 0:
            return table, days, 0
        erase = self.matches(table["site"], table["path"], days)
        n = pc.sum(pc.cast(erase, pa.int64())).as_py() or 0
        if not n:
            return table, days, 0
        keep = pc.invert(erase)
        return table.filter(keep), days.filter(keep), n

    def filter(self, raw: pa.Table, sites: Callable[[], pa.Array]) -> tuple[pa.Table, int]:
        """(the rows of a parsed batch the rules keep, how many they erase); ``sites``: the batch's sites, as
        enrichment will set them (asked for only when a site rule exists). Applied before enrichment, so erased
        events create no salt and cost no lookup."""
        if self.empty or raw.num_rows == 0:
            return raw, 0
        days = pc.cast(pc.cast(raw["ts"], pa.date32()), pa.string()) if self.before else None
        site_values = sites() if self.sites else raw["path"]  # any array of the right length when unused
        erase = self.matches(site_values, raw["path"], days)
        n = pc.sum(pc.cast(erase, pa.int64())).as_py() or 0
        return (raw.filter(pc.invert(erase)), n) if n else (raw, 0)


# -- plans ----------------------------------------------------------------------------------------------------
@dataclass
class Plan:
    """What an erasure will delete; ``text()`` says it to the user before asking."""

    action: str  # 'prune' or 'forget'
    what: str  # the rule in words
    rules: ErasureRules
    days: list[str] = field(default_factory=list)  # day partitions deleted whole (prune) or touched (forget)
    files: dict[str, int] = field(default_factory=dict)  # event file (relative) -> events erased from it
    whole_files: set[str] = field(default_factory=set)  # event files that end up deleted
    salt_days: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(self.files.values())

    @property
    def empty(self) -> bool:
        return not self.files and not self.salt_days

    def text(self) -> str:
        if self.empty:
            return f"{self.action}: nothing to delete ({self.what})"
        days = f"{len(self.days)} day(s)" + (f" ({self.days[0]} .. {self.days[-1]})" if self.days else "")
        parts = [f"{self.action} will delete {self.events} event(s) ({self.what}): {days}, "
                 f"{len(self.files)} event file(s) touched, {len(self.whole_files)} of them deleted whole"]
        if self.salt_days:
            parts.append(f"and the salts of {len(self.salt_days)} day(s)")
        return " ".join(parts)


@dataclass
class Outcome:
    plan: Plan
    rejects_removed: int = 0
    ledger_updated: int = 0
    ledger_removed: int = 0
    rollup_days: list[str] = field(default_factory=list)

    def text(self) -> str:
        p = self.plan
        return (f"{p.action}: deleted {p.events} event(s) in {len(p.files)} file(s) over {len(p.days)} day(s); "
                f"{self.rejects_removed} reject line(s), {self.ledger_removed} ledger record(s) removed, "
                f"{self.ledger_updated} updated; salts of {len(p.salt_days)} day(s) removed; rollups of "
                f"{len(self.rollup_days)} day(s) rebuilt; rule kept in {RULES_FILE}")


# -- the local warehouse --------------------------------------------------------------------------------------
class Retention:
    """Prune and forget on a local warehouse."""

    def __init__(self, settings: Settings, today: dt.date | None = None) -> None:
        self.settings = settings
        self.house = LocalWarehouse(settings.warehouse)
        self.today = today or utc_today()

    @classmethod
    def open(cls, settings: Settings, today: dt.date | None = None) -> Retention:
        """The retention of ``settings.warehouse``: a local folder, or an ``s3://`` warehouse (``S3Retention``)."""
        if settings.is_s3:
            return S3Retention(settings, today)
        return cls(settings, today)

    def close(self) -> None:
        """Nothing to release for a local warehouse."""

    # -- planning ---------------------------------------------------------------------------------------
    def _partitions(self) -> dict[str, list[Path]]:
        days: dict[str, list[Path]] = {}
        for path in self.house.event_files():
            days.setdefault(path.parent.name.removeprefix("dt="), []).append(path)
        return days

    def plan_prune(self, keep_days: int) -> Plan:
        cutoff = (self.today - dt.timedelta(days=keep_days)).isoformat()
        rules = ErasureRules(before=cutoff)
        plan = Plan("prune", f"days before {cutoff}", rules)
        for day, paths in sorted(self._partitions().items()):
            if day < cutoff:
                plan.days.append(day)
                for path in paths:
                    rel = str(path.relative_to(self.house.root))
                    plan.files[rel] = pq.ParquetFile(path).metadata.num_rows
                    plan.whole_files.add(rel)
        salts = LocalSaltFolder(self.house.salts_dir)
        plan.salt_days = sorted(d for d in set(salts.days()) | set(salts.tombstones()) if d < cutoff)
        return plan

    def plan_forget(self, *, site: str | None = None, path_like: str | None = None) -> Plan:
        if bool(site) == bool(path_like):
            raise UserError("forget needs exactly one of --site HOST or --path-like PATTERN", "name one")
        if site:
            rules = ErasureRules(sites=[_site(site)])
            what = f"site {_site(site)}"
        else:
            assert path_like is not None
            rules = ErasureRules(path_like=[path_like])
            what = f"paths like {path_like!r}"
        plan = Plan("forget", what, rules)
        for day, paths in sorted(self._partitions().items()):
            for path in paths:
                table = pq.read_table(path, columns=["site", "path"])
                n = pc.sum(pc.cast(rules.matches(table["site"], table["path"]), pa.int64())).as_py() or 0
                if n:
                    rel = str(path.relative_to(self.house.root))
                    plan.files[rel] = n
                    if n == table.num_rows:
                        plan.whole_files.add(rel)
                    if day not in plan.days:
                        plan.days.append(day)
        return plan

    # -- applying ---------------------------------------------------------------------------------------
    def apply(self, plan: Plan) -> Outcome:
        with self.house.lock(self.settings.lock_timeout_seconds, command=plan.action):
            ensure_current(self.settings)  # its files are rewritten with the current schema
            outcome = self._erase(plan)
            outcome.rollup_days = rebuild_rollups(self.settings, plan.days)
            self._tidy_rollups(plan)
        return outcome

    def _tidy_rollups(self, plan: Plan) -> None:
        if plan.action == "prune":
            for folder in (self.house.root / "rollups").glob("*/dt=*"):
                if folder.name.removeprefix("dt=") in plan.days and not any(folder.iterdir()):
                    folder.rmdir()  # emptied by the rebuild

    def _erase(self, plan: Plan) -> Outcome:
        """Everything but the rollups, in the local folder (the caller holds the lock)."""
        # the rule first: an ingest after this point (or after a crash half-way) drops these events too
        rules = ErasureRules.load(self.house.root)
        if plan.rules.before and (not rules.before or plan.rules.before > rules.before):
            rules.before = plan.rules.before
        rules.sites += plan.rules.sites
        rules.path_like += plan.rules.path_like
        rules.save(self.house.root)
        outcome = Outcome(plan)
        erased: Counter[str] = Counter()  # source name (<format>-<key24>) -> events erased
        for rel, n in sorted(plan.files.items()):
            path = self.house.root / rel
            if rel in plan.whole_files:
                path.unlink(missing_ok=True)
            else:
                self._rewrite(path, plan.rules)
            erased[path.stem] += n
        for day in plan.days:
            folder = self.house.events_dir / f"dt={day}"
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        self._fix_ledger(plan, erased, outcome)
        salts = LocalSaltFolder(self.house.salts_dir)
        for day in plan.salt_days:
            salts.forget_day(day)
        return outcome

    def _rewrite(self, path: Path, rules: ErasureRules) -> None:
        table = pq.read_table(path, schema=STORED_SCHEMA) if _has_all_columns(path) else pq.read_table(path)
        kept = table.filter(pc.invert(rules.matches(table["site"], table["path"])))
        if kept.num_rows == 0:
            path.unlink(missing_ok=True)
            return
        with event_writer(path, kept.schema) as writer:
            writer.write(kept)

    def _fix_ledger(self, plan: Plan, erased: Counter[str], outcome: Outcome) -> None:
        """Keep every ledger record true: its events and days after the erasure; rejects of emptied sources."""
        remaining = self._partitions()
        names_by_day = {day: {p.stem for p in paths} for day, paths in remaining.items()}
        for record in self.house.ledger():
            key = record.get("key", "")
            if record.get("status") == "failed":
                continue
            name = f"{record.get('format')}-{key[:24]}"
            days = [d for d in record.get("days") or [] if name in names_by_day.get(d, set())]
            lost = erased.get(name, 0)
            if not lost and days == (record.get("days") or []):
                continue
            if not days and (plan.action == "prune" or plan.rules.sites):  # the source has no events left
                outcome.rejects_removed += self._drop_rejects(name)
                if plan.action == "prune":
                    self.house.ledger_dir.joinpath(f"{key}.json").unlink(missing_ok=True)
                    outcome.ledger_removed += 1
                    continue
            record["events"] = max(int(record.get("events") or 0) - lost, 0)
            record["days"] = days
            record["erased"] = int(record.get("erased") or 0) + lost
            self.house.record_source(key, record)
            outcome.ledger_updated += 1
        for pattern in plan.rules.path_like:
            outcome.rejects_removed += self._scrub_rejects(pattern)

    def _drop_rejects(self, name: str) -> int:
        path = self.house.rejects_dir / f"{name}.parquet"
        if not path.exists():
            return 0
        n = pq.ParquetFile(path).metadata.num_rows
        path.unlink()
        return n

    def _scrub_rejects(self, pattern: str) -> int:
        """Drop the reject lines that contain the pattern's text (a malformed line may hold that path too)."""
        anywhere = pattern if pattern.startswith("%") else "%" + pattern
        anywhere = anywhere if anywhere.endswith("%") and not anywhere.endswith("\\%") else anywhere + "%"
        removed = 0
        for path in self.house.reject_files():
            table = pq.read_table(path)
            hit = pc.fill_null(pc.match_like(table["line"], anywhere), False)
            n = pc.sum(pc.cast(hit, pa.int64())).as_py() or 0
            if not n:
                continue
            removed += n
            kept = table.filter(pc.invert(hit))
            if kept.num_rows == 0:
                path.unlink()
            else:
                with AtomicParquetWriter(path, REJECT_SCHEMA) as writer:
                    writer.write(kept.cast(REJECT_SCHEMA))
        return removed


def _has_all_columns(path: Path) -> bool:
    return set(STORED_SCHEMA.names) <= set(pq.ParquetFile(path).schema_arrow.names)


def rebuild_rollups(settings: Settings, days: list[str]) -> list[str]:
    """The rollups of erased days, brought back in line with their events (call it holding the lock): the
    rollups helper's ``refresh`` rebuilds every day whose event files changed (a forget's rewrites) and removes
    the rollups of days left without events (a prune's). Returns the days rebuilt or removed."""
    if not days:
        return []
    from .rollups import refresh

    result = refresh(settings.warehouse, settings)
    return sorted(set(result.days) | set(result.removed))


# -- an S3 warehouse --------------------------------------------------------------------------------------------
MIRRORED = ("events", "rejects", "_ledger", "_erasures", "_salts")  # what an S3 prune/forget reads and may change
PUSH_ORDER = ("_erasures", "events", "rejects", "_ledger", "_salts")  # the rule first, the ledger after the data


class S3Retention(Retention):
    """Prune and forget on ``s3://``: the warehouse's events, rejects, ledger, rules and salt objects are copied
    into a private temporary folder (0700), the local logic plans and applies there, and what changed is written
    back in a safe order (the rule first, so a concurrent or later ingest already drops those events; rewritten
    event objects, each an atomic PUT; deleted objects; the ledger records), then the rollups of the touched days
    are refreshed on S3. There is no lock on S3: run prune/forget when no ingest writes the same days (a racing
    ingest's events are still caught by the rule on its next run). It reads the whole warehouse, so it suits
    small and medium lakes; at scale, do the same with Athena (DELETE on Iceberg) or S3 Batch Operations."""

    def __init__(self, settings: Settings, today: dt.date | None = None) -> None:
        import tempfile

        from .s3 import S3Warehouse

        self.lake = S3Warehouse(settings)
        ensure_current(settings)  # on S3 itself, before its files are copied
        self.s3_settings = settings
        self.folder = Path(tempfile.mkdtemp(prefix="site-stats-retention-"))
        os.chmod(self.folder, 0o700)  # it holds salts
        self._before = self._pull()
        super().__init__(settings.with_(warehouse=str(self.folder)), today)

    def _pull(self) -> dict[str, tuple[int, int]]:
        from .s3 import list_files

        fs = self.lake.fs
        for top in MIRRORED:
            for rel in list_files(fs, f"{self.lake.root}/{top}"):
                target = self.folder / top / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if top == "_salts":  # only their names matter here: never copy a secret
                    target.touch()
                    continue
                with fs.open_input_stream(f"{self.lake.root}/{top}/{rel}") as src:
                    target.write_bytes(src.read())
        return _snapshot(self.folder)

    def apply(self, plan: Plan) -> Outcome:
        outcome = self._erase(plan)
        self._push()
        outcome.rollup_days = rebuild_rollups(self.s3_settings, plan.days)
        return outcome

    def _push(self) -> None:
        """Write back what changed (boto3: pyarrow's delete would leave folder marker objects behind)."""
        s3, bucket = self.lake.s3, self.lake.bucket
        after = _snapshot(self.folder)
        changed = [rel for rel, stamp in after.items() if self._before.get(rel) != stamp]
        for top in PUSH_ORDER:
            for rel in sorted(r for r in changed if r.split("/", 1)[0] == top):
                s3.put_object(Bucket=bucket, Key=self.lake.key(rel), Body=(self.folder / rel).read_bytes())
        for top in PUSH_ORDER:
            for rel in sorted(r for r in self._before if r not in after and r.split("/", 1)[0] == top):
                s3.delete_object(Bucket=bucket, Key=self.lake.key(rel))
        self._before = after

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (size, mtime in ns) of every file below ``root``, lock file and temporaries aside."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and p.name != "_lock" and not p.name.endswith(".tmp")}


def pull_rules(lake, folder: Path) -> None:
    """Copy an S3 warehouse's erasure rules into a staged ingest's folder, so that ingest applies them too."""
    import pyarrow.fs as pafs

    key = f"{lake.root}/{RULES_FILE.as_posix()}"
    if lake.fs.get_file_info(key).type != pafs.FileType.File:
        return
    target = Path(folder) / RULES_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with lake.fs.open_input_stream(key) as src:
        target.write_bytes(src.read())
