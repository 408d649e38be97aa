"""CloudFront standard logging v2 (CloudWatch vended logs delivered to S3): JSON lines and Parquet output.

Each record holds the standard-log fields by name (``date``, ``time``, ``c-ip``, ``cs-method``, ``cs(Host)``,
``cs-uri-stem``, ``sc-status``, ``cs(Referer)``, ``cs(User-Agent)``, ``cs-uri-query``, ``x-edge-location``,
``x-edge-result-type``, ``x-host-header``, ``cs-protocol``, ``time-taken``, ``sc-content-type``, ...), the
v2-only ones (``timestamp``, ``timestamp(ms)``, ``origin-fbl``, ``origin-lbl``, ``asn``, ``c-country``,
``cache-behavior-path-pattern``) and real-time-log names for the same things (``cs-user-agent``, ``cs-referer``,
``cs-host``). Names are matched ignoring case and punctuation, so ``cs(User-Agent)``, ``cs-user-agent`` and
``cs_user_agent`` are one field; any subset may be present. ``c-country`` becomes ``country_hint``. Values are
percent-encoded like the legacy logs (decoded once, twice when double-encoded); ``-`` is null.

Files may sit in Hive-style partition folders (``DistributionId=E1/year=2024/month=05/day=01/hour=12/``) or the
plain ``{DistributionId}/{yyyy}/{MM}/{dd}/{HH}`` layout; the partition values are not needed (each record carries
its own time), and ingest walks folders recursively. The W3C output of v2 has a ``#Fields`` header and is read by
the ``cloudfront`` source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .base import (
    LineReader,
    client_address,
    epoch_time_column,
    finish,
    float_column,
    ua_values,
)
from .cloudfront import decode
from .jsonlogs import first_object, object_batches

NAME = "cloudfront_v2"
PARQUET_MAGIC = b"PAR1"

# normalised field name (lower case, letters and digits only) -> our name
_FIELDS = {
    "date": "date",
    "time": "time",
    "timestamp": "epoch_s",
    "timestampms": "epoch_ms",
    "cip": "client_ip",
    "csmethod": "method",
    "xhostheader": "x_host",
    "cshost": "cs_host",
    "csuristem": "path",
    "csuriquery": "query",
    "scstatus": "status",
    "scbytes": "bytes_sent",
    "csreferer": "referrer",
    "csreferrer": "referrer",
    "csuseragent": "user_agent",
    "sccontenttype": "content_type",
    "csprotocol": "protocol",
    "xedgelocation": "edge_location",
    "xedgeresulttype": "edge_result_type",
    "timetaken": "seconds",
    "ccountry": "country_hint",
}
_MARKERS = {"xedgelocation", "xedgerequestid", "xedgeresulttype", "xhostheader"}


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _is_cloudfront(names: list[str]) -> bool:
    keys = {normalise(n) for n in names}
    return bool(keys & _MARKERS) or {"cip", "csuristem", "scstatus"} <= keys


def sniff(lines: list[str]) -> bool:
    """True when the first data line is a JSON object with CloudFront field names."""
    obj = first_object(lines)
    return obj is not None and _is_cloudfront(list(obj))


def is_parquet(path: str | Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def sniff_file(path: str | Path) -> bool:
    """True when the file is Parquet whose columns are CloudFront fields."""
    if not is_parquet(path):
        return False
    import pyarrow.parquet as pq

    try:
        return _is_cloudfront(pq.read_schema(path).names)
    except (OSError, ValueError, pa.ArrowException):
        return False


def parse(reader: LineReader) -> Iterator[pa.Table]:
    if is_parquet(reader.path):
        yield from _parse_parquet(reader)
    else:
        yield from _parse_json(reader)


def _parse_json(reader: LineReader) -> Iterator[pa.Table]:
    for rows in object_batches(reader, _record):
        yield _table([r[0] for r in rows], [r[1] for r in rows], _columns([r[2] for r in rows]), reader)


def _record(obj: dict[str, Any]) -> dict[str, str]:
    """Our field names for the fields of one JSON record (any spelling), values as text."""
    record = {}
    for key, value in obj.items():
        ours = _FIELDS.get(normalise(key))
        if ours is not None and value is not None:
            record[ours] = value if isinstance(value, str) else json.dumps(value)
    return record


def _columns(records: list[dict[str, str]]) -> dict[str, pa.Array]:
    return {name: pa.array([r.get(name) for r in records], pa.string()) for name in set(_FIELDS.values())}


class _RowText(Sequence[str]):
    """The text of a Parquet row, built only when a reject needs it."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch

    def __len__(self) -> int:
        return self.batch.num_rows

    def __getitem__(self, i):  # type: ignore[override]
        return json.dumps(self.batch.slice(i, 1).to_pylist()[0], default=str)


