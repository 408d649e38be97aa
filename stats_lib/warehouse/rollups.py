"""Daily rollups: per UTC day and site, the aggregates every report figure is a sum of.

Visitor ids change every UTC day and sessions never span days, so every figure a report shows over a period
(visitors, sessions, bounces, entries, per page, per source, per country...) is a sum over the period's days of
per-day figures. ``queries/rollups/NAME.sql`` defines one rollup (Trino SQL over ``events``, grouped by ``dt``,
``site`` and its dimensions); it is stored as::

    rollups/NAME/dt=YYYY-MM-DD/part.parquet   one file per rollup and day (without the dt column)
    rollups/_days/YYYY-MM-DD.json             the day's manifest, written last: which event files the day's
                                              rollups were built from, and each definition's version
    rollups/_months/NAME/month=YYYY-MM/part.parquet   the month level: the month's day rows combined
    rollups/_months/_manifests/YYYY-MM.json   the month's manifest, written last: the event files of each of
                                              its days, and each definition's version

A day's rollups are valid while its event files (names and sizes) and the definitions are the ones its
manifest records. The report queries read ``rollup_NAME``: the engine splits the period into days with valid
rollups (read from the files) and days without (computed from the events with the same SQL), so an answer is
always exact, whether rollups are complete, stale (a late file, a crash between events and rollups, a
definition change), or absent (a warehouse written before rollups existed). Ingest rebuilds the days whose
rollups are not valid (``refresh``); ``site-stats rollup`` rebuilds any days. A rebuilt day is replaced whole,
from sorted rows, so a re-run writes the same bytes.

Months: after the days, every month whose month rollups are not valid (a day of it was rebuilt, added or
removed; a definition changed) is rebuilt from its days' stored rollups (``sql.month_rollup``: sums of sums,
exact), provided all its days' rollups are valid. A month's rows are valid while its days' event files are
the ones its manifest records; a query over a period then reads the month rows of each month whose days with
events all lie in the period, and the days of the other months.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..engines import sql

ROLLUPS = "rollups"
MANIFESTS = f"{ROLLUPS}/_days"
MONTHS = f"{ROLLUPS}/_months"
MONTH_MANIFESTS = f"{MONTHS}/_manifests"
MONTH = re.compile(r"^\d{4}-\d{2}$")
PART = "part.parquet"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TMP_SUFFIX = ".tmp"


# -- definitions ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Definition:
    name: str
    query: sql.Query

    @cached_property
    def version(self) -> str:
        """Changes when the rollup's SQL, or a shared relation it may read, changes."""
        digest = hashlib.sha256(self.query.text.encode())
        for path in sorted(sql.shared_dir().glob("*.sql")):
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    @cached_property
    def columns(self) -> list[str]:
        return sql.rollup_columns(self.query)

    @cached_property
    def month_version(self) -> str:
        """Changes when the day rows' version or the generated month SQL changes."""
        return hashlib.sha256((self.version + self.month_query.text).encode()).hexdigest()[:16]

    @cached_property
    def month_query(self) -> sql.Query:
        """Its month level, over the table ``rollup_NAME`` of the month's day rows."""
        return sql.month_rollup(self.name, self.query)


def definitions() -> dict[str, Definition]:
    return {name: Definition(name, sql.load_rollup(name)) for name in sql.rollup_names()}


