"""The collector as a real uvicorn server on loopback (``site-stats serve`` in a subprocess).

Each test sends from its own loopback /24 (127.0.N.1), so their rate-limit buckets and visitor ids never mix.
Expected geolocation comes from the MaxMind test database's SOURCE.md, not from our code.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from collector_support import CHROME_UA, CollectorServer, stored, wait_until
from conftest import run_cli
from ip_scan import assert_no_raw_ip

from stats_lib.collector.security import Signatures
from stats_lib.config import Settings

SECRET = "test-secret-0123456789abcdef"
SITES = ("example.com", "shop.test", "www.blog.test", "news.test")


@pytest.fixture(scope="module")
def server(tmp_path_factory, corpora) -> CollectorServer:
    root = tmp_path_factory.mktemp("collector")
    db = corpora / "maxmind-db-test-data" / "GeoIP2-City-Test.mmdb"
    with CollectorServer(root / "warehouse", SITES, SITE_STATS_COLLECTOR_SECRET=SECRET,
                         SITE_STATS_GEOIP_DB=str(db)) as running:
        yield running


def barrier(server: CollectorServer, source: str, tag: str) -> None:
    """Send one valid event and wait until it is in the warehouse: everything answered before it is there too
    (segments move in order)."""
    answer = server.send({"name": "barrier", "url": f"https://example.com/barrier/{tag}"}, source=source)
    assert answer.status == 202, answer.body
    wait_until(lambda: stored(server.warehouse, "path = ?", [f"/barrier/{tag}"]), f"the barrier event {tag}")


def test_valid_events_land_enriched_and_are_queryable(server):
    source = "127.0.1.1"
    events = [
        {"name": "pageview", "url": "https://shop.test/?utm_source=newsletter&utm_medium=email",
         "referrer": "https://www.google.com/search?q=shop"},
        {"name": "pageview", "url": "https://www.shop.test/products/caf%C3%A9", "referrer": "https://shop.test/"},
        {"name": "signup", "url": "https://shop.test/products/caf%C3%A9", "props": {"plan": "pro", "seats": 3}},
        {"name": "pageview", "url": "https://shop.test/products/caf%C3%A9"},
    ]
    for event, path in zip(events, ("/api/event", "/event", "/api/event", "/api/event")):
        answer = server.send(event, source=source, path=path, content_type="application/json")
        assert answer.status == 202, answer.body
        assert answer.json() == {"status": "accepted"}
    rows = wait_until(lambda: (r := stored(server.warehouse, "site = 'shop.test'")) and len(r) == 4 and r,
                      "four shop.test events")
    assert [r["event_name"] for r in rows] == ["pageview", "pageview", "signup", "pageview"]
    assert [r["path"] for r in rows] == ["/", "/products/café", "/products/café", "/products/café"]
    assert {r["source"] for r in rows} == {"collector"}
    assert {r["user_agent"] for r in rows} == {CHROME_UA}
    assert {r["ip_prefix"] for r in rows} == {"127.0.1.0/24"}
    assert len({r["visitor_id"] for r in rows}) == 1
    assert [r["is_pageview"] for r in rows] == [True, True, False, True]
    assert rows[0]["referrer_source"] == "Google" and rows[0]["utm_source"] == "newsletter"
    assert rows[0]["utm_medium"] == "email"
    assert rows[1]["referrer_channel"] == "internal"
    assert json.loads(rows[2]["props"]) == {"plan": "pro", "seats": 3}
    assert rows[0]["browser"] == "Chrome" and rows[0]["os"] == "Linux"
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert all(abs((now - r["ts"]).total_seconds()) < 300 for r in rows)  # the server's clock, not the client's

    from stats_lib.api import query

    settings = Settings.from_env(warehouse=str(server.warehouse), progress=False)
    pages = query("top_pages", now.date(), now.date(), "shop.test", settings=settings)
    assert dict(zip(pages["path"], pages["pageviews"])) == {"/products/café": 2, "/": 1}
    daily = query("daily", now.date(), now.date(), "shop.test", settings=settings)
    assert daily[["hits", "pageviews", "visitors", "sessions"]].values.tolist() == [[4, 3, 1, 1]]


def test_no_raw_ip_is_written_anywhere(server):
    source = "127.0.9.77"
    assert server.send({"name": "pageview", "url": "https://example.com/private"}, source=source).status == 202
    barrier(server, source, "private")
    assert_no_raw_ip(server.warehouse, server.log, ips=[source])


def test_bots_are_accepted_dropped_and_counted(server):
    source = "127.0.2.1"
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    for _ in range(2):
        answer = server.send({"name": "pageview", "url": "https://example.com/crawled"}, source=source, user_agent=bot)
        assert answer.status == 202
    answer = server.send({"name": "pageview", "url": "https://example.com/crawled"}, source=source, user_agent=None)
    assert answer.status == 202  # no User-Agent at all: a bot by the contract
    barrier(server, source, "bots")
    assert stored(server.warehouse, "path = '/crawled'") == []

    def googlebots() -> int:  # counted when their segment has moved (the barrier's Parquet is written just before)
        dropped = server.request("GET", "/health").json()["dropped"]
        return sum(n for reason, n in dropped.items() if "google" in reason.lower())

    wait_until(lambda: googlebots() >= 2, "the dropped bots counted in /health")
    assert googlebots() == 2
    import duckdb

    reasons = duckdb.sql(f"SELECT reason, line FROM read_parquet('{server.warehouse}/rejects/*.parquet') "
                         "WHERE line LIKE '%/crawled%'").fetchall()
    assert len(reasons) == 3 and all(r.startswith("bot: ") for r, _ in reasons)


def _big(n: int) -> dict:
    return {"name": "pageview", "url": "https://example.com/bad/big", "referrer": "https://x.test/" + "a" * n}


BAD_REQUESTS = [
    # (test id, event or raw body, send() options, status, field named in the answer)
    ("foreign origin", {"name": "pageview", "url": "https://example.com/bad/origin"},
     {"headers": {"Origin": "https://evil.test"}}, 403, "Origin"),
    ("unknown site", {"name": "pageview", "url": "https://unknown.test/bad/site"}, {}, 403, "url"),
    ("xml content type", {"name": "pageview", "url": "https://example.com/bad/xml"},
     {"content_type": "application/xml"}, 415, None),
    ("no content type", {"name": "pageview", "url": "https://example.com/bad/none"}, {"content_type": None}, 415, None),
    ("form content type", b"name=pageview&url=https://example.com/bad/form",
     {"content_type": "application/x-www-form-urlencoded"}, 415, None),
    ("too large", _big(9000), {}, 413, None),
    ("not JSON", b'{"name": "pageview", "url": "https://example.com/bad/json"', {}, 400, "body"),
    ("not UTF-8", b'{"name": "\xff", "url": "https://example.com/bad/utf8"}', {}, 400, "body"),
    ("NaN", b'{"name": "pageview", "url": "https://example.com/bad/nan", "props": {"x": NaN}}', {}, 400, "body"),
    ("an array", b'[{"name": "pageview", "url": "https://example.com/bad/array"}]', {}, 400, "body"),
    ("no name", {"url": "https://example.com/bad/noname"}, {}, 400, "name"),
    ("empty name", {"name": " \u202e ", "url": "https://example.com/bad/emptyname"}, {}, 400, "name"),
    ("long name", {"name": "n" * 65, "url": "https://example.com/bad/longname"}, {}, 400, "name"),
    ("name not a string", {"name": 7, "url": "https://example.com/bad/namenum"}, {}, 400, "name"),
    ("no url", {"name": "pageview"}, {}, 400, "url"),
    ("javascript url", {"name": "pageview", "url": "javascript:alert(1)//https://example.com/bad/js"}, {}, 400, "url"),
    ("data url", {"name": "pageview", "url": "data:text/html,https://example.com/bad/data"}, {}, 400, "url"),
    ("relative url", {"name": "pageview", "url": "/bad/relative"}, {}, 400, "url"),
    ("long url", {"name": "pageview", "url": "https://example.com/bad/long/" + "u" * 2100}, {}, 400, "url"),
    ("javascript referrer", {"name": "pageview", "url": "https://example.com/bad/ref",
                             "referrer": "JavaScript:alert(1)"}, {}, 400, "referrer"),
    ("nested prop", {"name": "x", "url": "https://example.com/bad/nested", "props": {"a": {"b": 1}}}, {}, 400, "props.a"),
    ("list prop", {"name": "x", "url": "https://example.com/bad/list", "props": {"a": [1]}}, {}, 400, "props.a"),
    ("too many props", {"name": "x", "url": "https://example.com/bad/many",
                        "props": {f"k{i}": i for i in range(31)}}, {}, 400, "props"),
    ("long prop value", {"name": "x", "url": "https://example.com/bad/longprop", "props": {"k": "v" * 257}},
     {}, 400, "props.k"),
    ("long prop key", {"name": "x", "url": "https://example.com/bad/longkey", "props": {"k" * 65: 1}}, {}, 400, "props"),
    ("props not an object", {"name": "x", "url": "https://example.com/bad/propslist", "props": [1]}, {}, 400, "props"),
    ("unknown field", {"name": "x", "url": "https://example.com/bad/unknown", "domain": "example.com"},
     {}, 400, "'domain'"),
    ("unsigned ip", {"name": "pageview", "url": "https://example.com/bad/ip", "ip": "81.2.69.142"}, {}, 400, "ip"),
    ("unsigned ip_addr", {"name": "pageview", "url": "https://example.com/bad/ipaddr", "ip_addr": "81.2.69.142"},
     {}, 400, "ip"),
    ("unsigned timestamp", {"name": "pageview", "url": "https://example.com/bad/ts",
                            "timestamp": "2026-01-01T00:00:00Z"}, {}, 400, "timestamp"),
    ("bad signature", {"name": "pageview", "url": "https://example.com/bad/sig", "ip": "81.2.69.142"},
     {"headers": {"X-Signature": "t=1,v1=00"}}, 403, "X-Signature"),
]


@pytest.mark.parametrize("event,options,status,field", [b[1:] for b in BAD_REQUESTS], ids=[b[0] for b in BAD_REQUESTS])
def test_each_bad_request_gets_its_status_and_stores_nothing(server, event, options, status, field):
    answer = server.send(event, source="127.0.3.1", **options)
    assert answer.status == status, answer.body
    body = answer.json()
    assert body["error"]
    if field is not None:
        assert field in body.get("field", ""), body
    if status == 403 and field == "Origin":
        assert "access-control-allow-origin" not in answer.headers  # CORS only for allowed origins


def test_bad_requests_stored_nothing(server):
    for _, event, options, status, _ in BAD_REQUESTS:
        assert server.send(event, source="127.0.3.2", **options).status == status
    barrier(server, "127.0.3.2", "bad")
    assert stored(server.warehouse, "path LIKE '/bad/%' OR (ip_prefix = '127.0.3.0/24' AND path NOT LIKE '/barrier/%')") == []


def test_a_body_without_content_length_is_capped_too(server):
    """A chunked body (no Content-Length) over the cap is refused while it is read."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    chunks = [json.dumps(_big(20000)).encode()[i:i + 1000] for i in range(0, 20100, 1000)]
    conn.request("POST", "/api/event", body=iter(c for c in chunks if c), encode_chunked=True,
                 headers={"Content-Type": "text/plain", "User-Agent": CHROME_UA})
    assert conn.getresponse().status == 413


