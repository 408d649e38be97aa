"""A real browser (Debian's headless Chromium via playwright) opens the rendered report and the map page:
no console errors, no script from the data runs, the map draws from local assets, screenshots are not blank."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import report_data

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = ["index.html", "01-overview.html", "02-pages.html", "03-acquisition.html", "04-audience.html",
         "05-geography.html", "06-technical.html", "07-data-quality.html", "map.html"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is not installed (run `make browser` as root to install it)")


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report():
    return report_data.built()


def _variance(png: Path) -> float:
    from PIL import Image, ImageStat

    with Image.open(png) as img:
        return max(ImageStat.Stat(img.convert("L")).var)


@pytest.mark.parametrize("name", PAGES)
def test_page_opens_cleanly_and_no_data_script_runs(browser, report, name, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    url = (report["out"] / name).as_uri()
    page.goto(url, wait_until="load")
    page.wait_for_timeout(700)
    if name == "05-geography.html":  # let the embedded map run too
        page.frame_locator("iframe.map").locator(".leaflet-container").wait_for(timeout=10_000)
    assert page.evaluate("() => window.__xss") is None
    for frame in page.frames:
        assert frame.evaluate("() => window.__xss === undefined"), frame.url
    shot = tmp_path / (name + ".png")
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert not problems, problems
    assert all(u.startswith(("file:", "data:")) for u in requests), [u for u in requests if not u.startswith("file:")]
    size = shot.stat().st_size
    print(f"{name}: screenshot {size} bytes")
    assert size > 10_000
    assert _variance(shot) > 50, f"{name} looks blank"


def test_map_page_draws_leaflet_from_local_files(browser, report):
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((report["out"] / "map.html").as_uri(), wait_until="load")
    page.locator(".leaflet-container").wait_for(timeout=10_000)
    assert page.evaluate("() => typeof L !== 'undefined' && L.version") == "1.9.4"
    assert page.locator(".leaflet-control-attribution").inner_text().count("DB-IP") == 1
    assert page.locator(".leaflet-control-layers").count() == 1
    page.close()
    assert not errors, errors