def _parse_parquet(reader: LineReader) -> Iterator[pa.Table]:
    import pyarrow.parquet as pq

    first = 1
    try:
        parquet = pq.ParquetFile(reader.path)
        for batch in parquet.iter_batches(batch_size=reader.batch_size):
            n = batch.num_rows
            columns: dict[str, pa.Array] = {}
            for name, array in zip(batch.schema.names, batch.columns):
                ours = _FIELDS.get(normalise(name))
                if ours is None:
                    continue
                if ours == "epoch_s" and pa.types.is_timestamp(array.type):
                    columns["timestamp"] = array
                    continue
                columns[ours] = pc.cast(array, pa.string())
            for name in set(_FIELDS.values()):
                columns.setdefault(name, pa.nulls(n, pa.string()))
            numbers = list(range(first, first + n))
            first += n
            reader.lines = first - 1
            yield _table(numbers, _RowText(batch), columns, reader)
    except (OSError, ValueError, pa.ArrowException) as exc:
        reader.read_error = f"{type(exc).__name__}: {exc}"
        reader.reject(first, f"unreadable: {reader.read_error}", "")


def _dash(array: pa.Array) -> pa.Array:
    """'-' and '' to null."""
    return pc.if_else(pc.is_in(array, pa.array(["-", ""])), pa.scalar(None, pa.string()), array)


def _decoded(array: pa.Array) -> list[str | None]:
    encoded = pc.dictionary_encode(array)
    uniques = [decode(v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(uniques, pa.string()), encoded.indices).to_pylist()


def _table(numbers: list[int], lines: Sequence[str], c: dict[str, pa.Array], reader: LineReader) -> pa.Table:
    agent = c["user_agent"]  # null: not recorded (unknown); '-' or '': recorded empty (a bot)
    agent_values = [None if a is None else d for a, d in zip(agent.to_pylist(), ua_values(_decoded(agent)))]
    c = {k: (_dash(v) if v.type == pa.string() else v) for k, v in c.items()}
    stamp = pc.binary_join_element_wise(c["date"], c["time"], "T")
    ts = pc.strptime(stamp, format="%Y-%m-%dT%H:%M:%S", unit="ms", error_is_null=True)
    if "timestamp" in c:
        ts = pc.coalesce(ts, pc.cast(c["timestamp"], pa.timestamp("ms"), safe=False))
    ts = pc.coalesce(ts, epoch_time_column(c["epoch_ms"], 0.001), epoch_time_column(c["epoch_s"]))
    data: dict[str, list | pa.Array] = {
        "ts": ts,
        "client_ip": [client_address(v) for v in c["client_ip"].to_pylist()],
        "method": c["method"],
        "host": pc.coalesce(c["x_host"], c["cs_host"]),
        "path": _decoded(c["path"]),
        "query": c["query"],
        "status": c["status"],
        "bytes_sent": c["bytes_sent"],
        "referrer": _decoded(c["referrer"]),
        "user_agent": agent_values,
        "content_type": _decoded(c["content_type"]),
        "protocol": c["protocol"],
        "edge_location": c["edge_location"],
        "edge_result_type": c["edge_result_type"],
        "time_taken_ms": pc.multiply(float_column(c["seconds"]), 1000.0),
        "country_hint": c["country_hint"],
    }
    return finish(reader, numbers, lines, data, required=("ts", "status"))  # type: ignore[arg-type]