def signed(server: CollectorServer, event: dict, *, secret: str = SECRET, at: float | None = None,
           source: str = "127.0.4.1"):
    body = json.dumps(event).encode()
    return server.send(body, source=source, content_type="application/json",
                       headers={"X-Signature": Signatures.sign(secret, body, at)})


def test_signed_overrides_are_accepted(server):
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).replace(hour=12, minute=30, second=5,
                                                                               microsecond=0)
    event = {"name": "pageview", "url": "https://example.com/backfill", "ip_addr": "81.2.69.142",
             "timestamp": when.isoformat().replace("+00:00", "Z"), "agent": CHROME_UA + " backfill"}
    answer = signed(server, event)
    assert answer.status == 202, answer.body
    replay = signed(server, event, at=None)  # the same second: the very same signature
    assert replay.status in (202, 403)
    rows = wait_until(lambda: stored(server.warehouse, "path = '/backfill'"), "the backfilled event")
    assert len(rows) == (2 if replay.status == 202 else 1)
    row = rows[0]
    assert row["ts"] == when.replace(tzinfo=None)
    assert row["user_agent"] == CHROME_UA + " backfill"
    assert row["ip_prefix"] == "81.2.69.0/24"
    # SOURCE.md of the MaxMind test data: 81.2.69.142 -> GB, London, 51.5142/-0.0931
    assert (row["country_code"], row["city"]) == ("GB", "London")
    assert (round(row["latitude"], 4), round(row["longitude"], 4)) == (51.5142, -0.0931)


