"""Event files keep the row-group statistics of every column a query filters on (pruning by site, day, path...)
and skip those of columns no range can answer (user agents, visitor ids): ``warehouse.local.EVENT_STATISTICS``."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq

import stats_lib
from stats_lib.warehouse.local import EVENT_PLAIN, EVENT_STATISTICS

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


def test_columns_of_distinct_values_are_written_without_a_dictionary(corpora, warehouse, settings):
    """``EVENT_PLAIN``: timestamps, line numbers and byte counts are plain; text columns keep their dictionary."""
    stats_lib.ingest([str(corpora / "sudhirj-scogs/CF.gz")], settings=settings)
    files = sorted((Path(settings.warehouse) / "events").rglob("*.parquet"))
    assert files
    row_group = pq.ParquetFile(files[0]).metadata.row_group(0)
    encodings = {row_group.column(i).path_in_schema: row_group.column(i).encodings
                 for i in range(row_group.num_columns)}
    dictionary = {name for name, used in encodings.items() if "RLE_DICTIONARY" in used or "PLAIN_DICTIONARY" in used}
    assert not dictionary & set(EVENT_PLAIN)
    assert {"path", "user_agent", "site"} <= dictionary


def test_a_file_across_midnight_puts_each_event_in_its_utc_day(tmp_path, settings):
    """Lines of two UTC days, interleaved: each day's partition holds exactly the lines whose timestamp has that
    date (counted from the text), and a one-day file is written whole (``enrich.pipeline.split_by_day``)."""
    stamps = ["31/Dec/2025:23:59:58 +0000", "01/Jan/2026:00:00:01 +0000", "31/Dec/2025:23:59:59 +0000",
              "01/Jan/2026:00:00:02 +0000", "01/Jan/2026:00:30:00 +0000"]
    lines = [f'203.0.113.{i} - - [{s}] "GET /p{i} HTTP/1.1" 200 10 "-" "Mozilla/5.0"' for i, s in enumerate(stamps)]
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    one_day = tmp_path / "one-day.log"
    one_day.write_text("\n".join(lines[1::2]) + "\n")
    stats_lib.ingest([str(log), str(one_day)], format="combined", site="example.com", settings=settings)
    expected = {"2025-12-31": sum("Dec/2025" in s for s in stamps),
                "2026-01-01": sum("Jan/2026" in s for s in stamps) + len(lines[1::2])}
    events = Path(settings.warehouse) / "events"
    found = {p.name[3:]: sum(pq.ParquetFile(f).metadata.num_rows for f in p.glob("*.parquet"))
             for p in sorted(events.glob("dt=*"))}
    assert found == expected == {"2025-12-31": 2, "2026-01-01": 5}
    for day in found:
        for f in (events / f"dt={day}").glob("*.parquet"):
            assert {str(t.date()) for t in pq.read_table(f, columns=["ts"])["ts"].to_pylist()} == {day}