# -- storage ----------------------------------------------------------------------------------------------
@dataclass
class Store:
    """A warehouse root on a pyarrow filesystem (local folder or S3 bucket/prefix)."""

    fs: pafs.FileSystem
    root: str
    atomic_rename: bool = True  # local: write .tmp then rename; S3: a PUT is already all or nothing

    @classmethod
    def for_warehouse(cls, warehouse: str, settings=None) -> Store:
        if warehouse.startswith("s3://"):
            from .s3 import S3Warehouse

            house = S3Warehouse(settings.with_(warehouse=warehouse))
            return cls(house.fs, house.root, atomic_rename=False)
        return cls(pafs.LocalFileSystem(), str(pafs.LocalFileSystem().normalize_path(warehouse)).rstrip("/"))

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def uri(self, *parts: str) -> str:
        prefix = "" if isinstance(self.fs, pafs.LocalFileSystem) else "s3://"
        return prefix + self.path(*parts)

    def files(self, sub: str) -> dict[str, int]:
        """Relative path -> size of every file below ``sub``."""
        base = self.path(sub)
        selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
        return {i.path[len(base) + 1:]: i.size for i in self.fs.get_file_info(selector)
                if i.type == pafs.FileType.File and not i.path.endswith(TMP_SUFFIX)}

    def event_days(self) -> dict[str, list[tuple[str, int]]]:
        """Day -> sorted (file name, size) of its event files."""
        days: dict[str, list[tuple[str, int]]] = {}
        for rel, size in self.files("events").items():
            folder, _, name = rel.partition("/")
            if folder.startswith("dt=") and name.endswith(".parquet") and "/" not in name:
                days.setdefault(folder[3:], []).append((name, size))
        return {day: sorted(files) for day, files in sorted(days.items()) if DAY.match(day)}

    def manifests(self, folder: str = MANIFESTS, key: re.Pattern = DAY) -> dict[str, dict]:
        """Day (or month, from ``MONTH_MANIFESTS``) -> its manifest."""
        found = {}
        for rel in self.files(folder):
            day = rel.removesuffix(".json")
            if key.match(day):
                try:
                    with self.fs.open_input_stream(self.path(folder, rel)) as fh:
                        found[day] = json.loads(fh.read())
                except (OSError, ValueError):
                    continue  # a damaged manifest only means the day is computed from the events
        return found

    def month_manifests(self) -> dict[str, dict]:
        return self.manifests(MONTH_MANIFESTS, MONTH)

    def rollup_months(self) -> dict[str, dict[str, list[str]]]:
        """Rollup name -> month -> its month-level data files."""
        return self._parts(MONTHS, "month=")

    def month_part_path(self, name: str, month: str) -> str:
        return self.path(MONTHS, name, f"month={month}", PART)

    def rollup_days(self) -> dict[str, dict[str, list[str]]]:
        """Rollup name -> day -> its data files (``part.parquet`` when DuckDB built it; Athena's INSERT names
        its own files, and writes none for a day without rows)."""
        return self._parts(ROLLUPS, "dt=")

    def _parts(self, folder: str, key: str) -> dict[str, dict[str, list[str]]]:
        """Rollup name -> partition value -> data files, of ``folder/NAME/<key>VALUE/FILE``."""
        found: dict[str, dict[str, list[str]]] = {}
        for rel in sorted(self.files(folder)):
            parts = rel.split("/")
            if len(parts) == 3 and parts[1].startswith(key) and not parts[2].startswith(("_", ".")):
                found.setdefault(parts[0], {}).setdefault(parts[1][len(key):], []).append(self.path(folder, rel))
        return found

    def part_path(self, name: str, day: str) -> str:
        return self.path(ROLLUPS, name, f"dt={day}", PART)

    def write_bytes(self, path: str, data: bytes) -> None:
        parent = path.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        target = path + TMP_SUFFIX if self.atomic_rename else path
        with self.fs.open_output_stream(target) as out:
            out.write(data)
        if self.atomic_rename:
            self.fs.move(target, path)

    def write_table(self, path: str, table: pa.Table) -> None:
        """zstd Parquet, without the table's schema metadata; locally straight into the file (.tmp, then
        renamed), on S3 one PUT of the encoded bytes."""
        table = table.replace_schema_metadata(None)
        if not self.atomic_rename:
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression="zstd")
            self.write_bytes(path, sink.getvalue().to_pybytes())
            return
        self.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        pq.write_table(table, path + TMP_SUFFIX, compression="zstd", filesystem=self.fs)
        self.fs.move(path + TMP_SUFFIX, path)

    def delete(self, path: str) -> None:
        try:
            self.fs.delete_file(path)
        except FileNotFoundError:
            pass

    def write_manifest(self, day: str, manifest: dict) -> None:
        self.write_bytes(self.path(MANIFESTS, f"{day}.json"), json.dumps(manifest, indent=1, sort_keys=True).encode())

    def delete_manifest(self, day: str) -> None:
        self.delete(self.path(MANIFESTS, f"{day}.json"))

    def write_month_manifest(self, month: str, manifest: dict) -> None:
        self.write_bytes(self.path(MONTH_MANIFESTS, f"{month}.json"),
                         json.dumps(manifest, indent=1, sort_keys=True).encode())

    def delete_month_manifest(self, month: str) -> None:
        self.delete(self.path(MONTH_MANIFESTS, f"{month}.json"))