def test_a_replayed_signature_is_refused(server):
    body = json.dumps({"name": "pageview", "url": "https://example.com/replayed", "ip": "89.160.20.112"}).encode()
    header = {"X-Signature": Signatures.sign(SECRET, body)}
    first = server.send(body, source="127.0.4.2", content_type="application/json", headers=header)
    second = server.send(body, source="127.0.4.2", content_type="application/json", headers=header)
    assert (first.status, second.status) == (202, 403)
    assert "replay" in second.json()["error"]


@pytest.mark.parametrize("case", ["stale", "future", "wrong secret", "body changed", "no v1"])
def test_bad_signatures_are_refused(server, case):
    event = {"name": "pageview", "url": f"https://example.com/bad/signed-{case.replace(' ', '-')}",
             "ip": "81.2.69.142"}
    body = json.dumps(event).encode()
    header = {
        "stale": Signatures.sign(SECRET, body, time.time() - 301),
        "future": Signatures.sign(SECRET, body, time.time() + 400),
        "wrong secret": Signatures.sign("another secret", body),
        "body changed": Signatures.sign(SECRET, body + b" "),
        "no v1": f"t={int(time.time())}",
    }[case]
    answer = server.send(body, source="127.0.4.3", content_type="application/json", headers={"X-Signature": header})
    assert answer.status == 403 and answer.json()["field"] == "X-Signature"


