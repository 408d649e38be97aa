"""The embedded engine: DuckDB over the warehouse's Parquet files (a local folder, or S3 through pyarrow).

``Session`` keeps one connection for many queries (a report run) and reads the warehouse's rollup state once:
each query's ``rollup_NAME`` tables become views over exactly the rollup files of the period's days (and months)
that have valid rollups, the other days are computed from the events (see ``warehouse/rollups.py``).
``RollupBuilder`` computes a day's rollups from that day's event files only, and a month's rows from its days'
rollup files, several queries at once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..config import Settings
from ..schema import REJECT_SCHEMA, STORED_SCHEMA
from ..warehouse import rollups as rollup_store
from ..warehouse.local import LocalWarehouse, ledger_tables, read_record
from ..warehouse.storage import check_readable
from . import sql
from .sql import Query


def connect(warehouse: str | Path, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``events`` (with the ``dt`` partition), ``rejects`` and ``ledger``.

    A local folder is read with DuckDB's own Parquet reader; an ``s3://`` warehouse through pyarrow datasets
    (no DuckDB extension to download)."""
    if str(warehouse).startswith("s3://"):
        return _connect_s3((settings or Settings.from_env()).with_(warehouse=str(warehouse)))
    house = LocalWarehouse(warehouse)
    con = duckdb.connect()
    _session_settings(con)
    if house.event_files():
        pattern = str(house.events_dir / "dt=*" / "*.parquet")
        con.execute(
            f"CREATE VIEW events AS SELECT * FROM read_parquet({_literal(pattern)}, hive_partitioning = true, "
            "hive_types = {'dt': VARCHAR}, union_by_name = true)"
        )
    else:
        empty = STORED_SCHEMA.empty_table().append_column("dt", pa.array([], pa.string()))
        con.register("_empty_events", empty)
        con.execute("CREATE VIEW events AS SELECT * FROM _empty_events")
    if house.reject_files():
        pattern = str(house.rejects_dir / "*.parquet")
        con.execute(f"CREATE VIEW rejects AS SELECT * FROM read_parquet({_literal(pattern)}, union_by_name = true)")
    else:
        con.register("_empty_rejects", REJECT_SCHEMA.empty_table())
        con.execute("CREATE VIEW rejects AS SELECT * FROM _empty_rejects")
    _register_ledger(con, house.ledger())
    return con