def fingerprint(files: list[tuple[str, int]]) -> str:
    """What a day's rollups were built from: its event files' names and sizes."""
    return hashlib.sha256(json.dumps(files).encode()).hexdigest()[:24]


def month_of(day: str) -> str:
    return day[:7]


def keep_rollups(store: Store, before: dict[str, list[tuple[str, int]]], days: Iterable[str]) -> list[str]:
    """Of ``days`` whose event files were rewritten with the same meaning (``before``: each day's files then), the
    days whose rollups were valid for those files, with their manifests (and their months') now naming the files as
    they are; the others are left stale, to be rebuilt. Returns the days kept."""
    after, wanted = store.event_days(), set(days)
    kept = []
    for day, manifest in store.manifests().items():
        if day in wanted and day in before and day in after and manifest.get("events") == fingerprint(before[day]):
            store.write_manifest(day, {**manifest, "events": fingerprint(after[day])})
            kept.append(day)
    for month, manifest in store.month_manifests().items():
        recorded = manifest.get("days")
        if not isinstance(recorded, dict) or not recorded:
            continue
        if all(d in kept and recorded[d] == fingerprint(before[d]) for d in recorded):
            store.write_month_manifest(month, {**manifest, "days": {d: fingerprint(after[d]) for d in recorded}})
    return sorted(kept)


