"""The rendered report (papermill + nbconvert) on a small known warehouse: pages, figures equal to the queries',
the previous-period comparison, escaping of hostile log strings, CSP, the map's privacy threshold."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
import report_data

from stats_lib import query
from stats_lib.reports import html as rhtml
from stats_lib.reports import maps, metrics

PAGES = ["01-overview", "02-pages", "03-acquisition", "04-audience", "05-geography", "06-technical",
         "07-data-quality", "08-funnel", "09-events"]


@pytest.fixture(scope="module")
def report():
    return report_data.built()


def _read(report, name: str) -> str:
    return (report["out"] / name).read_text(encoding="utf-8")


def test_every_page_and_artefact_is_written(report):
    out = report["out"]
    assert report["index"] == out / "index.html"
    index = _read(report, "index.html")
    for page in PAGES:
        assert (out / f"{page}.html").is_file(), page
        assert (out / "notebooks" / f"{page}.ipynb").is_file(), page
        assert f'href="{page}.html"' in index
    assert (out / "map.html").is_file()
    assert (out / "assets" / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert (out / "assets" / "leaflet-heat.js").is_file()


@pytest.mark.parametrize("page", ["index"] + PAGES)
def test_each_page_states_period_site_tz_generation_and_definitions(report, page):
    text = _read(report, f"{page}.html")
    start, end = report_data.PERIOD
    assert f"{start.isoformat()} to {end.isoformat()}" in text
    assert f'data-meta="site">{report_data.SITE}<' in text
    assert "Europe/Berlin" in text
    assert 'data-meta="generated"' in text and " UTC " in text
    assert "Metric definitions" in text and "30 minutes" in text
    assert '<meta http-equiv="Content-Security-Policy"' in text
    assert "<script" not in text.lower().replace("&lt;script", "")  # report pages carry no script at all
    assert "input_area" not in text and "jp-InputArea" not in text  # no code cells


def test_no_code_and_no_traceback_in_pages(report):
    for page in PAGES:
        text = _read(report, f"{page}.html")
        assert "open_report(" not in text
        assert "Traceback" not in text and "Error" not in re.sub(r"<[^>]+>", "", text).split("Metric definitions")[0] \
            or page == "06-technical", page


def _kpis(text: str) -> dict[str, tuple[str, str]]:
    """{kpi: (value, previous)} from the tiles' data attributes (in whatever order the HTML has them)."""
    found = {}
    for tag in re.findall(r"<div[^>]*data-kpi=[^>]*>", text):
        attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', tag))
        found[attrs["data-kpi"]] = (attrs["data-value"], attrs["data-previous"])
    return found


def test_overview_numbers_equal_the_daily_query(report):
    settings = report["settings"]
    start, end = report_data.PERIOD
    daily = query("daily", start, end, report_data.SITE, settings=settings)
    prev_start, prev_end = metrics.previous_period(start, end)
    previous = query("daily", prev_start, prev_end, report_data.SITE, settings=settings)
    assert len(daily) == 2 and len(previous) == 2
    now, before = metrics.period_totals(daily), metrics.period_totals(previous)
    assert now["visitors"] == int(daily["visitors"].sum()) > 0
    text = _read(report, "01-overview.html")
    kpis = _kpis(text)
    assert set(kpis) == {"visitors", "pageviews", "sessions", "bounce_rate", "avg_visit_duration"}
    for key in ("visitors", "pageviews", "sessions"):
        assert int(kpis[key][0]) == now[key], key
        assert int(kpis[key][1]) == before[key], key
    assert float(kpis["bounce_rate"][0]) == pytest.approx(now["bounce_rate"])
    assert float(kpis["avg_visit_duration"][0]) == pytest.approx(now["avg_visit_duration"])
    # the shown change against the previous period
    change, _ = rhtml.change_text(now["visitors"], before["visitors"])
    assert change in text and change.startswith("+")
    # the day-by-day table shows each day's figures
    table = text.split('data-table="daily"', 1)[1]
    for col in ("hits", "pageviews", "visitors", "sessions", "bounces"):
        shown = [int(v.replace(",", "")) for v in re.findall(rf'data-col="{col}">([\d,]+)<', table)]
        assert shown == [int(v) for v in daily[col]], col


