"""The embedded engine: DuckDB over the local warehouse's Parquet files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from ..schema import REJECT_SCHEMA, STORED_SCHEMA
from ..warehouse.local import LocalWarehouse
from .sql import Query


def connect(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``events`` (with the ``dt`` partition), ``rejects`` and ``ledger``."""
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
    ledger = house.ledger()
    con.register("_ledger", pa.Table.from_pylist(ledger) if ledger else pa.table({"key": pa.array([], pa.string())}))
    con.execute("CREATE VIEW ledger AS SELECT * FROM _ledger")
    return con


def _literal(text: str) -> str:
    """A SQL string literal for a path of ours (views cannot take bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def run(query: Query, params: dict[str, object], warehouse: str | Path) -> pa.Table:
    con = connect(warehouse)
    try:
        wanted = set(query.placeholders())
        bound = {k: v for k, v in params.items() if k in wanted}
        missing = wanted - set(bound)
        if missing:
            raise ValueError(f"query {query.name!r} needs parameters: {', '.join(sorted(missing))}")
        return con.sql(query.for_duckdb(), params=bound).to_arrow_table()
    finally:
        con.close()
