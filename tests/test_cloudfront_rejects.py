"""Malformed CloudFront lines are counted and kept with file, line number and reason (IPs masked); the run goes on."""

from __future__ import annotations

import gzip

import stats_lib
from stats_lib.engines.duckdb import connect
from stats_lib.sources.cloudfront import FIELDS


def line(date="2026-11-02", time="10:00:00", ip="198.51.100.23", status="200", width=26) -> str:
    values = dict.fromkeys(FIELDS, "-")
    values.update({"date": date, "time": time, "c-ip": ip, "sc-status": status, "cs-method": "GET",
                   "cs-uri-stem": "/", "x-host-header": "example.com", "cs(User-Agent)": "Mozilla/5.0%20Firefox"})
    return "\t".join(values[f] for f in FIELDS[:width])


def test_bad_lines_are_rejected_with_reasons(tmp_path, settings, warehouse):
    log = tmp_path / "E1.2026-11-02-10.abc.gz"
    body = [
        "#Version: 1.0",
        "#Fields: " + " ".join(FIELDS[:26]),
        line(),
        line(date="2026-13-45"),  # bad date
        line(status="OK"),  # bad status
        "\t".join(line().split("\t")[:10]),  # too few fields
        line(ip="2001:db8:abcd:12::7"),
        "",
    ]
    with gzip.open(log, "wt") as fh:
        fh.write("\n".join(body))
    summary = stats_lib.ingest([str(log)], settings=settings)
    assert (summary.events, summary.rejected) == (2, 3)
    assert summary.reasons == {"bad date or time": 1, "bad status": 1,
                               "expected 26 tab-separated fields, found 10": 1}
    con = connect(warehouse)
    got = con.execute("SELECT line_number, reason, line FROM rejects ORDER BY line_number").fetchall()
    con.close()
    assert [(n, r) for n, r, _ in got] == [(4, "bad date or time"), (5, "bad status"),
                                           (6, "expected 26 tab-separated fields, found 10")]
    assert all("198.51.100.23" not in text and "198.51.100.0/24" in text for _, _, text in got)
    assert "1 x bad status" in summary.text()