def test_pages_tables_match_their_queries(report):
    start, end = report_data.PERIOD
    text = _read(report, "02-pages.html")
    top = query("top_pages", start, end, report_data.SITE, settings=report["settings"])
    block = text.split('data-table="top_pages"', 1)[1].split("</section>", 1)[0]
    shown = [int(v.replace(",", "")) for v in re.findall(r'data-col="pageviews">([\d,]+)<', block)]
    assert shown == [int(v) for v in top["pageviews"].head(50)]
    nf = query("not_found", start, end, report_data.SITE, settings=report["settings"])
    assert "/old-page" in set(nf["path"])
    assert "/old-page" in text.split('data-table="not_found"', 1)[1]


def test_hostile_strings_are_shown_escaped_and_never_as_markup(report):
    pages = {p: _read(report, f"{p}.html") for p in PAGES} | {"map": _read(report, "map.html")}
    everything = "\n".join(pages.values())
    for payload in report_data.PAYLOADS:
        if "<" in payload:  # markup must never come through as markup ('javascript:...' as plain text is harmless)
            assert payload not in everything, payload
    assert html.escape(report_data.XSS_REFERRER) in everything  # shown, as text
    # the path and the referrers are in the data and shown as text
    assert html.escape(report_data.XSS_PATH) in pages["02-pages"]
    assert "onerror" in pages["02-pages"]  # the 404 path, escaped
    assert not re.search(r"<img[^>]*onerror", everything, re.I)
    assert not re.search(r"<script>window", everything, re.I)
    assert 'href="javascript:' not in everything.lower()


def test_bidi_and_control_characters_are_shown_as_escapes(report):
    pages = {p: _read(report, f"{p}.html") for p in PAGES} | {"map": _read(report, "map.html"),
                                                              "index": _read(report, "index.html")}
    for name, text in pages.items():
        assert "\u202e" not in text, name
    assert "/invoice\\u202efdp.exe" in pages["02-pages"]  # the 404 path, with its override shown as text


def test_data_quality_lists_failed_files_and_no_false_lateness(report):
    text = _read(report, "07-data-quality.html")
    block = text.split('data-table="failed_files"', 1)[1].split("</section>", 1)[0]
    assert "E2EXAMPLE.2026-03-05-09.broken.gz" in block and "<td" in block
    assert "No file arrived late." in text  # every file was ingested in one run: a backfill, not late
    assert "None: every day" in text.split("Days whose salt was missing", 1)[1][:400]
    assert ">Meaning<" not in block  # 'failed' is not an HTTP status


