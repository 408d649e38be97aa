"""Daily rollups: per UTC day and site, the aggregates every report figure is a sum of.

Visitor ids change every UTC day and sessions never span days, so every figure a report shows over a period
(visitors, sessions, bounces, entries, per page, per source, per country...) is a sum over the period's days of
per-day figures. ``queries/rollups/NAME.sql`` defines one rollup (Trino SQL over ``events``, grouped by ``dt``,
``site`` and its dimensions); it is stored as::

    rollups/NAME/dt=YYYY-MM-DD/part.parquet   one file per rollup and day (without the dt column)
    rollups/_days/YYYY-MM-DD.json             the day's manifest, written last: which event files the day's
                                              rollups were built from, and each definition's version

A day's rollups are valid while its event files (names and sizes) and the definitions are the ones its
manifest records. The report queries read ``rollup_NAME``: the engine splits the period into days with valid
rollups (read from the files) and days without (computed from the events with the same SQL), so an answer is
always exact, whether rollups are complete, stale (a late file, a crash between events and rollups, a
definition change), or absent (a warehouse written before rollups existed). Ingest rebuilds the days whose
rollups are not valid (``refresh``); ``site-stats rollup`` rebuilds any days. A rebuilt day is replaced whole,
from sorted rows, so a re-run writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..engines import sql

ROLLUPS = "rollups"
MANIFESTS = f"{ROLLUPS}/_days"
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
    def for_warehouse(cls, warehouse: str, settings=None) -> "Store":
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

    def manifests(self) -> dict[str, dict]:
        found = {}
        for rel in self.files(MANIFESTS):
            day = rel.removesuffix(".json")
            if DAY.match(day):
                try:
                    with self.fs.open_input_stream(self.path(MANIFESTS, rel)) as fh:
                        found[day] = json.loads(fh.read())
                except (OSError, ValueError):
                    continue  # a damaged manifest only means the day is computed from the events
        return found

    def rollup_days(self) -> dict[str, dict[str, list[str]]]:
        """Rollup name -> day -> its data files (``part.parquet`` when DuckDB built it; Athena's INSERT names
        its own files, and writes none for a day without rows)."""
        found: dict[str, dict[str, list[str]]] = {}
        for rel in sorted(self.files(ROLLUPS)):
            parts = rel.split("/")
            if len(parts) == 3 and parts[1].startswith("dt=") and not parts[2].startswith(("_", ".")):
                found.setdefault(parts[0], {}).setdefault(parts[1][3:], []).append(self.path(ROLLUPS, rel))
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
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        self.write_bytes(path, sink.getvalue().to_pybytes())

    def delete(self, path: str) -> None:
        try:
            self.fs.delete_file(path)
        except FileNotFoundError:
            pass

    def write_manifest(self, day: str, manifest: dict) -> None:
        self.write_bytes(self.path(MANIFESTS, f"{day}.json"), json.dumps(manifest, indent=1, sort_keys=True).encode())

    def delete_manifest(self, day: str) -> None:
        self.delete(self.path(MANIFESTS, f"{day}.json"))


def fingerprint(files: list[tuple[str, int]]) -> str:
    """What a day's rollups were built from: its event files' names and sizes."""
    return hashlib.sha256(json.dumps(files).encode()).hexdigest()[:24]


# -- state and plans ----------------------------------------------------------------------------------------
@dataclass
class RollupState:
    """Which days hold events, and for each rollup which of them have valid rollups (see the module doc)."""

    event_days: dict[str, list[tuple[str, int]]]
    valid: dict[str, set[str]]
    defs: dict[str, Definition] = field(default_factory=definitions)
    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # rollup -> day -> data files

    @classmethod
    def load(cls, store: Store, defs: dict[str, Definition] | None = None) -> "RollupState":
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
        return cls(event_days, valid, defs, present)

    def stale_days(self) -> list[str]:
        """Days with events whose rollups (any of them) are missing or out of date."""
        return [day for day in self.event_days if any(day not in self.valid[n] for n in self.defs)]

    def split(self, name: str, start: str, end: str) -> tuple[list[str], list[str]]:
        """(days of start..end read from rollup ``name``, days computed from the events)."""
        if name not in self.defs:
            raise sql.UnknownQuery(f"unknown rollup {name!r}; available: {', '.join(sorted(self.defs))}")
        days = [d for d in self.event_days if start <= d <= end]
        built = [d for d in days if d in self.valid[name]]
        return built, [d for d in days if d not in self.valid[name]]


@dataclass
class Plan:
    """A period's split for ``sql.Query.with_rollups``: per rollup, the table holding its valid days in the
    period (a name the engine provides) and the days to compute from the events."""

    state: RollupState
    start: str
    end: str
    table_for: Callable[[str, list[str]], str] | None = None  # the engine's table holding exactly (name,
    # days); default: the table "rollup_NAME" (the Glue tables), filtered to the days

    def split(self, name: str) -> tuple[str | None, list[str] | None, list[str]]:
        built, computed = self.state.split(name, self.start, self.end)
        if not built:
            return None, [], computed
        if self.table_for:
            return self.table_for(name, built), None, computed
        return f"rollup_{name}", built, computed


# -- building -------------------------------------------------------------------------------------------
@dataclass
class BuildResult:
    days: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        span = f" ({self.days[0]} to {self.days[-1]})" if self.days else ""
        parts = [f"rollups rebuilt for {len(self.days)} day(s){span}"]
        if self.removed:
            parts.append(f"removed for {len(self.removed)} day(s) without events")
        if self.rows:
            parts.append(f"{sum(self.rows.values())} rows in {len(self.rows)} rollups")
        return "; ".join(parts)


def build_day(store: Store, day: str, files: list[tuple[str, int]], tables: dict[str, pa.Table],
              defs: dict[str, Definition]) -> None:
    """Write one day's rollups whole (each sorted, so a re-run writes the same bytes), then its manifest."""
    store.delete_manifest(day)  # the day is computed from the events until every part is in place
    for name, table in tables.items():
        if "dt" in table.column_names:
            table = table.drop_columns(["dt"])
        table = table.sort_by([(c, "ascending") for c in table.column_names]) if table.num_rows else table
        store.write_table(store.part_path(name, day), table.replace_schema_metadata(None))
    store.write_manifest(day, {"day": day, "events": fingerprint(files),
                               "versions": {n: d.version for n, d in sorted(defs.items())}})


