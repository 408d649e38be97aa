"""Query definitions on exact inputs: sessions split at full timestamp precision, durations below a second,
counts that are 0 (never NULL) when a format records no user agent, one shared definition of sessions."""

from __future__ import annotations

import gzip

import pytest
from stored_events import at, write_events

from stats_lib.api import query
from stats_lib.engines import sql
from stats_lib.ingest import ingest


def test_a_gap_of_30_minutes_and_0_8_seconds_splits_and_29_59_2_does_not(settings, warehouse):
    write_events(warehouse, [
        {"ts": at("2026-05-04 10:00:00.100"), "visitor_id": 1, "path": "/a1"},
        {"ts": at("2026-05-04 10:30:00.900"), "visitor_id": 1, "path": "/a2"},  # 30 min 0.8 s later: splits
        {"ts": at("2026-05-04 11:00:00.900"), "visitor_id": 2, "path": "/b1"},
        {"ts": at("2026-05-04 11:30:00.100"), "visitor_id": 2, "path": "/b2"},  # 29 min 59.2 s later: one session
    ])
    daily = query("daily", settings=settings).iloc[0]
    assert (daily["sessions"], daily["bounces"]) == (3, 2)
    # sessions last 0, 0 and 1799.2 seconds
    assert daily["avg_visit_duration"] == pytest.approx(1799.2 / 3, abs=1e-9)
    entries = dict(zip(*query("entry_pages", settings=settings)[["path", "entries"]].T.values))
    assert entries == {"/a1": 1, "/a2": 1, "/b1": 1}
    exits = dict(zip(*query("exit_pages", settings=settings)[["path", "exits"]].T.values))
    assert exits == {"/a1": 1, "/a2": 1, "/b2": 1}


def test_durations_keep_milliseconds(settings, warehouse):
    write_events(warehouse, [
        {"ts": at("2026-05-04 10:00:00.999"), "visitor_id": 1},
        {"ts": at("2026-05-04 10:00:01.001"), "visitor_id": 1},  # 2 ms later, across a second boundary
        {"ts": at("2026-05-04 12:00:00.000"), "visitor_id": 2},
        {"ts": at("2026-05-04 12:00:00.900"), "visitor_id": 2},  # 0.9 s later, inside one second
    ])
    daily = query("daily", settings=settings).iloc[0]
    assert daily["sessions"] == 2
    assert daily["avg_visit_duration"] == pytest.approx((0.002 + 0.9) / 2, abs=1e-9)


def test_pageviews_at_the_same_time_have_one_entry_and_exit_page(settings, warehouse):
    """Ties in time are broken by the log's order (source file, line), so the answer never varies."""
    write_events(warehouse, [{"ts": at("2026-05-04 10:00:00"), "visitor_id": 1, "path": p} for p in "/z /y /x".split()])
    for _ in range(3):
        assert query("entry_pages", settings=settings)["path"].tolist() == ["/z"]
        assert query("exit_pages", settings=settings)["path"].tolist() == ["/x"]


def test_bot_hits_are_zero_not_null_for_a_log_without_user_agents(settings, warehouse, tmp_path):
    log = tmp_path / "access.log.gz"
    lines = [f'203.0.113.{i} - - [04/May/2026:10:0{i}:00 +0000] "GET /p{i} HTTP/1.1" 200 512' for i in range(5)]
    log.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    summary = ingest([str(log)], format="common", settings=settings, progress=False)
    assert summary.events == 5
    daily = query("daily", settings=settings)
    assert daily["bot_hits"].tolist() == [0]
    assert daily["hits"].tolist() == [5]
    status = query("status_daily", settings=settings)
    assert status["bot_hits"].tolist() == [0]


def test_the_three_session_queries_share_one_definition():
    shared = {p.stem for p in sql.shared_dir().glob("*.sql")}
    assert {"sessions", "session_pageviews"} <= shared
    for name in ("daily", "entry_pages", "exit_pages"):
        text = sql.load(name).text.upper()
        assert "LAG(" not in text and "DATE_DIFF('SECOND'" not in text, name  # no copy of the rule
        assert "SESSIONS" in text
        inlined = sql.load(name).for_duckdb().upper()
        assert "INTERVAL '30' MINUTE" in inlined and "SESSION_PAGEVIEWS AS" in inlined


def test_a_query_that_defines_its_own_sessions_keeps_it():
    tree = sql.inline_shared(sql._parse("WITH sessions AS (SELECT 1 AS x) SELECT x FROM sessions"),
                             sql._shared_definitions(sql.shared_dir()))
    assert "session_pageviews" not in tree.sql()
