"""The embedded engine: DuckDB over the local warehouse's Parquet files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from ..config import Settings
from ..schema import REJECT_SCHEMA, STORED_SCHEMA
from ..warehouse.local import LocalWarehouse, ledger_tables, read_record
from .sql import Query


def connect(warehouse: str | Path, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``events`` (with the ``dt`` partition), ``rejects`` and ``ledger``.

    A local folder is read with DuckDB's own Parquet reader; an ``s3://`` warehouse through pyarrow datasets
    (no DuckDB extension to download)."""
    if str(warehouse).startswith("s3://"):
        return _connect_s3((settings or Settings.from_env()).with_(warehouse=str(warehouse)))
    house = LocalWarehouse(warehouse)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
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
    con.execute("SET TimeZone = 'UTC'")
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


def run(query: Query, params: dict[str, object], warehouse: str | Path, settings: Settings | None = None) -> pa.Table:
    con = connect(warehouse, settings)
    try:
        wanted = set(query.placeholders())
        bound = {k: v for k, v in params.items() if k in wanted}
        missing = wanted - set(bound)
        if missing:
            raise ValueError(f"query {query.name!r} needs parameters: {', '.join(sorted(missing))}")
        return _plain_numbers(con.sql(query.for_duckdb(), params=bound).to_arrow_table())
    finally:
        con.close()