# -- state and plans ----------------------------------------------------------------------------------------
@dataclass
class RollupState:
    """Which days hold events, and for each rollup which of them have valid rollups (see the module doc)."""

    event_days: dict[str, list[tuple[str, int]]]
    valid: dict[str, set[str]]
    defs: dict[str, Definition] = field(default_factory=definitions)
    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # rollup -> day -> data files
    valid_months: dict[str, set[str]] = field(default_factory=dict)  # rollup -> months with valid month rows
    month_files: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # rollup -> month -> files

    @classmethod
    def load(cls, store: Store, defs: dict[str, Definition] | None = None) -> RollupState:
        defs = defs or definitions()
        event_days = store.event_days()
        manifests = store.manifests()
        present = store.rollup_days()
        valid: dict[str, set[str]] = {name: set() for name in defs}
        for day, files in event_days.items():
            manifest = manifests.get(day)
            if not manifest or manifest.get("events") != fingerprint(files):
                continue
            versions = manifest.get("versions", {})
            by_athena = manifest.get("engine") == "athena"  # its files have Athena's names, or none at all
            for name, definition in defs.items():
                if versions.get(name) == definition.version and (by_athena or day in present.get(name, {})):
                    valid[name].add(day)
        state = cls(event_days, valid, defs, present)
        state.month_files = store.rollup_months()
        state.valid_months = {name: set() for name in defs}
        for month, manifest in store.month_manifests().items():
            if manifest.get("days") != state.month_fingerprints(month):
                continue
            versions = manifest.get("versions", {})
            by_athena = manifest.get("engine") == "athena"
            for name, definition in defs.items():
                if (versions.get(name) == definition.month_version
                        and (by_athena or month in state.month_files.get(name, {}))):
                    state.valid_months[name].add(month)
        return state

    def month_days(self, month: str) -> list[str]:
        return [d for d in self.event_days if month_of(d) == month]

    def months(self) -> list[str]:
        return sorted({month_of(d) for d in self.event_days})

    def month_fingerprints(self, month: str) -> dict[str, str]:
        """What a month's rows are built from: each of its days' event files."""
        return {d: fingerprint(self.event_days[d]) for d in self.month_days(month)}

    def stale_days(self) -> list[str]:
        """Days with events whose rollups (any of them) are missing or out of date."""
        return [day for day in self.event_days if any(day not in self.valid[n] for n in self.defs)]

    def stale_months(self) -> list[str]:
        """Months with events whose month rows (any of them) are missing or out of date."""
        return [m for m in self.months() if any(m not in self.valid_months.get(n, set()) for n in self.defs)]

    def split(self, name: str, start: str, end: str, *, months: bool = False) -> tuple[list[str], list[str], list[str]]:
        """(months read whole from rollup ``name``'s month rows, days of start..end read from its day rows, days
        computed from the events). ``months``: the query may read month rows; a month is read whole when its
        month rows are valid and all its days with events lie in start..end."""
        if name not in self.defs:
            raise sql.UnknownQuery(f"unknown rollup {name!r}; available: {', '.join(sorted(self.defs))}")
        days = [d for d in self.event_days if start <= d <= end]
        whole: list[str] = []
        if months:
            for month in sorted({month_of(d) for d in days} & self.valid_months.get(name, set())):
                if all(start <= d <= end for d in self.month_days(month)):
                    whole.append(month)
            days = [d for d in days if month_of(d) not in whole]
        built = [d for d in days if d in self.valid[name]]
        return whole, built, [d for d in days if d not in self.valid[name]]


@dataclass
class Plan:
    """A period's split for ``sql.Query.with_rollups``: per rollup, the table holding its valid days in the
    period (a name the engine provides) and the days to compute from the events."""

    state: RollupState
    start: str
    end: str
    table_for: Callable[[str, list[str]], str] | None = None  # the engine's table holding exactly (name,
    # days); default: the table "rollup_NAME" (the Glue tables), filtered to the days
    month_table_for: Callable[[str, list[str]], str] | None = None  # the same for month rows (with a month
    # column); default: the table "rollup_month_NAME", filtered to the months

    def split(self, name: str, months: bool = False) -> sql.Split:
        whole, built, computed = self.state.split(name, self.start, self.end, months=months)
        month: dict = {}
        if whole:
            table = self.month_table_for(name, whole) if self.month_table_for else f"{sql.MONTH_PREFIX}{name}"
            month = {"month_table": table, "months": tuple(whole)}
        if not built:
            return sql.Split(None, [], computed, **month)
        if self.table_for:
            return sql.Split(self.table_for(name, built), None, computed, **month)
        return sql.Split(f"rollup_{name}", built, computed, **month)


@dataclass
class StoredDays:
    """A split for a month's rows: every day read from the table holding them (``days`` None: exactly those)."""

    table: str
    days: list[str] | None = None

    def split(self, name: str, months: bool = False) -> sql.Split:
        return sql.Split(self.table, self.days, [])


# -- building -------------------------------------------------------------------------------------------
@dataclass
class BuildResult:
    days: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)

    def text(self) -> str:
        span = f" ({self.days[0]} to {self.days[-1]})" if self.days else ""
        parts = [f"rollups rebuilt for {len(self.days)} day(s){span}"]
        if self.removed:
            parts.append(f"removed for {len(self.removed)} day(s) without events")
        if self.months:
            parts.append(f"month level rebuilt for {len(self.months)} month(s) ({', '.join(self.months)})")
        if self.rows:
            parts.append(f"{sum(self.rows.values())} rows in {len(self.rows)} rollups")
        return "; ".join(parts)


