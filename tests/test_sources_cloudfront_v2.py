"""CloudFront standard logging v2: JSON lines and Parquet, written here from AWS's documented field list.

There is no public corpus of v2 files, so the fixtures are built in the test: the 33 legacy fields plus the
v2-only ``origin-fbl``, ``origin-lbl``, ``asn``, ``c-country`` and ``cache-behavior-path-pattern``, in Hive-style
partition folders (``DistributionId=.../year=/month=/day=/hour=``) as CloudFront writes them when asked to.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import parse_file as parse

import stats_lib
from stats_lib.engines.duckdb import connect
from stats_lib.sources.cloudfront import FIELDS as CLOUDFRONT_FIELDS

# the standard log's 33 fields plus the fields only real-time / v2 logs have
FIELDS = [*CLOUDFRONT_FIELDS, *"origin-fbl origin-lbl asn c-country cache-behavior-path-pattern".split()]

FIREFOX = "Mozilla/5.0%20(X11;%20Linux%20x86_64;%20rv:120.0)%20Gecko/20100101%20Firefox/120.0"


def record(time: str, ip: str, path: str, status: str, ctype: str, country: str, ua: str = FIREFOX, query: str = "-") -> dict:
    values = {name: "-" for name in FIELDS}
    values.update(
        {
            "date": "2024-05-01", "time": time, "x-edge-location": "FRA56-P7", "sc-bytes": "1234", "c-ip": ip,
            "cs-method": "GET", "cs(Host)": "d111111abcdef8.cloudfront.net", "cs-uri-stem": path, "sc-status": status,
            "cs(Referer)": "https://www.google.com/", "cs(User-Agent)": ua, "cs-uri-query": query,
            "x-edge-result-type": "Hit", "x-host-header": "www.example.org", "cs-protocol": "https",
            "time-taken": "0.012", "sc-content-type": ctype, "asn": "3320", "c-country": country,
            "cache-behavior-path-pattern": "*",
        }
    )
    return values


RECORDS = [
    record("12:00:01", "198.51.100.7", "/", "200", "text/html", "DE", query="utm_source=news"),
    record("12:00:02", "198.51.100.7", "/style.css", "200", "text/css", "DE"),
    record("12:00:03", "2001:db8:1:2::5", "/caf%C3%A9/", "200", "text/html;%20charset=utf-8", "FR"),
    record("12:00:04", "203.0.113.9", "/about", "404", "text/html", "US", ua="-"),
]


def write_json(path: Path, records: list[dict], compress: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in records)
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())


def write_parquet(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(records)
    table = table.set_column(table.schema.get_field_index("sc-status"), "sc-status", pa.array([int(r["sc-status"]) for r in records], pa.int32()))
    pq.write_table(table, path)


def partition(root: Path) -> Path:
    return root / "DistributionId=E1ABCDEF" / "year=2024" / "month=05" / "day=01" / "hour=12"


def check_rows(rows: list[dict]) -> None:
    assert len(rows) == 4
    home, css, cafe, about = rows
    assert home["ts"] == dt.datetime(2024, 5, 1, 12, 0, 1) and home["client_ip"] == "198.51.100.7"
    assert (home["host"], home["path"], home["query"], home["status"], home["bytes_sent"]) == ("www.example.org", "/", "utm_source=news", 200, 1234)
    assert home["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    assert (home["country_hint"], home["edge_location"], home["edge_result_type"], home["time_taken_ms"]) == ("DE", "FRA56-P7", "Hit", 12.0)
    assert css["content_type"] == "text/css"
    assert cafe["path"] == "/café/" and cafe["client_ip"] == "2001:db8:1:2::5" and cafe["content_type"] == "text/html; charset=utf-8"
    assert about["user_agent"] == "" and about["status"] == 404 and about["country_hint"] == "US"


def test_json_gzip_detected_and_parsed(tmp_path):
    path = partition(tmp_path) / "E1ABCDEF.2024-05-01-12.abcd1234.gz"
    write_json(path, RECORDS)
    name, rows, reader = parse(path)
    assert name == "cloudfront_v2" and reader.lines == 4 and not reader.rejects
    check_rows(rows)


def test_parquet_detected_and_parsed(tmp_path):
    path = partition(tmp_path) / "E1ABCDEF.2024-05-01-12.abcd1234.parquet"
    write_parquet(path, RECORDS)
    name, rows, reader = parse(path)
    assert name == "cloudfront_v2" and reader.lines == 4 and not reader.rejects
    assert [r["line_number"] for r in rows] == [1, 2, 3, 4]
    check_rows(rows)


def test_subset_of_fields_with_realtime_names_and_epoch_timestamp(tmp_path):
    path = tmp_path / "subset.json"
    path.write_text(
        json.dumps({"timestamp(ms)": "1714564801500", "c-ip": "198.51.100.7", "cs-method": "GET", "cs-host": "example.net",
                    "cs-uri-stem": "/", "sc-status": "200", "x-edge-location": "IAD89-C1"}) + "\n"
        + "not json\n"
        + json.dumps({"c-ip": "198.51.100.8", "cs-uri-stem": "/x", "sc-status": "200", "x-edge-location": "IAD89-C1"}) + "\n"
    )
    name, rows, reader = parse(path)
    assert name == "cloudfront_v2" and len(rows) == 1
    assert rows[0]["ts"] == dt.datetime(2024, 5, 1, 12, 0, 1, 500000) and rows[0]["host"] == "example.net"
    assert rows[0]["user_agent"] is None  # the field was not selected: unknown, not a bot
    assert [(n, reason) for n, _, reason, _ in reader.rejects] == [(2, "not a JSON object"), (3, "bad timestamp")]


def test_hive_partitioned_folder_end_to_end(tmp_path, settings, warehouse):
    root = tmp_path / "cf-logs"
    write_json(partition(root) / "E1ABCDEF.2024-05-01-12.json.gz", RECORDS[:2])
    write_parquet(root / "DistributionId=E1ABCDEF" / "year=2024" / "month=05" / "day=01" / "hour=13" / "part.parquet", RECORDS[2:])
    write_json(root / "E1ABCDEF" / "2024" / "05" / "01" / "14" / "plain.json", RECORDS[:1], compress=False)
    summary = stats_lib.ingest([str(root)], settings=settings)
    assert [(f.format, f.events, f.rejected) for f in summary.files] == [("cloudfront_v2", 2, 0), ("cloudfront_v2", 2, 0), ("cloudfront_v2", 1, 0)]
    con = connect(warehouse)
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT site) FROM events").fetchone() == (5, 1)
    assert con.execute("SELECT path, COUNT(*) FROM events WHERE is_pageview GROUP BY 1 ORDER BY 1").fetchall() == [
        ("/", 2), ("/café/", 1)
    ]
    assert con.execute("SELECT DISTINCT site FROM events").fetchall() == [("example.org",)]
    daily = stats_lib.query("daily", settings=settings)
    assert daily["hits"].tolist() == [5] and daily["pageviews"].tolist() == [3]