def test_a_signed_timestamp_outside_the_salt_window_is_refused(server):
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)).isoformat()
    answer = signed(server, {"name": "pageview", "url": "https://example.com/bad/old", "timestamp": old},
                    source="127.0.4.4")
    assert answer.status == 400 and answer.json()["field"] == "timestamp"


def test_cors_is_answered_for_allowed_origins_only(server):
    allowed = server.request("OPTIONS", "/api/event", headers={
        "Origin": "https://www.blog.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == "https://www.blog.test"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    foreign = server.request("OPTIONS", "/api/event", headers={"Origin": "https://evil.test",
                                                               "Access-Control-Request-Method": "POST"})
    assert foreign.status == 403 and "access-control-allow-origin" not in foreign.headers
    posted = server.send({"name": "pageview", "url": "https://blog.test/post"}, source="127.0.5.1",
                         headers={"Origin": "https://blog.test"})
    assert posted.status == 202 and posted.headers["access-control-allow-origin"] == "https://blog.test"


def test_tracker_and_health_and_document(server):
    script = server.request("GET", "/js/script.js")
    assert script.status == 200 and script.headers["content-type"].startswith("application/javascript")
    packaged = Path(__import__("stats_lib.collector", fromlist=["x"]).__file__).with_name("tracker.min.js")
    assert script.body == packaged.read_bytes()
    assert len(script.body) < 2048
    health = server.request("GET", "/health")
    assert health.status == 200 and health.json()["status"] == "ok"
    doc = server.request("GET", "/openapi.json").json()
    assert set(doc["paths"]) == {"/api/event", "/event", "/js/script.js", "/health"}


