"""The elastic apache_logs sample (10,000 real combined lines) cross-checked against an independent regex pass."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import run_cli

import stats_lib
from stats_lib.engines.duckdb import connect

# Written for this test only, deliberately unlike the parser's: the sample is all +0000.
LINE = re.compile(
    r'^(?P<ip>[\d.]+) - (?P<user>\S+) \[(?P<day>\d\d)/(?P<mon>May)/(?P<year>2015):\d\d:\d\d:\d\d \+0000\] '
    r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/1\.[01]" (?P<status>\d{3}) (?P<size>\d+|-) "(?P<ref>[^"]*)" "(?P<ua>[^"]*)"$'
)
PAGE = re.compile(r"(/|\.html?|/[^/.]*)$", re.IGNORECASE)


@pytest.fixture(scope="module")
def apache_logs(corpora: Path) -> Path:
    return corpora / "elastic-examples-apache-logs" / "apache_logs"


@pytest.fixture(scope="module")
def independent(apache_logs: Path) -> list[dict]:
    rows = []
    with open(apache_logs, encoding="ascii") as fh:
        for number, line in enumerate(fh, start=1):
            m = LINE.match(line.rstrip("\n"))
            if m:
                rows.append({**m.groupdict(), "number": number, "path": unquote(m["target"].split("?")[0])})
    return rows


@pytest.fixture(scope="module")
def ingested(apache_logs: Path, tmp_path_factory):
    from stats_lib.config import Settings

    warehouse = tmp_path_factory.mktemp("apache") / "warehouse"
    proc = run_cli("ingest", str(apache_logs), "--warehouse", str(warehouse))
    return warehouse, proc, Settings.from_env(warehouse=str(warehouse), progress=False)


def test_independent_pass_sees_the_same_one_bad_line(independent):
    assert len(independent) == 9_999
    assert 8899 not in {r["number"] for r in independent}


def test_summary_one_line_rejected(ingested):
    warehouse, proc, _ = ingested
    out = proc.stdout + proc.stderr
    assert "lines: 10000" in out and "events written: 9999" in out and "lines rejected: 1" in out
    assert "1 x not a combined log line" in out
    con = connect(warehouse)
    (number, kind, reason, line), = con.execute("SELECT line_number, kind, reason, line FROM rejects").fetchall()
    assert (number, kind, reason) == (8899, "rejected", "not a combined log line")
    assert line.startswith("46.118.127.0/24 - - [20/May/") and "46.118.127.106" not in line
    assert "Googlebot/2.1; +http://www.google.com/bot.html" in line


def test_hits_per_day_match(ingested, independent):
    _, _, settings = ingested
    daily = stats_lib.query("daily", settings=settings)
    ours = {str(day)[:10]: hits for day, hits in zip(daily["day"], daily["hits"])}
    theirs = Counter(f"{r['year']}-05-{r['day']}" for r in independent)
    assert ours == dict(theirs)
    assert sum(ours.values()) == 9_999 and sorted(ours) == ["2015-05-17", "2015-05-18", "2015-05-19", "2015-05-20"]


def test_status_codes_match(ingested, independent):
    warehouse, _, _ = ingested
    con = connect(warehouse)
    ours = dict(con.execute("SELECT status, COUNT(*) FROM events GROUP BY 1").fetchall())
    assert ours == dict(Counter(int(r["status"]) for r in independent))
    assert ours[200] == 9_125 and ours[304] == 445 and ours[404] == 213  # the counts SOURCE.md records


def test_top_paths_by_hits_match(ingested, independent):
    warehouse, _, _ = ingested
    con = connect(warehouse)
    ours = con.execute("SELECT path, COUNT(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20").fetchall()
    theirs = sorted(Counter(r["path"] for r in independent).items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    assert ours == theirs
    bytes_ours = con.execute("SELECT SUM(bytes_sent), COUNT(*) FILTER (WHERE bytes_sent IS NULL) FROM events").fetchone()
    sizes = [r["size"] for r in independent]
    assert bytes_ours == (sum(int(s) for s in sizes if s != "-"), sizes.count("-"))


def test_top_pages_query_matches(ingested, independent):
    warehouse, _, settings = ingested
    con = connect(warehouse)
    bot_agents = {ua for (ua,) in con.execute("SELECT DISTINCT user_agent FROM events WHERE is_bot").fetchall()}
    pages = Counter(
        r["path"]
        for r in independent
        if r["method"] == "GET" and r["status"] in ("200", "304") and PAGE.search(r["path"])
        and r["ua"] not in bot_agents and r["ua"] not in ("", "-")
    )
    top = stats_lib.query("top_pages", settings=settings)
    ours = dict(zip(top["path"], top["pageviews"]))
    assert sum(ours.values()) == sum(v for k, v in pages.items() if k in ours)
    for path, count in list(ours.items())[:20]:
        assert pages[path] == count, path
    assert ours == {k: v for k, v in pages.items() if k in ours} and len(ours) == min(100, len(pages))