Compute = Callable[[Callable[[str, pa.Table], None]], dict[str, int]]  # compute(write): every rollup's rows
# handed to write(name, rows) sorted by all their columns (maybe from several threads at once); their row counts


def write_day_part(store: Store, day: str, name: str, table: pa.Table) -> None:
    """One rollup's rows of one day (sorted, so a re-run writes the same bytes), without the ``dt`` column."""
    store.write_table(store.part_path(name, day), table.drop_columns(["dt"]) if "dt" in table.column_names else table)


def day_manifest(day: str, files: list[tuple[str, int]], defs: dict[str, Definition], **extra: str) -> dict:
    """What a day's rollups were built from (its event files) and with (each definition's version)."""
    return {"day": day, "events": fingerprint(files), **extra,
            "versions": {n: d.version for n, d in sorted(defs.items())}}


def build_month(store: Store, month: str, days: dict[str, str], compute: Compute,
                defs: dict[str, Definition]) -> None:
    """Write one month's rows whole (sorted), then its manifest (``days``: each day's event fingerprint)."""
    store.delete_month_manifest(month)
    compute(lambda name, table: store.write_table(store.month_part_path(name, month), table))
    store.write_month_manifest(month, {"month": month, "days": days,
                                       "versions": {n: d.month_version for n, d in sorted(defs.items())}})


def _remove_parts(store: Store, folder: str, partition: str, names: Iterable[str]) -> None:
    for name in names:
        prefix = f"{folder}/{name}/{partition}"
        for rel in store.files(prefix):
            store.delete(store.path(prefix, rel))


def remove_day(store: Store, day: str, names: Iterable[str]) -> None:
    store.delete_manifest(day)
    _remove_parts(store, ROLLUPS, f"dt={day}", names)


def remove_month(store: Store, month: str, names: Iterable[str]) -> None:
    store.delete_month_manifest(month)
    _remove_parts(store, MONTHS, f"month={month}", names)


def buildable_months(state: RollupState) -> list[str]:
    """Stale months whose days all have valid rollups (their month rows are built from those)."""
    return [m for m in state.stale_months()
            if all(d in state.valid[n] for n in state.defs for d in state.month_days(m))]


def days_between(days: Iterable[str], start: str | None, end: str | None) -> list[str]:
    return sorted(d for d in days if (start is None or d >= start) and (end is None or d <= end))


def rebuild(warehouse: str, settings=None, *, start: str | None = None, end: str | None = None,
            only_stale: bool = False, progress: bool = False) -> BuildResult:
    """Rebuild the rollups of the days start..end that hold events (``only_stale``: just those whose rollups
    are not valid), and remove the rollups of days that no longer hold events; then rebuild the month level of
    every month whose month rows are not valid and whose days all are, and remove that of months without events.
    Call it holding the warehouse lock (ingest, ``site-stats rollup``). On an S3 warehouse with the Athena
    engine, Athena rebuilds each day and month (``AthenaRollupBuilder``); otherwise DuckDB does (reading S3
    through pyarrow when the warehouse is there)."""
    from ..progress import bar

    store = Store.for_warehouse(str(warehouse), settings)
    state = RollupState.load(store)
    wanted = days_between(state.stale_days() if only_stale else state.event_days, start, end)
    result = BuildResult()
    present = store.rollup_days()
    orphans = set(store.manifests()) | set().union(*(set(days) for days in present.values()))
    for day in days_between(orphans - set(state.event_days), start, end):
        remove_day(store, day, present.keys())
        result.removed.append(day)
    months_present = store.rollup_months()
    month_orphans = set(store.month_manifests()) | set().union(*(set(m) for m in months_present.values()))
    for month in sorted(month_orphans - set(state.months())):
        remove_month(store, month, months_present.keys())
    if not wanted and not buildable_months(state):
        return result
    with _builder(store, state.defs, settings) as builder:
        finished = bar(builder.build_days({day: state.event_days[day] for day in wanted}), total=len(wanted),
                       desc="rollups", unit="day", show=progress)
        for day, built in finished:
            for name, rows in built.items():
                result.rows[name] = result.rows.get(name, 0) + rows
            result.days.append(day)
        if result.days:
            state = RollupState.load(store, state.defs)
        for month in bar(buildable_months(state), desc="rollup months", unit="month", show=progress):
            builder.build_month(month, state)
            result.months.append(month)
    return result


