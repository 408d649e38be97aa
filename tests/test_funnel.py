"""queries/funnel.sql on DuckDB over a real Parquet warehouse of generated sessions, against counts worked out
by hand below (out-of-order steps, repeated steps, a bot, sessions split by a 30-minute gap at sub-second
precision, a session cut at midnight, custom event names)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stats_lib import Settings, query
from stats_lib.reports import funnels
from stats_lib.schema import STORED_SCHEMA
from stats_lib.warehouse.rollups import Store
from stats_lib.warehouse.storage import mark_current

DAY = dt.date(2026, 5, 1)
T0 = dt.datetime(2026, 5, 1, 9, 0)
STEPS = ["/", "/pricing", "signup"]


def _events() -> list[dict]:
    rows: list[dict] = []

    def visit(visitor: int, *steps: tuple[float, str], bot: bool = False, start: dt.datetime = T0) -> None:
        """``steps``: (seconds after ``start``, path or 'event:NAME')."""
        for seconds, what in steps:
            ts = start + dt.timedelta(seconds=seconds)
            is_event = what.startswith("event:")
            rows.append({
                "ts": ts, "site": "example.com", "source": "collector" if is_event else "cloudfront",
                "source_file": "gen", "line_number": len(rows) + 1, "method": "GET",
                "path": "/signup/done" if is_event else what, "status": 200,
                "event_name": what[6:] if is_event else None, "is_bot": bot, "is_pageview": not is_event and not bot,
                "visitor_id": visitor, "dt": ts.date().isoformat(),
            })

    m = 60
    visit(1, (0, "/"), (60, "/pricing"), (120, "event:signup"))            # 3 steps
    visit(2, (0, "/pricing"), (60, "/"))                                   # out of order: step 1 only
    visit(3, (0, "/"), (31 * m, "/pricing"))                               # split by the gap: step 1 only
    visit(4, (0, "/"), (60, "/about"), (60 + 29 * m, "/pricing"), (60 + 39 * m, "event:signup"))  # 3 steps
    visit(5, (0, "/"), (10, "/pricing"), (20, "event:signup"), bot=True)  # a bot: never counts
    visit(6, (0, "/"), (60, "event:signup"))                               # skipped /pricing: step 1 only
    visit(7, (0, "/"), (5, "/"), (9, "/pricing"), (12, "/pricing"), (15, "event:signup"), (16, "event:signup"))  # 3
    visit(8, (0, "/"), (15 * m, "/pricing"), start=dt.datetime(2026, 5, 1, 23, 50))  # /pricing falls on May 2
    visit(9, (0, "/"), (30 * m + 0.5, "/pricing"))                         # 30 min 0.5 s: split, step 1 only
    visit(10, (0, "/"), (30 * m - 0.5, "/pricing"))                        # 29 min 59.5 s: steps 1 and 2
    visit(11, (0, "/pricing"), (60, "event:signup"))                       # never reached step 1
    return rows


EXPECTED = [  # step, name, sessions, drop_off
    (1, "/", 9, 0),          # v1 v2 v3 v4 v6 v7 v8 v9 v10
    (2, "/pricing", 4, 5),   # v1 v4 v7 v10
    (3, "signup", 3, 1),     # v1 v4 v7
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("funnel") / "warehouse"
    rows = _events()
    for day in sorted({r["dt"] for r in rows}):
        part = [{k: v for k, v in r.items() if k != "dt"} for r in rows if r["dt"] == day]
        table = pa.Table.from_pylist(part, schema=STORED_SCHEMA)
        folder = root / "events" / f"dt={day}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "generated.parquet")
    mark_current(Store.for_warehouse(str(root)))
    return Settings.from_env(warehouse=str(root), progress=False)


def test_funnel_counts_sessions_reaching_each_step_in_order(settings):
    result = query("funnel", DAY, DAY + dt.timedelta(days=1), "example.com", settings=settings,
                   **funnels.step_parameters(STEPS))
    got = [(int(r.step), r.name, int(r.sessions), int(r.drop_off)) for r in result.itertuples(index=False)]
    assert got == EXPECTED
    assert [round(float(v), 6) for v in result["conversion"]] == [1.0, round(4 / 9, 6), round(3 / 9, 6)]


def test_funnel_for_another_period_and_order_of_steps(settings):
    # May 2 alone: v8's /pricing is the only event; nobody reaches '/', so no step has a session
    result = query("funnel", DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1), "", settings=settings,
                   **funnels.step_parameters(["/", "/pricing"]))
    assert list(result["sessions"]) == [0, 0]
    # the steps reversed: /pricing then /: v2 only (v4's / comes before its /pricing)
    result = query("funnel", DAY, DAY, "", settings=settings, **funnels.step_parameters(["/pricing", "/"]))
    assert [int(v) for v in result["sessions"]] == [8, 1]  # /pricing: v1 v2 v3 v4 v7 v9 v10 v11


def test_funnel_steps_are_checked():
    with pytest.raises(funnels.BadFunnel):
        funnels.step_parameters([])
    with pytest.raises(funnels.BadFunnel):
        funnels.step_parameters(["/"] * 9)
    with pytest.raises(funnels.BadFunnel):
        funnels.step_parameters(["/", " "])
