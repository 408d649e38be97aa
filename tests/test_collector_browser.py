"""A real browser (Debian's headless Chromium via playwright) on a page that loads the tracker from a real
collector: the first pageview, two single-page navigations (pushState) and a custom event land in the warehouse,
exactly those, with the browser's own user agent; Do-Not-Track is honoured when the site asks; no cookies and
nothing in storage."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
from collector_support import CollectorServer, free_port, stored, wait_until
from conftest import needs_chromium

pytestmark = needs_chromium

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>shop</title><link rel="icon" href="data:,">
<script>window.sitestats = window.sitestats || function () { (window.sitestats.q = window.sitestats.q || []).push(arguments) }</script>
<script defer src="{collector}/js/script.js" data-dnt="respect"></script></head>
<body><h1>shop</h1></body></html>"""


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    root = tmp_path_factory.mktemp("collector-browser")
    with CollectorServer(root / "warehouse", ("localhost",)) as running:
        yield running


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory, collector):
    """The site's own pages, on another origin (http://localhost:PORT) than the collector (http://127.0.0.1:PORT)."""
    root = tmp_path_factory.mktemp("site")
    for folder in ("app", "dnt"):
        (root / folder).mkdir()
        (root / folder / "index.html").write_text(PAGE.replace("{collector}", collector.url))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()


def _events(collector, prefix: str) -> list[dict]:
    return stored(collector.warehouse, "path LIKE ?", [f"{prefix}%"])


def test_the_tracker_records_pageviews_navigation_and_a_custom_event(browser, collector, site):
    probe = browser.new_page()
    headless_agent = probe.evaluate("navigator.userAgent")
    probe.close()
    agent = headless_agent.replace("HeadlessChrome", "Chrome")  # what the same Chromium sends with a screen
    context = browser.new_context(user_agent=agent)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{site}/app/", wait_until="load")
    wait_until(lambda: len(_events(collector, "/app")) == 1, "the first pageview")
    page.evaluate("history.pushState({}, '', '/app/pricing')")
    wait_until(lambda: len(_events(collector, "/app")) == 2, "the pageview of the first navigation")
    page.evaluate("history.pushState({}, '', '/app/signup?utm_source=ads')")
    wait_until(lambda: len(_events(collector, "/app")) == 3, "the pageview of the second navigation")
    page.evaluate("sitestats('signup', {props: {plan: 'pro', seats: 3}})")
    rows = wait_until(lambda: (r := _events(collector, "/app")) and len(r) == 4 and r, "the custom event")

    assert page.evaluate("navigator.userAgent") == agent
    assert [(r["event_name"], r["path"]) for r in rows] == [
        ("pageview", "/app/"), ("pageview", "/app/pricing"), ("pageview", "/app/signup"), ("signup", "/app/signup")]
    assert {r["user_agent"] for r in rows} == {agent}
    assert {r["browser"] for r in rows} <= {"Chrome", "Chromium"}
    assert {r["site"] for r in rows} == {"localhost"}
    assert rows[2]["utm_source"] == "ads"
    assert json.loads(rows[3]["props"]) == {"plan": "pro", "seats": 3}
    assert [r["is_pageview"] for r in rows] == [True, True, True, False]
    assert len({r["visitor_id"] for r in rows}) == 1
    assert context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert errors == []
    context.close()


def test_do_not_track_is_honoured_when_the_site_asks(browser, collector, site):
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{site}/dnt/", wait_until="load")
    page.evaluate("sitestats('clicked')")
    page.wait_for_function("document.readyState === 'complete'")
    assert any(url.endswith("/js/script.js") for url in requests)  # the tracker loaded, and sent nothing
    assert not any("/api/event" in url for url in requests)
    context.close()
    # a pageview sent after the page's visit is stored before anything the DNT page might still have sent
    answer = collector.send({"name": "pageview", "url": "https://localhost/dnt-barrier"})
    assert answer.status == 202
    wait_until(lambda: _events(collector, "/dnt-barrier"), "the barrier event")
    assert _events(collector, "/dnt/") == []