def _register_ledger(con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    """Views ``ledger`` (ingested sources) and ``failures`` (failed or damaged ones), typed even when empty."""
    ingested, failures = ledger_tables(records)
    con.register("_ledger", ingested)
    con.register("_failures", failures)
    con.execute("CREATE VIEW ledger AS SELECT * FROM _ledger")
    con.execute("CREATE VIEW failures AS SELECT * FROM _failures")


def _connect_s3(settings: Settings) -> duckdb.DuckDBPyConnection:
    import pyarrow.dataset as ds

    from ..warehouse.s3 import S3Warehouse, list_files

    house = S3Warehouse(settings)
    con = duckdb.connect()
    _session_settings(con)
    hive = ds.partitioning(pa.schema([("dt", pa.string())]), flavor="hive")
    sources = {
        "events": (list_files(house.fs, f"{house.root}/events"), STORED_SCHEMA.append(pa.field("dt", pa.string())), hive),
        "rejects": (list_files(house.fs, f"{house.root}/rejects"), REJECT_SCHEMA, None),
    }
    for name, (files, schema, partitioning) in sources.items():
        paths = [f"{house.root}/{name}/{rel}" for rel in files if rel.endswith(".parquet")]
        data = ds.dataset(paths, schema=schema, format="parquet", filesystem=house.fs, partitioning=partitioning,
                          partition_base_dir=f"{house.root}/{name}") if paths else schema.empty_table()
        con.register(f"_{name}", data)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")
    ledger = []
    for rel in list_files(house.fs, f"{house.root}/_ledger"):
        with house.fs.open_input_stream(f"{house.root}/_ledger/{rel}") as fh:
            ledger.append(read_record(house.uri("_ledger", rel), fh.read()))
    _register_ledger(con, [r for r in ledger if r is not None])
    return con


def _plain_numbers(table: pa.Table) -> pa.Table:
    """DuckDB sums integers into HUGEINT/DECIMAL; callers (and Athena's bigint) expect int64 and float64."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            target = pa.int64() if field.type.scale == 0 else pa.float64()
            table = table.set_column(i, field.name, table.column(i).cast(target))
    return table


def _literal(text: str) -> str:
    """A SQL string literal for a path of ours (views cannot take bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def execute(con: duckdb.DuckDBPyConnection, query: Query, params: dict[str, object]) -> pa.Table:
    """Run a query with its named parameters bound (only those it uses; a missing one is an error)."""
    text, names = query.rendered("duckdb")
    wanted = set(names)
    bound = {k: v for k, v in params.items() if k in wanted}
    missing = wanted - set(bound)
    if missing:
        raise ValueError(f"query {query.name!r} needs parameters: {', '.join(sorted(missing))}")
    return _plain_numbers(con.sql(text, params=bound).to_arrow_table())


class Session:
    """One DuckDB connection and one reading of the rollup state for many queries (``rollups=False``: every
    figure computed from the events, the plain path the rollups are checked against)."""

    def __init__(self, warehouse: str | Path, settings: Settings | None = None, *, rollups: bool = True) -> None:
        self.settings = settings or Settings.from_env()
        check_readable(self.settings.with_(warehouse=str(warehouse)))  # never text and integer ids in one count
        self.con = connect(warehouse, self.settings)
        self.store = rollup_store.Store.for_warehouse(str(warehouse), self.settings)
        self.state = rollup_store.RollupState.load(self.store) if rollups else None
        self._views: dict[tuple[str, str, tuple[str, ...]], str] = {}

    def run(self, query: Query, params: dict[str, object]) -> pa.Table:
        plan = None
        if self.state is not None:
            plan = rollup_store.Plan(self.state, str(params["start"]), str(params["end"]), self._rollup_view,
                                     self._month_view)
        return execute(self.con, query.with_rollups(plan), params)

    def _rollup_view(self, name: str, days: list[str]) -> str:
        assert self.state is not None, "rollup views are only asked for when the rollup state was read"
        return self._view(name, "dt", days, self.state.files, rollup_store.ROLLUPS)

    def _month_view(self, name: str, months: list[str]) -> str:
        assert self.state is not None, "rollup views are only asked for when the rollup state was read"
        return self._view(name, "month", months, self.state.month_files, rollup_store.MONTHS)

    def _view(self, name: str, key: str, parts: list[str], files_of: dict[str, dict[str, list[str]]],
              folder: str) -> str:
        """A view over exactly the rollup files of ``parts`` (days or months, the hive partition ``key``)."""
        assert self.state is not None
        cache_key = (name, key, tuple(parts))
        if cache_key not in self._views:
            view = self._views[cache_key] = f"_rollup_{name}_{len(self._views)}"
            files = [f for part in parts for f in files_of.get(name, {}).get(part, [])]
            if files:
                _register_files(self.con, view, self.store, files, self.store.path(folder, name), key=key)
            else:  # every day (month) of the period built by Athena without rows
                schema = rollup_store.rollup_schema(self.state.defs[name]).append(pa.field(key, pa.string()))
                self.con.register(view, schema.empty_table())
        return self._views[cache_key]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _register_files(con: duckdb.DuckDBPyConnection, view: str, store: rollup_store.Store, paths: list[str],
                    base: str, *, union: bool = False, key: str = "dt", temp: bool = False) -> None:
    """A view over Parquet files with a hive partition ``key`` (``dt``, or ``month``): DuckDB's reader locally,
    a pyarrow dataset on S3 (``temp``: a view of this connection, or cursor, only)."""
    kind = "TEMP VIEW" if temp else "VIEW"
    if isinstance(store.fs, pafs.LocalFileSystem):
        files = "[" + ", ".join(_literal(p) for p in paths) + "]"
        con.execute(f"CREATE OR REPLACE {kind} {view} AS SELECT * FROM read_parquet({files}, hive_partitioning = true, "
                    f"hive_types = {{'{key}': VARCHAR}}{', union_by_name = true' if union else ''})")
        return
    import pyarrow.dataset as ds

    hive = ds.partitioning(pa.schema([(key, pa.string())]), flavor="hive")
    data = ds.dataset(paths, format="parquet", filesystem=store.fs, partitioning=hive, partition_base_dir=base)
    con.register(f"_{view}_data", data)
    con.execute(f"CREATE OR REPLACE {kind} {view} AS SELECT * FROM _{view}_data")


def _one_schema(store: rollup_store.Store, paths: tuple[str, ...]) -> bool:
    """Whether local Parquet files all have one schema, so DuckDB may read them without matching columns by name
    (``union_by_name`` binds every file's footer at every query). An S3 store's files are read through a pyarrow
    dataset, which needs no such choice: False."""
    if not isinstance(store.fs, pafs.LocalFileSystem):
        return False
    try:
        schemas = [pq.read_schema(path).remove_metadata() for path in paths]
    except (OSError, pa.ArrowException):  # a damaged file: the day's queries meet it and say which it is
        return False
    return all(schema.equals(schemas[0]) for schema in schemas[1:])


def _used(text: str, params: dict[str, object]) -> dict[str, object]:
    """The parameters a DuckDB text uses (it rejects unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in text}


class RollupBuilder:
    """Computes rollups on DuckDB and hands each one's rows to ``write(name, table)`` sorted by all their
    columns (``ORDER BY ALL``, so a re-run writes the same bytes).

    A day reads that day's event files only: first the shared relations several rollups read (``MATERIALISED``)
    are computed once into tables of their names (in the day's own schema), then every rollup. The queries run at
    once, one per core, each on its own cursor of one connection and on one DuckDB thread (``threads = 1``):
    DuckDB spreads one small query over 2 cores only 1.6 times and pays for the splitting in CPU, while
    independent queries keep every core busy (bench warehouse, 3 days: 9.2 CPU s one query at a time on one
    thread, 10.6 CPU s / 6.1 s on two threads, 7.0 CPU s / 5.1 s two queries at a time on one thread each, load
    average 1.3). ``write`` may be called from several threads at once.
    """

    MATERIALISED = ("session_pageviews", "visitor_pageviews")  # shared relations several rollups read

    def __init__(self, store: rollup_store.Store, defs: dict[str, rollup_store.Definition],
                 settings: Settings | None = None, *, workers: int | None = None) -> None:
        self.store, self.defs = store, defs
        self.con = duckdb.connect()
        # as many queries at once as DuckDB would use threads: it counts the cores a container's cgroup allows
        cores = int(self.con.sql("SELECT current_setting('threads')").fetchall()[0][0])
        self.con.execute("SET threads = 1")
        # every query of a day reads the same files' footers: parsed once (one day of the bench warehouse, its
        # 26 queries one after another on one thread: 2.04 CPU s without the cache and union_by_name, 1.69-1.83
        # with the cache and plain reads)
        self.con.execute("SET GLOBAL parquet_metadata_cache = true")  # this database only: its cursors too
        _session_settings(self.con)
        self._shared, self._texts = self.texts(defs)
        self._needs = {name: [s for s in self.MATERIALISED if s in d.query.tables_read()] for name, d in defs.items()}
        self._pool = ThreadPoolExecutor(workers or max(cores, 1), thread_name_prefix="rollups")
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()

    @classmethod
    def texts(cls, defs: dict[str, rollup_store.Definition]) -> tuple[dict[str, str], dict[str, str]]:
        """(the shared relations' DuckDB texts, each rollup's, reading them as tables) for ``defs``."""
        shared = {name: sql.load_shared(name).for_duckdb() for name in cls.MATERIALISED}
        texts = {name: _ordered(d.query.providing(*cls.MATERIALISED).for_duckdb()) for name, d in defs.items()}
        return shared, texts

    @classmethod
    def prepare(cls, defs: dict[str, rollup_store.Definition]) -> None:
        """Transpile every text a builder of ``defs`` runs (days and month levels) now, so a later one in this
        process starts at once: about 0.2 s a process (``sql`` remembers each text). An ingest's own process
        calls it in a thread while its workers read files (it is idle then)."""
        cls.texts(defs)
        for name, definition in defs.items():
            _month_text(name, definition)

    def _cursor(self, events: tuple[str, ...] = (), *, union: bool = True) -> duckdb.DuckDBPyConnection:
        """The calling worker thread's cursor, its view ``events`` over exactly the event files ``events``
        (``union``: matched by column name, for files whose schemas differ)."""
        local = self._local
        if getattr(local, "cursor", None) is None:
            local.cursor, local.events = self.con.cursor(), None
            _session_settings(local.cursor)
            with self._cursors_lock:
                self._cursors.append(local.cursor)
        if events and local.events != events:
            _register_files(local.cursor, "events", self.store, list(events), self.store.path("events"), union=union,
                            temp=True)
            local.events = events
        return local.cursor

    def days(self, days: dict[str, list[tuple[str, int]]],
             write: Callable[[str, str, pa.Table], None]) -> Iterator[tuple[str, dict[str, int]]]:
        """Every rollup of each of ``days`` (day -> its event files), each handed to ``write(day, name, rows)``;
        yields (day, row counts) as each day is done, in the order given.

        The queries of two days at a time go to one pool, in order: a day's shared relations, then its rollups
        reading only the events, then those reading the shared ones. So the next day's queries start while a
        day's last ones run, and no core waits at a day's end; memory holds the shared relations of two days at
        most, however many days are rebuilt. A day's shared relations are tables in a schema of its own
        (``_rollup_day_YYYY_MM_DD``, first on its queries' search path), dropped once the day is done. On a
        failure, the days before it have been yielded; it is raised once nothing runs any more."""
        pending: deque[_DayJob] = deque()
        try:
            for day, files in days.items():
                try:
                    job = self._submit(day, files, write)
                except Exception:
                    while pending:  # the days queued before it are still built
                        yield self._finish(pending.popleft())
                    raise
                pending.append(job)
                if len(pending) == 2:
                    yield self._finish(pending.popleft())
            while pending:
                yield self._finish(pending.popleft())
        finally:
            wait([f for job in pending for f in job.futures()])
            for job in pending:
                self._drop(job)

    def _finish(self, job: _DayJob) -> tuple[str, dict[str, int]]:
        """A queued day's row counts once its queries are done (a failure raised when none of them runs any
        more); its schema dropped either way."""
        try:
            return job.day, _results(job.built, job.made)
        finally:
            self._drop(job)

    def _drop(self, job: _DayJob) -> None:
        """A day's schema and its shared tables, once none of its queries runs."""
        self.con.execute(f"DROP SCHEMA IF EXISTS {job.schema} CASCADE")

    def _submit(self, day: str, files: list[tuple[str, int]],
                write: Callable[[str, str, pa.Table], None]) -> _DayJob:
        """Queue ``day``'s queries."""
        events = tuple(self.store.path("events", f"dt={day}", name) for name, _ in files)
        params: dict[str, object] = {"start": day, "end": day, "site": ""}
        schema = "_rollup_day_" + day.replace("-", "_")
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        union = not _one_schema(self.store, events)

        def cursor() -> duckdb.DuckDBPyConnection:
            con = self._cursor(events, union=union)
            con.execute(f"SET search_path = '{schema},main'")  # its shared relations, then the connection's
            return con

        def materialise(name: str, text: str) -> None:
            cursor().execute(f"CREATE OR REPLACE TABLE {schema}.{name} AS {text}", _used(text, params))

        def rollup(name: str, text: str) -> int:
            for needed in self._needs[name]:
                made[needed].result()
            table = _plain_numbers(cursor().sql(text, params=_used(text, params)).to_arrow_table())
            write(day, name, table)
            return table.num_rows

        made = {name: self._pool.submit(materialise, name, text) for name, text in self._shared.items()}
        order = sorted(self._texts, key=lambda name: bool(self._needs[name]))  # those reading only events first
        built = {name: self._pool.submit(rollup, name, self._texts[name]) for name in order}
        return _DayJob(day, schema, list(made.values()), built)

    def month(self, days: list[str], state: rollup_store.RollupState,
              write: Callable[[str, pa.Table], None]) -> dict[str, int]:
        """A month's rows of every rollup, from the stored rollup files of its ``days`` (all valid), each handed
        to ``write``; their row counts."""
        def one(name: str, definition: rollup_store.Definition) -> int:
            cursor = self._cursor()
            view = _month_view(name)
            files = [f for d in days for f in state.files.get(name, {}).get(d, [])]
            if files:
                _register_files(cursor, view, self.store, files, self.store.path(rollup_store.ROLLUPS, name),
                                temp=True)
            else:  # days built by Athena without rows
                schema = rollup_store.rollup_schema(definition).append(pa.field("dt", pa.string()))
                cursor.register(f"{view}_empty", schema.empty_table())
                cursor.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {view}_empty")
            text = _month_text(name, definition)
            try:
                table = _plain_numbers(cursor.sql(text).to_arrow_table())
            finally:
                cursor.execute(f"DROP VIEW {view}")
            write(name, table)
            return table.num_rows

        return _results({name: self._pool.submit(one, name, d) for name, d in self.defs.items()}, [])

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for cursor in self._cursors:
            cursor.close()
        self.con.close()

    def __enter__(self) -> RollupBuilder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class _DayJob:
    """A day's queued rollup queries: its schema, its shared relations' futures, each rollup's future."""

    day: str
    schema: str
    made: list[Future]
    built: dict[str, Future]

    def futures(self) -> list[Future]:
        return [*self.made, *self.built.values()]


def _month_view(name: str) -> str:
    """The view of a month's day rows of rollup ``name`` that its month level reads."""
    return f"_month_days_{name}"


def _month_text(name: str, definition: rollup_store.Definition) -> str:
    """The DuckDB text of a rollup's month level over ``_month_view(name)``."""
    return _ordered(definition.month_query.with_rollups(rollup_store.StoredDays(_month_view(name))).for_duckdb())


def _session_settings(con: duckdb.DuckDBPyConnection) -> None:
    """What every connection (and cursor: they have their own) of ours sets."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # no bar on stderr; our tqdm shows progress


def _ordered(text: str) -> str:
    """A query's rows sorted by all its columns (its rows are distinct groups, so the order is total)."""
    return f"SELECT * FROM (\n{text}\n) AS unsorted ORDER BY ALL"


def _results(futures: dict[str, Future], others: list[Future]) -> dict[str, int]:
    """Name -> result of each future, once every one of them (and ``others``) is done: a failure is raised only
    when nothing runs any more."""
    wait([*futures.values(), *others])
    for future in others:
        future.result()
    return {name: future.result() for name, future in futures.items()}


def run(query: Query, params: dict[str, object], warehouse: str | Path, settings: Settings | None = None) -> pa.Table:
    """One query on its own connection (a report run uses one ``Session`` for all its queries)."""
    with Session(warehouse, settings) as session:
        return session.run(query, params)
