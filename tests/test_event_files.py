"""Event files keep the row-group statistics of every column a query filters on (pruning by site, day, path...)
and skip those of columns no range can answer (user agents, visitor ids): ``warehouse.local.EVENT_STATISTICS``."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq

import stats_lib
from stats_lib.warehouse.local import EVENT_STATISTICS

QUERIES = Path(stats_lib.__file__).resolve().parent.parent / "queries"


def test_every_filtered_column_has_statistics():
    """Columns compared with a parameter or a constant in a WHERE clause of the report queries (our SQL)."""
    from stats_lib.schema import STORED_SCHEMA

    filtered = set()
    for path in QUERIES.rglob("*.sql"):
        for where in re.findall(r"\bWHERE\b(.*?)(?:\bGROUP\b|\bORDER\b|\bSELECT\b|;|$)", path.read_text(), re.S | re.I):
            filtered.update(re.findall(r"\b([a-z_]+)\s*(?:=|<>|!=|>=|<=|<|>|\bIN\b|\bBETWEEN\b|\bLIKE\b)", where, re.I))
    filtered &= set(STORED_SCHEMA.names)
    assert {"site", "status"} <= filtered
    assert filtered <= set(EVENT_STATISTICS), filtered - set(EVENT_STATISTICS)


def test_ingested_files_have_statistics_only_where_chosen(corpora, warehouse, settings):
    stats_lib.ingest([str(corpora / "sudhirj-scogs/CF.gz")], settings=settings)
    files = sorted((Path(settings.warehouse) / "events").rglob("*.parquet"))
    assert files
    meta = pq.ParquetFile(files[0]).metadata
    row_group = meta.row_group(0)
    kept = {row_group.column(i).path_in_schema for i in range(row_group.num_columns)
            if row_group.column(i).is_stats_set}
    assert {"ts", "site", "path", "status"} <= kept
    assert not kept & {"user_agent", "visitor_id", "ip_prefix", "referrer"}
    assert kept <= set(EVENT_STATISTICS)
