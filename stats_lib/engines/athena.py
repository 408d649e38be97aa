"""Athena: the same queries, run in AWS through pyathena with server-side execution parameters.

The query text goes to Athena in Trino dialect with ``?`` placeholders (pyathena's ``qmark`` style); values
travel separately as ``ExecutionParameters`` (Athena's prepared-statement mechanism), never pasted into the text.
pyathena waits for completion, pages through ``GetQueryResults`` and types each value from the result's column
metadata; the rows then become an Arrow table of the types DuckDB gives the same query, so both engines return
the same columns and dtypes. Each query's scanned bytes and cost go to stderr (stdout stays the result).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from ..aws.session import session
from ..config import Settings
from ..errors import EnvironmentFault
from .sql import Query

PRICE_PER_TB = 5.0  # USD per TB scanned (Athena SQL, most regions)
TB = 1 << 40
MB = 1 << 20
MINIMUM_BILLED = 10 * MB  # Athena bills at least 10 MB a query, in whole megabytes

# Athena (Trino) result types -> the Arrow types DuckDB returns for the same SQL (see engines/duckdb.py).
_ARROW = {
    "boolean": pa.bool_(), "tinyint": pa.int8(), "smallint": pa.int16(), "integer": pa.int32(),
    "bigint": pa.int64(), "real": pa.float32(), "float": pa.float32(), "double": pa.float64(),
    "date": pa.date32(), "timestamp": pa.timestamp("us"), "varchar": pa.string(), "char": pa.string(),
    "varbinary": pa.binary(), "json": pa.string(),
}


class RollupDays:
    """On Athena, which days a query reads from the Glue tables ``rollup_NAME``: those with valid rollups, listed
    once (the first ``plan``) from the warehouse's manifests; every other day is computed from the events."""

    def __init__(self, settings: Settings, *, enabled: bool = True) -> None:
        from ..warehouse.storage import check_readable

        check_readable(settings)  # once per session: never text and integer ids in one count
        self.settings = settings
        self.enabled = enabled and settings.warehouse.startswith("s3://")
        self._state: Any = None  # warehouse.rollups.RollupState

    def plan(self, start: str, end: str) -> Any:
        """The ``warehouse.rollups.Plan`` of the inclusive day range; None when rollups are off or not on S3."""
        if not self.enabled:
            return None
        from ..warehouse import rollups

        if self._state is None:
            self._state = rollups.RollupState.load(rollups.Store.for_warehouse(self.settings.warehouse, self.settings))
        return rollups.Plan(self._state, start, end)


class AthenaQueryFailed(EnvironmentFault):
    """Athena refused or failed a query (the message is Athena's reason)."""


def literal(value: object) -> str:
    """An Athena execution parameter: a SQL literal (strings quoted, quotes doubled)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def cost(scanned_bytes: int) -> tuple[int, float]:
    """(billed bytes, USD): whole megabytes, at least 10 MB, at $5 per TB."""
    billed = max(MINIMUM_BILLED, math.ceil(scanned_bytes / MB) * MB)
    return billed, billed / TB * PRICE_PER_TB


def describe_cost(name: str, scanned_bytes: int) -> str:
    billed, usd = cost(scanned_bytes)
    return (f"athena: {name} scanned {scanned_bytes:,} bytes (billed {billed // MB} MB): "
            f"${usd:.6f}")


def run(query: Query, params: dict[str, object], settings: Settings, *, poll_seconds: float = 0.5,
        report: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run ``query`` on Athena and return its rows; ``report`` gets the cost line (default: stderr)."""
    import pyathena
    from pyathena.error import Error as PyAthenaError

    text, names = query.for_athena()
    aws = session(settings)
    connection = pyathena.connect(
        session=aws, region_name=aws.region_name, work_group=settings.athena_workgroup,
        s3_staging_dir=settings.athena_output or "", schema_name=settings.database, poll_interval=poll_seconds,
    )
    with connection, connection.cursor() as cursor:
        try:
            cursor.execute(text, [literal(params[n]) for n in names] or None, paramstyle="qmark")
            rows = cursor.fetchall()
        except PyAthenaError as exc:
            raise AthenaQueryFailed(f"Athena query {query.name} {_why(aws, cursor.query_id, exc)}",
                                    "fix the query or the workgroup's limits, then run again") from None
        description = cursor.description or []
        scanned = cursor.data_scanned_in_bytes or 0
    (report or _stderr)(describe_cost(query.name, scanned))
    return _table(rows, description).to_pandas()


def _table(rows: list[tuple], description: list[tuple]) -> pa.Table:
    columns = list(zip(*rows)) if rows else [()] * len(description)
    arrays = {}
    for (name, kind, *_rest), values in zip(description, columns):
        arrays[name] = _array(kind.lower(), list(values), _rest)
    return pa.table(arrays)


def _array(kind: str, values: list, rest: list) -> pa.Array:
    base = kind.split("(")[0].strip()
    if base == "decimal":  # DuckDB's sums are cast to int64 (scale 0) or float64, as engines/duckdb.py does
        scale = rest[3] if len(rest) > 3 and rest[3] is not None else 0
        target = pa.int64() if scale == 0 else pa.float64()
        values = [None if v is None else (int(v) if scale == 0 else float(v)) if isinstance(v, Decimal) else v
                  for v in values]
        return pa.array(values, target)
    if base.startswith("timestamp"):
        base = "timestamp"
    return pa.array(values, _ARROW.get(base, pa.string()) if base in _ARROW else None)


def _why(aws, execution_id: str | None, exc: Exception) -> str:
    """'failed: <Athena's reason>' / 'cancelled: ...', from the execution's own status when there is one."""
    import botocore.exceptions

    state, reason = "failed", str(exc)
    if execution_id:
        try:
            status = aws.client("athena").get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            state = status["State"].lower()
            reason = status.get("StateChangeReason") or reason
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            pass
    if not reason or reason == "None":
        reason = "Athena gave no reason; see the query in the Athena console"
    return f"{state} (execution {execution_id}): {' '.join(reason.split())}"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
