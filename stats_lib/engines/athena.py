"""Athena: the same queries, run in AWS with server-side execution parameters.

The query text goes to Athena in Trino dialect with ``?`` placeholders; values travel separately as
``ExecutionParameters`` (Athena's prepared-statement mechanism), never pasted into the text. Results are read
with ``GetQueryResults`` and typed from the result's column metadata. boto3 honours ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_ATHENA``, so an emulator works unchanged.
"""

from __future__ import annotations

import time

import pandas as pd

from ..config import Settings
from .sql import Query

_TYPES = {
    "boolean": "boolean", "tinyint": "Int64", "smallint": "Int64", "integer": "Int64", "bigint": "Int64",
    "float": "float64", "real": "float64", "double": "float64", "decimal": "float64",
}


class AthenaQueryFailed(RuntimeError):
    pass


def literal(value: object) -> str:
    """An Athena execution parameter: a SQL literal (strings quoted, quotes doubled)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def run(query: Query, params: dict[str, object], settings: Settings, *, poll_seconds: float = 0.5,
        timeout_seconds: float = 600) -> pd.DataFrame:
    import boto3

    text, names = query.for_athena()
    client = boto3.client("athena")
    request: dict = {
        "QueryString": text,
        "QueryExecutionContext": {"Database": settings.database},
        "WorkGroup": settings.athena_workgroup,
    }
    if names:
        request["ExecutionParameters"] = [literal(params[n]) for n in names]
    if settings.athena_output:
        request["ResultConfiguration"] = {"OutputLocation": settings.athena_output}
    execution_id = client.start_query_execution(**request)["QueryExecutionId"]
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
        if status["State"] == "SUCCEEDED":
            break
        if status["State"] in ("FAILED", "CANCELLED"):
            raise AthenaQueryFailed(f"Athena query {query.name} {status['State'].lower()}: "
                                    f"{status.get('StateChangeReason', 'no reason given')}")
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=execution_id)
            raise AthenaQueryFailed(f"Athena query {query.name} took longer than {timeout_seconds:.0f}s")
        time.sleep(poll_seconds)
    return _results(client, execution_id)


def _results(client, execution_id: str) -> pd.DataFrame:
    columns: list[dict] = []
    rows: list[list[str | None]] = []
    first = True
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
        result = page["ResultSet"]
        if not columns:
            columns = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
        data = result.get("Rows", [])
        if first and data and columns and [d.get("VarCharValue") for d in data[0]["Data"]] == [c["Name"] for c in columns]:
            data = data[1:]  # the header row Athena returns first
        first = False
        rows.extend([d.get("VarCharValue") for d in row["Data"]] for row in data)
    names = [c["Name"] for c in columns]
    frame = pd.DataFrame(rows, columns=names)
    for column in columns:
        kind = column.get("Type", "varchar").lower()
        name = column["Name"]
        if kind in _TYPES:
            if kind == "boolean":
                frame[name] = frame[name].map({"true": True, "false": False})
            else:
                frame[name] = pd.to_numeric(frame[name]).astype(_TYPES[kind])
        elif kind == "date":
            frame[name] = pd.to_datetime(frame[name]).dt.date
        elif kind.startswith("timestamp"):
            frame[name] = pd.to_datetime(frame[name])
    return frame