def test_executed_notebooks_hold_no_warnings(report):
    import nbformat

    for path in sorted((report["out"] / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        streams = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        assert not any("Warning" in text for text in streams), (path.name, streams)


def test_map_page_is_offline_and_has_a_strict_policy(report):
    text = _read(report, "map.html")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in policy and "script-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert not re.search(r'(src|href)="https?://', text), "the map loads something from another host"
    assert 'src="assets/leaflet/leaflet.js"' in text
    assert "IP geolocation by DB-IP (CC BY 4.0)" in text
    assert "IP geolocation by DB-IP (CC BY 4.0)" in _read(report, "05-geography.html")
    assert 'src="map.html"' in _read(report, "05-geography.html")


def test_k_anonymity_merges_small_places_into_their_country_and_hides_the_rest():
    cities = pd.DataFrame([
        dict(country_code="GB", country="United Kingdom", city="London", latitude=51.5, longitude=-0.1,
             visitors=40, peak_day_visitors=9, country_peak_day_visitors=12, pageviews=70),
        dict(country_code="GB", country="United Kingdom", city="Boxford", latitude=51.75, longitude=-1.25,
             visitors=4, peak_day_visitors=2, country_peak_day_visitors=12, pageviews=5),
        dict(country_code="GB", country="United Kingdom", city="Leeds", latitude=53.8, longitude=-1.5,
             visitors=6, peak_day_visitors=3, country_peak_day_visitors=12, pageviews=6),
        dict(country_code="SE", country="Sweden", city="Linköping", latitude=58.4, longitude=15.6,
             visitors=9, peak_day_visitors=4, country_peak_day_visitors=4, pageviews=9),  # 9 over days, 4 at most
    ])
    result = maps.k_anonymise(cities, k=5)
    cells = result.cells
    assert list(cells["kind"]) == ["city", "country"]
    assert list(cells["place"]) == ["London", "United Kingdom"]
    assert int(cells.iloc[1]["visitors"]) == 10
    # the merged circle sits at the country's centre, not at a merged town
    lat, lon = float(cells.iloc[1]["latitude"]), float(cells.iloc[1]["longitude"])
    assert (lat, lon) not in {(51.75, -1.25), (53.8, -1.5)}
    assert 49 < lat < 59 and -8 < lon < 2
    assert result.hidden_visitors == 9 and result.hidden_places == 1
    assert "Linköping" not in "".join(cells["label"])


def test_map_labels_are_escaped_and_passed_as_json():
    cities = pd.DataFrame([dict(country_code="GB", country="U<b>K", city="`${alert(1)}`</script><script>alert(2)",
                                latitude=51.5, longitude=-0.1, visitors=10, peak_day_visitors=6,
                                country_peak_day_visitors=6, pageviews=10)])
    vmap = maps.visitor_map(cities, None)
    document = vmap.map.get_root().render()
    assert "</script><script>alert(2)" not in document
    assert "<b>K" not in document
    assert "&lt;/script&gt;" in "".join(vmap.cells.cells["label"])  # escaped for the tooltip's HTML
    assert "`${alert(1)}`" not in document.replace("\\u0060", "`") or "\\u003c" in document


def test_previous_period_has_the_same_length():
    import datetime as dt

    assert metrics.previous_period(dt.date(2026, 3, 4), dt.date(2026, 3, 5)) == (dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    assert metrics.previous_period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))[0] == dt.date(2026, 1, 29)


def test_report_cli_rejects_a_bad_time_zone(report, tmp_path):
    from conftest import run_cli

    proc = run_cli("report", "--warehouse", report["settings"].warehouse, "--tz", "Mars/Olympus",
                   "--out", str(tmp_path / "o"), check=False)
    assert proc.returncode == 2
    assert "time zone" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_single_file_report_runs_without_kernel_warnings(report, tmp_path):
    """`site-stats report --single-file` as a user runs it: one self-contained report.html, and nothing on
    stderr from the kernels (no IPKernelApp warnings, no TqdmWarning)."""
    from conftest import run_cli

    start, end = report_data.PERIOD
    out = tmp_path / "out"
    proc = run_cli("report", "--warehouse", report["settings"].warehouse, "--start", start.isoformat(),
                   "--end", end.isoformat(), "--site", report_data.SITE, "--out", str(out), "--single-file")
    assert "IPKernelApp" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    whole = out / "report.html"
    assert proc.stdout.strip() == f"report: {whole}"
    text = whole.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(?!data:|#)', text), "report.html refers to another file"
    assert text.count('<section class="page"') == len(list((report["out"] / "notebooks").glob("*.ipynb")))
    assert "no data before" not in text  # this period has a previous one


def test_funnel_page_shows_the_funnel_query(report):
    from stats_lib.reports import funnels

    start, end = report_data.PERIOD
    steps = query("funnel", start, end, report_data.SITE, settings=report["settings"],
                  **funnels.step_parameters(["/", "/pricing", "/contact.html"]))
    block = _read(report, "08-funnel.html").split('data-table="funnel"', 1)[1].split("</section>", 1)[0]
    shown = [int(v.replace(",", "")) for v in re.findall(r'data-col="sessions">([\d,]+)<', block)]
    assert shown == [int(v) for v in steps["sessions"]] and shown[0] > shown[-1]
    assert re.findall(r'data-col="conversion">([^<]+)<', block)[0] == "100.0%"
