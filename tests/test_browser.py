"""A real browser (Debian's headless Chromium via playwright) opens every report page at 1400 px and at 400 px:
no horizontal overflow, no table cell narrower than its longest word, no console errors, screenshots not blank,
no script from the data runs, nothing loaded from another host; the map page draws land polygons and a legend
from local files; CSV downloads work under the page's policy and are formula-safe; the single-file report
stands alone.

Screenshots are kept in /tmp/site-stats-shots (outside the repository) with their sizes printed."""

from __future__ import annotations

from pathlib import Path

import pytest
import report_data
from conftest import needs_chromium

PAGES = ["index.html", "01-overview.html", "02-pages.html", "03-acquisition.html", "04-audience.html",
         "05-geography.html", "06-technical.html", "07-data-quality.html", "08-funnel.html", "09-events.html",
         "map.html"]
WIDTHS = [1400, 400]
SHOTS = Path("/tmp/site-stats-shots")

pytestmark = needs_chromium

# Cells whose content box is narrower than their longest word (a word: text between white space), measured with
# the cell's own font; and tables that need to scroll inside their box.
CELL_CHECK = """() => {
    const ctx = document.createElement('canvas').getContext('2d');
    const narrow = [];
    for (const cell of document.querySelectorAll('table td, table th')) {
        const style = getComputedStyle(cell);
        ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const words = cell.innerText.split(/\\s+/).filter(Boolean);
        const longest = Math.max(0, ...words.map(w => ctx.measureText(w).width));
        const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        if (longest > inner + 1.5) narrow.push(`${cell.innerText.slice(0, 30)} (${longest.toFixed(0)} > ${inner.toFixed(0)})`);
    }
    const scrolling = [...document.querySelectorAll('.table-wrap')].filter(w => w.scrollWidth > w.clientWidth + 1).length;
    return {narrow, scrolling, width: document.documentElement.scrollWidth, view: window.innerWidth,
            height: document.documentElement.scrollHeight};
}"""


@pytest.fixture(scope="module")
def report():
    return report_data.built()


def _variance(png: Path) -> float:
    from PIL import Image, ImageStat

    with Image.open(png) as img:
        return max(ImageStat.Stat(img.convert("L")).var)


def _open(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    return page, problems, requests


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_reads_and_runs_no_data(browser, report, name, width):
    page, problems, requests = _open(browser, (report["out"] / name).as_uri(), width)
    if name == "05-geography.html":  # let the embedded map run too
        page.frame_locator("iframe.map").locator(".leaflet-container").wait_for(timeout=15_000)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None
    for frame in page.frames:
        assert frame.evaluate("() => window.__xss === undefined"), frame.url
    layout = page.evaluate(CELL_CHECK)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{name.removesuffix('.html')}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert not problems, problems
    assert all(u.startswith(("file:", "data:")) for u in requests), [u for u in requests if not u.startswith("file:")]
    assert layout["width"] <= layout["view"], f"{name} at {width}px is {layout['width']}px wide"
    assert not layout["narrow"], layout["narrow"][:10]
    if width >= 1000:
        assert layout["scrolling"] == 0, f"{layout['scrolling']} table(s) of {name} do not fit at {width}px"
    size = shot.stat().st_size
    print(f"{name} at {width}px: screenshot {size} bytes, page {layout['height']}px tall")
    assert size > 10_000
    assert _variance(shot) > 50, f"{name} looks blank"


def test_map_page_has_land_borders_and_a_legend_from_local_files(browser, report):
    page, problems, requests = _open(browser, (report["out"] / "map.html").as_uri(), 1000)
    page.locator(".leaflet-container").wait_for(timeout=15_000)
    assert page.evaluate("() => typeof L !== 'undefined' && L.version") == "1.9.4"
    polygons = page.locator("path.leaflet-interactive").count()
    assert polygons >= 150, f"only {polygons} country shapes drawn"
    legend = page.locator(".leaflet-control.legend")
    assert legend.count() == 1 and "visitors" in legend.inner_text()
    assert page.locator(".leaflet-control-attribution").inner_text().count("DB-IP") == 1
    page.close()
    assert not problems, problems
    assert all(u.startswith(("file:", "data:")) for u in requests)


def test_tables_download_as_formula_safe_csv(browser, report):
    page, problems, _ = _open(browser, (report["out"] / "02-pages.html").as_uri(), 1400)
    link = page.locator('section[data-table="top_pages"] a.csv')
    with page.expect_download() as info:
        link.click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    page.close()
    assert not problems, problems
    assert download.suggested_filename == "top_pages.csv"
    lines = text.splitlines()
    assert lines[0] == "path,pageviews,visitors"
    assert any(line.startswith("/pricing,") for line in lines)
    assert not any(line.lstrip("\"").startswith(("=", "+", "-", "@")) for line in lines[1:])


def test_single_file_report_stands_alone(browser, report):
    path = report["out"] / "report.html"
    page, problems, requests = _open(browser, path.as_uri(), 400)
    layout = page.evaluate(CELL_CHECK)
    sections = page.locator("section.page").count()
    page.close()
    assert not problems, problems
    assert sections == len(list((report["out"] / "notebooks").glob("*.ipynb"))) >= 8
    assert all(u == path.as_uri() or u.startswith("data:") for u in requests), requests
    assert layout["width"] <= layout["view"] and not layout["narrow"]