def _builder(store: Store, defs: dict[str, Definition], settings):
    if settings is not None and settings.engine == "athena" and store.uri().startswith("s3://"):
        return AthenaRollupBuilder(store, defs, settings)
    from ..engines.duckdb import RollupBuilder

    return LocalBuild(store, defs, RollupBuilder(store, defs, settings))


class LocalBuild:
    """Days computed by an engine in this process (DuckDB), written here: parts, then the manifest."""

    def __init__(self, store: Store, defs: dict[str, Definition], engine) -> None:
        self.store, self.defs, self.engine = store, defs, engine

    def build_days(self, days: dict[str, list[tuple[str, int]]]) -> Iterator[tuple[str, dict[str, int]]]:
        """Write each day's rollups whole, then its manifest, as the engine finishes the day; yield (day, row
        counts). The days' manifests go first: a day is computed from the events until every part is in place."""
        for day in days:
            self.store.delete_manifest(day)
        write = partial(write_day_part, self.store)
        for day, rows in self.engine.days(days, write):
            self.store.write_manifest(day, day_manifest(day, days[day], self.defs))
            yield day, rows

    def build(self, day: str, files: list[tuple[str, int]]) -> dict[str, int]:
        """One day (``build_days``)."""
        [(_, rows)] = list(self.build_days({day: files}))
        return rows

    def build_month(self, month: str, state: RollupState) -> None:
        build_month(self.store, month, state.month_fingerprints(month),
                    lambda write: self.engine.month(state.month_days(month), state, write), self.defs)

    def __enter__(self) -> LocalBuild:
        return self

    def __exit__(self, *exc) -> None:
        self.engine.close()


def rollup_schema(definition: Definition) -> pa.Schema:
    """The Arrow schema of a rollup's rows (without ``dt``), from DuckDB running its SQL over no events."""
    import duckdb

    from ..schema import STORED_SCHEMA

    con = duckdb.connect()
    try:
        con.register("events", STORED_SCHEMA.empty_table().append_column("dt", pa.array([], pa.string())))
        text, names = definition.query.rendered("duckdb")
        params = {"start": "1970-01-01", "end": "1970-01-01", "site": ""}
        table = con.sql(text, params={n: params[n] for n in set(names)}).to_arrow_table()
    finally:
        con.close()
    fields = [f for f in table.schema if f.name != "dt"]
    return pa.schema([pa.field(f.name, pa.int64() if pa.types.is_decimal(f.type) else f.type) for f in fields])