def remove_day(store: Store, day: str, names: Iterable[str]) -> None:
    store.delete_manifest(day)
    for name in names:
        prefix = f"{ROLLUPS}/{name}/dt={day}"
        for rel in store.files(prefix):
            store.delete(store.path(prefix, rel))


def days_between(days: Iterable[str], start: str | None, end: str | None) -> list[str]:
    return sorted(d for d in days if (start is None or d >= start) and (end is None or d <= end))


def rebuild(warehouse: str, settings=None, *, start: str | None = None, end: str | None = None,
            only_stale: bool = False, progress: bool = False) -> BuildResult:
    """Rebuild the rollups of the days start..end that hold events (``only_stale``: just those whose rollups
    are not valid), and remove the rollups of days that no longer hold events. Call it holding the warehouse
    lock (ingest, ``site-stats rollup``). On an S3 warehouse with the Athena engine, Athena rebuilds each day
    (``AthenaRollupBuilder``); otherwise DuckDB does (reading S3 through pyarrow when the warehouse is there)."""
    from tqdm.auto import tqdm

    store = Store.for_warehouse(str(warehouse), settings)
    state = RollupState.load(store)
    wanted = days_between(state.stale_days() if only_stale else state.event_days, start, end)
    result = BuildResult()
    present = store.rollup_days()
    orphans = set(store.manifests()) | set().union(*(set(days) for days in present.values()))
    for day in days_between(orphans - set(state.event_days), start, end):
        remove_day(store, day, present.keys())
        result.removed.append(day)
    if not wanted:
        return result
    with _builder(store, state.defs, settings) as builder:
        for day in tqdm(wanted, desc="rollups", unit="day", disable=not progress):
            for name, rows in builder.build(day, state.event_days[day]).items():
                result.rows[name] = result.rows.get(name, 0) + rows
            result.days.append(day)
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

    def build(self, day: str, files: list[tuple[str, int]]) -> dict[str, int]:
        tables = self.engine.day(day, files)
        build_day(self.store, day, files, tables, self.defs)
        return {name: table.num_rows for name, table in tables.items()}

    def __enter__(self) -> "LocalBuild":
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

    @staticmethod
    def insert(definition: Definition) -> sql.Query:
        """``INSERT INTO rollup_NAME SELECT <columns>, dt FROM (<the rollup's SQL>)``: the partition column last,
        as Athena wants it."""
        columns = [c for c in definition.columns if c != "dt"]
        body = definition.query.text
        text = (f"INSERT INTO rollup_{definition.name}\nSELECT {', '.join(columns)}, dt\nFROM (\n{body}\n) AS rows")
        return sql.Query(f"rollup {definition.name} (athena)", text)

    def ensure_tables(self, first_day: str | None) -> None:
        self.lake.register(first_day)  # the database and the events table the statements read
        for name, definition in self.defs.items():
            self.lake.register_table(f"rollup_{name}", rollup_schema(definition), partitioned=True,
                                     first_day=first_day, folder=f"{ROLLUPS}/{name}")

    def build(self, day: str, files: list[tuple[str, int]]) -> dict[str, int]:
        self.store.delete_manifest(day)  # the day is computed from the events until every rollup is in
        params = {"start": day, "end": day, "site": ""}
        for name, statement in self.statements.items():
            remove_day(self.store, day, [name])
            self.run(statement, params)
        self.store.write_manifest(day, {"day": day, "events": fingerprint(files), "engine": "athena",
                                        "versions": {n: d.version for n, d in sorted(self.defs.items())}})
        return {}

    def __enter__(self) -> "AthenaRollupBuilder":
        self.ensure_tables(None)
        return self

    def __exit__(self, *exc) -> None:
        pass


def refresh(warehouse: str, settings=None, *, progress: bool = False) -> BuildResult:
    """Bring the rollups up to date: rebuild the days whose events changed (what ingest calls at the end)."""
    return rebuild(warehouse, settings, only_stale=True, progress=progress)