def test_the_tracker_is_the_minified_source():
    rjsmin = pytest.importorskip("rjsmin")
    folder = Path(__import__("stats_lib.collector", fromlist=["x"]).__file__).parent
    minified = rjsmin.jsmin((folder / "tracker.js").read_text()) + "\n"
    assert (folder / "tracker.min.js").read_text() == minified, (
        "tracker.min.js is stale: regenerate it with "
        "python -c \"import rjsmin,pathlib as p; f=p.Path('stats_lib/collector'); "
        "(f/'tracker.min.js').write_text(rjsmin.jsmin((f/'tracker.js').read_text())+chr(10))\"")
    assert len(minified.encode()) < 2048
    assert "cookie" not in minified and "localStorage" not in minified and "sessionStorage" not in minified


@pytest.fixture(scope="module")
def limited(tmp_path_factory, corpora):
    """A collector with a small rate limit, behind a trusted CloudFront (the proxy's network: 127.0.30.0/24)."""
    root = tmp_path_factory.mktemp("limited")
    with CollectorServer(root / "warehouse", SITE_STATS_COLLECTOR_RATE="0.01", SITE_STATS_COLLECTOR_BURST="3",
                         SITE_STATS_COLLECTOR_PROXY="cloudfront", SITE_STATS_COLLECTOR_PROXY_NETWORKS="127.0.30.0/24",
                         SITE_STATS_GEOIP_DB=str(corpora / "maxmind-db-test-data" / "GeoIP2-City-Test.mmdb")) as server:
        yield server


def test_rate_limit_answers_429_with_retry_after(limited):
    answers = [limited.send({"name": "pageview", "url": f"https://example.com/r{i}"}, source="127.0.6.1")
               for i in range(5)]
    assert [a.status for a in answers] == [202, 202, 202, 429, 429]
    assert int(answers[3].headers["retry-after"]) >= 1
    other = limited.send({"name": "pageview", "url": "https://example.com/other"}, source="127.0.7.1")
    assert other.status == 202  # another network has its own bucket
    barrier(limited, "127.0.8.1", "rate")
    assert sorted(r["path"] for r in stored(limited.warehouse, "path LIKE '/r%'")) == ["/r0", "/r1", "/r2"]


def test_a_trusted_cloudfront_gives_the_viewer_address_and_location(limited):
    viewer = {"CloudFront-Viewer-Address": "81.2.69.142:46532", "CloudFront-Viewer-Country": "FR",
              "CloudFront-Viewer-City": "Lyon", "CloudFront-Viewer-Latitude": "45.76",
              "CloudFront-Viewer-Longitude": "4.84"}
    assert limited.send({"name": "pageview", "url": "https://example.com/via-cf"}, source="127.0.30.5",
                        headers=viewer).status == 202
    # the same headers from a peer that is not the proxy are a claim, not a fact
    assert limited.send({"name": "pageview", "url": "https://example.com/not-via-cf"}, source="127.0.31.5",
                        headers=viewer).status == 202
    barrier(limited, "127.0.8.2", "cloudfront")
    via, direct = (stored(limited.warehouse, "path = ?", [p])[0] for p in ("/via-cf", "/not-via-cf"))
    assert via["ip_prefix"] == "81.2.69.0/24"
    assert (via["country_code"], via["city"], via["latitude"], via["longitude"]) == ("FR", "Lyon", 45.76, 4.84)
    assert direct["ip_prefix"] == "127.0.31.0/24" and direct["country_code"] is None


def test_schemathesis_finds_no_server_error(tmp_path):
    """Schema fuzzing of the OpenAPI document: no 5xx, answers as documented (a bounded number of examples).
    Its own collector, so the fuzzer's valid events land on a site of their own."""
    with CollectorServer(tmp_path / "warehouse", ("fuzz.test",), SITE_STATS_COLLECTOR_SECRET=SECRET) as fuzzed:
        before = fuzzed.request("GET", "/health").json()
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run", f"{fuzzed.url}/openapi.json",
             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
             "response_schema_conformance",
             "--max-examples", "60", "--seed", "1", "--workers", "1", "--phases", "examples,coverage,fuzzing",
             "--suppress-health-check", "all", "--request-timeout", "30"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
        print(proc.stdout[-3000:])
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
        assert "passed" in proc.stdout.lower()
        after = fuzzed.request("GET", "/health").json()
        assert after["status"] == "ok"
        assert after["accepted"] > before["accepted"]  # the fuzzer's valid events got through, not only refusals
        assert sum(after["refused"].values()) > sum(before["refused"].values())


