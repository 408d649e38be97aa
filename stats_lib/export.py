"""Turning query results into text: an aligned table, CSV safe against spreadsheet formulas, or JSON.

Every string passes through ``display``: control, bidi and invisible characters are shown as visible escapes in
tables and CSV, and as ``\\uXXXX`` escapes (same values once decoded) in JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math

import pandas as pd

from .display import csv_cell, json_safe, safe_value

TABLE_CELL_CAP = 80


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, decimal.Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.astype(object).to_dict(orient="records")]


def to_json(frame: pd.DataFrame) -> str:
    return json_safe(json.dumps(records(frame), ensure_ascii=False, indent=1))


def to_csv(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(str(c)) for c in frame.columns])
    for row in records(frame):
        writer.writerow(["" if v is None else csv_cell(v) for v in row.values()])
    return out.getvalue()


def to_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(no rows)"
    shown = frame.copy()
    shown.columns = [safe_value(str(c)) for c in shown.columns]
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: safe_value(v, TABLE_CELL_CAP))
    return shown.to_string(index=False)
