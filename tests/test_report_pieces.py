"""Report pieces without a rendering run: KPI tiles with no earlier data, human headers, explained status codes,
share columns, CSV cells, bidi characters, self-referrals, late files, the drawn map's privacy threshold."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pandas as pd

from stats_lib.reports import acquisition, html, land, maps, metrics, quality


def test_kpis_say_when_there_is_no_earlier_data():
    now = metrics.period_totals(pd.DataFrame({"day": ["2026-11-01"], "hits": [9], "bot_hits": [1], "pageviews": [5],
                                              "visitors": [3], "sessions": [4], "bounces": [2],
                                              "avg_visit_duration": [10.0]}))
    before = metrics.period_totals(pd.DataFrame(columns=["day", "visitors"]))
    text = html.kpi_tiles(now, before, previous_label="x", since=dt.date(2026, 11, 1))
    assert "no data before 2026-11-01" in text
    assert "new" not in text and "vs 0" not in text and " pp" not in text and "bad" not in text


def test_tables_have_human_headers_explained_codes_and_shares():
    frame = pd.DataFrame({"utm_source": ["news", "ads"], "visitors": [3, 1]})
    text = html.table(frame, name="campaigns")
    assert ">Source<" in text and "Utm" not in text
    assert ">Share of visitors<" in text and "75.0%" in text and "25.0%" in text
    codes = html.table(pd.DataFrame({"status": [0, 304, 404], "hits": [1, 2, 3]}), name="status_codes")
    assert "the client went away" in codes and "not modified" in codes and "not found" in codes


def test_csv_download_is_formula_safe_and_bidi_is_neutralised():
    frame = pd.DataFrame({"path": ["/a\r=1+1", "=HYPERLINK(1)", "/invoice\u202efdp.exe"], "hits": [1, 2, 3]})
    text = html.table(frame, name="paths")
    href = text.split('href="', 1)[1].split('"', 1)[0]
    csv = urllib.parse.unquote(href.split(",", 1)[1])
    rows = csv.split("\r\n")
    assert rows[0] == "path,hits"
    assert all(not r.startswith(("=", "+", "-", "@")) for r in rows[1:])
    assert "'=HYPERLINK(1)" in csv
    assert "\u202e" not in text and "\u202e" not in csv and "\\u202e" in text


def test_self_referrals_are_not_a_channel_and_channels_follow_visitors():
    channels = pd.DataFrame({"channel": ["internal", "search", "direct"], "visitors": [50, 7, 9],
                             "pageviews": [80, 9, 12]})
    shown = acquisition.external_channels(channels)
    assert list(shown["channel"]) == ["direct", "search"]
    assert "80 pageviews by 50 visitors" in acquisition.self_referrals(channels)


def test_late_files_are_only_those_after_a_day_counted_on_time():
    ledger = pd.DataFrame([
        # a backfill: both files of March 1 came weeks later, together: not late
        dict(source="a.gz", first_day="2026-03-01", last_day="2026-03-01", ingested_at="2026-04-01T10:00:00+00:00"),
        dict(source="b.gz", first_day="2026-03-01", last_day="2026-03-01", ingested_at="2026-04-01T10:00:05+00:00"),
        # March 10 counted on time, then one more file five days later: late, salt missing
        dict(source="c.gz", first_day="2026-03-10", last_day="2026-03-10", ingested_at="2026-03-11T01:00:00+00:00"),
        dict(source="d.gz", first_day="2026-03-10", last_day="2026-03-10", ingested_at="2026-03-15T01:00:00+00:00"),
    ])
    late = quality.late_files(ledger, retention_days=2)
    assert list(late["source"]) == ["d.gz"]
    assert quality.salt_missing_days(late) == ["2026-03-10"]


def test_country_shapes_come_from_the_package_and_shades_are_k_anonymous():
    shapes = land.countries()
    assert len(shapes) >= 150 and {"GB", "SE", "US", "BR"} <= {c.code for c in shapes}
    cities = pd.DataFrame([
        dict(country_code="GB", country="UK", city="London", latitude=51.5, longitude=-0.1, visitors=40,
             peak_day_visitors=9, country_peak_day_visitors=12, pageviews=70),
        dict(country_code="SE", country="Sweden", city="Linköping", latitude=58.4, longitude=15.6, visitors=9,
             peak_day_visitors=4, country_peak_day_visitors=4, pageviews=9),
    ])
    shades = land.choropleth(cities, k=5)
    assert shades.visitors == {"GB": 40} and shades.hidden == 1
    drawn = maps.world_svg(maps.visitor_map(cities, None, k=5))._repr_html_()
    assert "Linköping" not in drawn and "London: 40 visitors" in drawn
    assert drawn.count("<path") >= 150


def test_date_ticks_read_well_at_any_range():
    from stats_lib.reports.svg import date_ticks

    week = [label for _, label in date_ticks(dt.date(2026, 3, 2), dt.date(2026, 3, 8), 8)]
    assert week == ["Mar 2", "Mar 3", "Mar 4", "Mar 5", "Mar 6", "Mar 7", "Mar 8"]
    years = [label for _, label in date_ticks(dt.date(2014, 1, 1), dt.date(2025, 12, 31), 8)]
    assert len(years) <= 8 and len(set(years)) == len(years) and all(y.isdigit() for y in years)
    quarter = [label for _, label in date_ticks(dt.date(2026, 1, 1), dt.date(2026, 3, 31), 8)]
    assert len(set(quarter)) == len(quarter) <= 8


def test_a_long_range_is_drawn_readably_with_values_on_hover():
    from stats_lib.reports import charts

    days = pd.date_range("2014-01-01", "2025-12-31", freq="D")
    daily = pd.DataFrame({"day": days.date, "pageviews": range(len(days)), "visitors": 1})
    chart = charts.daily_lines(daily)
    assert "monthly sums" in chart.note
    assert chart.wide.count("<title>") <= 2 * 12 * 12 + 2  # one hover value per month and series
    assert ">Jan 01<" not in chart.wide
    assert chart.legend == [("Pageviews", charts.PALETTE[0], False), ("Visitors", charts.PALETTE[1], False)]