def test_custom_events_props_and_logs_vs_beacon_queries(server, tmp_path):
    """The report's queries over beacon events and an access log of the same site, in the same warehouse."""
    from stats_lib.api import query

    now = dt.datetime.now(dt.timezone.utc)
    stamp = now.strftime("%d/%b/%Y:%H:%M:%S +0000")
    log = tmp_path / "access.log"
    log.write_text("".join(f'198.51.100.{i} - - [{stamp}] "GET {path} HTTP/1.1" 200 512 "-" "{CHROME_UA}"\n'
                           for i, path in enumerate(["/", "/a", "/a", "/b"])))
    run_cli("ingest", str(log), "--site", "news.test", "--warehouse", str(server.warehouse), "--format", "combined")
    beacons = [("127.0.20.1", "pageview", "/", None), ("127.0.20.1", "pageview", "/a", None),
               ("127.0.20.1", "pageview", "/spa", None), ("127.0.21.1", "pageview", "/spa", None),
               ("127.0.20.1", "signup", "/spa", {"plan": "pro", "trial": True}),
               ("127.0.21.1", "signup", "/spa", {"plan": "pro", "trial": False}),
               ("127.0.21.1", "signup", "/spa", {"plan": "free"}),
               ("127.0.20.1", "download", "/a", {"file": "a.pdf", "size": 1.5})]
    for source, name, path, props in beacons:
        event = {"name": name, "url": f"https://news.test{path}", **({"props": props} if props else {})}
        assert server.send(event, source=source).status == 202
    wait_until(lambda: len(stored(server.warehouse, "site = 'news.test' AND source = 'collector'")) == 8,
               "the news.test beacons")
    settings = Settings.from_env(warehouse=str(server.warehouse), progress=False)
    day = now.date()

    custom = query("custom_events", day, day, "news.test", settings=settings)
    assert custom[["event", "events", "visitors"]].values.tolist() == [["signup", 3, 2], ["download", 1, 1]]

    props = query("event_props", day, day, "news.test", settings=settings)
    got = {(r.event, r.prop, r.value): (r.events, r.visitors) for r in props.itertuples()}
    assert got == {("signup", "plan", "pro"): (2, 2), ("signup", "plan", "free"): (1, 1),
                   ("signup", "trial", "true"): (1, 1), ("signup", "trial", "false"): (1, 1),
                   ("download", "file", "a.pdf"): (1, 1), ("download", "size", "1.5"): (1, 1)}

    table = query("logs_vs_beacon", day, day, "news.test", settings=settings)
    rows = {r.path: (r.log_pageviews, r.beacon_pageviews, r.beacon_per_log) for r in table.itertuples()}
    assert {p: v[:2] for p, v in rows.items()} == {"/": (1, 1), "/a": (2, 1), "/b": (1, 0), "/spa": (0, 2)}
    assert rows["/"][2] == 1.0 and rows["/a"][2] == 0.5 and rows["/b"][2] == 0.0
    assert rows["/spa"][2] is None or rows["/spa"][2] != rows["/spa"][2]  # NULL (None or NaN in pandas)

    from stats_lib.reports.run import NOTEBOOKS_DIR, render_report

    render_report(start=day, end=day, site="news.test", out=tmp_path / "report", settings=settings,
                  notebook_paths=[NOTEBOOKS_DIR / "09-events.ipynb"])
    page = (tmp_path / "report" / "09-events.html").read_text(encoding="utf-8")
    for name in ("custom_events", "event_props", "logs_vs_beacon"):
        assert f'data-table="{name}"' in page
    assert "signup" in page and "a.pdf" in page and "/spa" in page


def test_serve_on_a_busy_port_is_one_line(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("serve", "--site", "example.com", "--port", str(port), "--warehouse", str(tmp_path / "w"),
                       check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "cannot listen" in proc.stderr and "--port" in proc.stderr