class AthenaRollupBuilder:
    """Athena rebuilds a day: the day's rollup objects are deleted, then ``INSERT INTO rollup_NAME SELECT ...``
    with the day as its execution parameters, so the distributed engine reads the events; the manifest is
    written last. The Glue tables ``rollup_NAME`` (over ``rollups/NAME/``, partition projection on ``dt``) are
    created or updated first. ``run`` executes one statement (default: ``engines.athena.run``)."""

    def __init__(self, store: Store, defs: dict[str, Definition], settings, run=None) -> None:
        from .s3 import S3Warehouse

        self.store, self.defs, self.settings = store, defs, settings
        self.lake = S3Warehouse(settings)
        if run is None:
            from ..engines import athena

            run = lambda query, params: athena.run(query, params, settings)  # noqa: E731
        self.run = run
        self.statements = {name: self.insert(d) for name, d in defs.items()}
        self.month_statements = {name: self.insert_month(d) for name, d in defs.items()}

    @staticmethod
    def insert(definition: Definition) -> sql.Query:
        """``INSERT INTO rollup_NAME SELECT <columns>, dt FROM (<the rollup's SQL>)``: the partition column last,
        as Athena wants it."""
        columns = [c for c in definition.columns if c != "dt"]
        body = definition.query.text
        text = (f"INSERT INTO rollup_{definition.name}\nSELECT {', '.join(columns)}, dt\nFROM (\n{body}\n) AS rows")
        return sql.Query(f"rollup {definition.name} (athena)", text)

    @staticmethod
    def insert_month(definition: Definition) -> sql.Query:
        """``INSERT INTO rollup_month_NAME SELECT <columns>, :month AS month FROM (<the month level's SQL>)``,
        the month level reading the table ``rollup_NAME`` (the days are given with ``with_rollups``)."""
        columns = [c for c in definition.columns if c != "dt"]
        text = (f"INSERT INTO {sql.MONTH_PREFIX}{definition.name}\nSELECT {', '.join(columns)}, :month AS month\n"
                f"FROM (\n{definition.month_query.text}\n) AS rows")
        return sql.Query(f"rollup {definition.name} month (athena)", text)

    def ensure_tables(self, first_day: str | None) -> None:
        self.lake.register(first_day)  # the database and the events table the statements read
        for name, definition in self.defs.items():
            schema = rollup_schema(definition)
            self.lake.register_table(f"rollup_{name}", schema, partitioned=True, first_day=first_day,
                                     folder=f"{ROLLUPS}/{name}")
            self.lake.register_table(f"{sql.MONTH_PREFIX}{name}", schema, partitioned=True, first_day=first_day,
                                     folder=f"{MONTHS}/{name}", partition="month")

    def build_month(self, month: str, state: RollupState) -> None:
        """The month's rows from its days' rows in ``rollup_NAME``: its objects deleted, then INSERT INTO."""
        self.store.delete_month_manifest(month)
        days = state.month_days(month)
        for name, statement in self.month_statements.items():
            remove_month(self.store, month, [name])
            self.run(statement.with_rollups(StoredDays(f"rollup_{name}", days)), {"month": month})
        self.store.write_month_manifest(month, {"month": month, "days": state.month_fingerprints(month),
                                                "engine": "athena",
                                                "versions": {n: d.month_version for n, d in sorted(self.defs.items())}})

    def build(self, day: str, files: list[tuple[str, int]]) -> dict[str, int]:
        self.store.delete_manifest(day)  # the day is computed from the events until every rollup is in
        params = {"start": day, "end": day, "site": ""}
        for name, statement in self.statements.items():
            remove_day(self.store, day, [name])
            self.run(statement, params)
        self.store.write_manifest(day, day_manifest(day, files, self.defs, engine="athena"))
        return {}

    def build_days(self, days: dict[str, list[tuple[str, int]]]) -> Iterator[tuple[str, dict[str, int]]]:
        """Each day in turn (``build``): Athena runs each statement over the whole day already."""
        for day, files in days.items():
            yield day, self.build(day, files)

    def __enter__(self) -> AthenaRollupBuilder:
        self.ensure_tables(None)
        return self

    def __exit__(self, *exc) -> None:
        pass


def prepare() -> None:
    """Make ahead what a local ``refresh`` will need: the DuckDB builder's transpiled SQL (about 0.2 s). An
    ingest calls it while its worker processes read files; Athena's builder needs nothing of it."""
    from ..engines.duckdb import RollupBuilder

    RollupBuilder.prepare(definitions())


def refresh(warehouse: str, settings=None, *, progress: bool = False) -> BuildResult:
    """Bring the rollups up to date: rebuild the days whose events changed (what ingest calls at the end)."""
    return rebuild(warehouse, settings, only_stale=True, progress=progress)
