"""Writing StoredEvents straight into a local warehouse folder, for query tests that need exact timestamps or
values no log line carries (sub-second gaps, chosen visitor ids)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from stats_lib.schema import STORED_SCHEMA
from stats_lib.warehouse.rollups import Store
from stats_lib.warehouse.storage import mark_current

DEFAULTS = {"site": "example.com", "source": "cloudfront", "source_file": "test.log", "method": "GET",
            "status": 200, "is_bot": False, "is_pageview": True, "path": "/"}


def write_events(warehouse: Path, rows: list[dict], name: str = "test") -> None:
    """One Parquet file per UTC day of the rows' ``ts``; missing columns take DEFAULTS or null, line numbers
    count up in the given order."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for n, row in enumerate(rows, 1):
        full = {**DEFAULTS, "line_number": n, **row}
        by_day[full["ts"].date().isoformat()].append(full)
    for day, day_rows in by_day.items():
        table = pa.Table.from_pylist([{f.name: r.get(f.name) for f in STORED_SCHEMA} for r in day_rows],
                                     schema=STORED_SCHEMA)
        path = warehouse / "events" / f"dt={day}" / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    mark_current(Store.for_warehouse(str(warehouse)))  # written with the current storage version's schema


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
