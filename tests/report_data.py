"""A small CloudFront log for the report tests: known visitors over four UTC days, plus lines whose path,
referrer, user agent and campaign carry script payloads (they must show as text and never run)."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import tempfile
from pathlib import Path
from urllib.parse import quote

from stats_lib.sources.cloudfront import FIELDS as CLOUDFRONT_FIELDS

FIELDS = " ".join(CLOUDFRONT_FIELDS)

FIRST_DAY = dt.date(2026, 3, 2)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(4)]
PERIOD = (DAYS[2], DAYS[3])  # the report's period; DAYS[0..1] is its previous period
SITE = "example.com"
# IPs from the MaxMind test databases (London, Linköping, Milton) where the enrichment uses one.
IPS = ["81.2.69.142", "89.160.20.112", "216.160.83.56", "2.125.160.216"]

XSS_PATH = "/<script>window.__xss=1;alert(1)</script>"
XSS_IMG_PATH = '/<img src=x onerror="window.__xss=1;alert(1)">'
XSS_REFERRER = "javascript:window.__xss=1;alert(1)//"
XSS_REFERRER_2 = 'https://evil.example/"><img src=x onerror=window.__xss=1>'
XSS_UA = "Mozilla/5.0 (X11; Linux x86_64) <img src=x onerror=\"window.__xss=1;alert(1)\"> Firefox/128.0"
XSS_CAMPAIGN = "<script>window.__xss=1</script>"
BIDI_PATH = "/invoice\u202efdp.exe"  # displays as "/invoiceexe.pdf" unless neutralised
PAYLOADS = (XSS_PATH, XSS_IMG_PATH, XSS_REFERRER, XSS_REFERRER_2, XSS_UA, XSS_CAMPAIGN)

UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
]
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _line(ts: dt.datetime, ip: str, path: str, *, status: int = 200, referrer: str = "-", ua: str = UAS[0],
          query: str = "-", ctype: str = "text/html", edge: str = "LHR62-C2", result: str = "Hit",
          taken: float = 0.05, n: int = 0) -> str:
    values = [
        ts.strftime("%Y-%m-%d"), ts.strftime("%H:%M:%S"), edge, "2048", ip, "GET", "d111111abcdef8.cloudfront.net",
        quote(path, safe="/"), str(status), quote(referrer, safe=":/?=&") if referrer != "-" else "-",
        quote(ua, safe="/;()"), query, "-", result, f"req{n:06d}", f"www.{SITE}", "https", "300", f"{taken:.3f}", "-",
        "TLSv1.3", "TLS_AES_128_GCM_SHA256", result, "HTTP/2.0", "-", "-", "443", f"{taken:.3f}", result, ctype,
        "2048", "-", "-",
    ]
    return "\t".join(values)


def log_lines() -> list[str]:
    lines: list[str] = []
    n = 0

    def add(*args, **kw):
        nonlocal n
        n += 1
        lines.append(_line(*args, n=n, **kw))

    pages = ["/", "/about/", "/blog/first-post", "/pricing", "/contact.html"]
    for d, day in enumerate(DAYS):
        base = dt.datetime.combine(day, dt.time(8, 0))
        visitors = 6 + 2 * d  # 6, 8, 10, 12 visitors on the four days
        for v in range(visitors):
            ip, ua = IPS[v % 2], UAS[v % len(UAS)] + f" v{v}"
            start = base + dt.timedelta(minutes=37 * v)
            views = 1 + (v % 3)  # 1..3 pageviews a session: some bounce
            for i in range(views):
                ref = "https://www.google.com/" if i == 0 and v % 2 == 0 else ("-" if i == 0 else f"https://www.{SITE}/")
                add(start + dt.timedelta(minutes=4 * i), ip, pages[(v + i) % len(pages)], referrer=ref, ua=ua,
                    taken=0.02 + 0.01 * i, result="Hit" if i % 2 == 0 else "Miss")
            if v % 4 == 0:  # a second session more than 30 minutes later
                add(start + dt.timedelta(hours=2), ip, "/blog/first-post", ua=ua, referrer="https://news.ycombinator.com/")
            add(start + dt.timedelta(seconds=5), ip, "/static/app.css", ua=ua, ctype="text/css")
        add(base + dt.timedelta(hours=1), "216.160.83.56", "/robots.txt", ua=BOT_UA, ctype="text/plain")
        add(base + dt.timedelta(hours=1, minutes=1), "216.160.83.56", "/", ua=BOT_UA)
        add(base + dt.timedelta(hours=3), "203.0.113.9", "/old-page", status=404, referrer="https://blog.example.org/links")
        if day in PERIOD:  # the hostile lines: pageviews, a 404 and a campaign, in the report's period
            t = base + dt.timedelta(hours=5)
            add(t, "198.51.100.7", XSS_PATH, referrer=XSS_REFERRER, ua=XSS_UA)
            add(t + dt.timedelta(minutes=1), "198.51.100.7", XSS_IMG_PATH, referrer=XSS_REFERRER_2, ua=XSS_UA,
                status=404)
            add(t + dt.timedelta(minutes=3), "198.51.100.9", BIDI_PATH, status=404, ctype="text/html")
            add(t + dt.timedelta(minutes=2), "198.51.100.8", "/pricing", referrer=XSS_REFERRER_2, ua=XSS_UA,
                query="utm_source=" + quote("<b>news</b>") + "&utm_medium=email&utm_campaign=" + quote(XSS_CAMPAIGN))
    return lines


def write_log(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "E2EXAMPLE.2026-03-02-08.report.gz"
    text = "#Version: 1.0\n#Fields: " + FIELDS + "\n" + "\n".join(log_lines()) + "\n"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)
    return path


def geoip_test_db() -> str | None:
    db = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "maxmind-db-test-data" / "GeoIP2-City-Test.mmdb"
    return str(db) if db.is_file() else None


@functools.lru_cache(maxsize=1)
def built() -> dict:
    """Ingest the log into a fresh warehouse and render the report once per test process."""
    from stats_lib import Settings, ingest
    from stats_lib.reports.run import render_report

    root = Path(tempfile.mkdtemp(prefix="site-stats-report-"))
    settings = Settings.from_env(warehouse=str(root / "warehouse"), geoip_db=geoip_test_db(), progress=False)
    broken = root / "logs" / "E2EXAMPLE.2026-03-05-09.broken.gz"  # not gzip: it fails, and the page says why
    log = write_log(root / "logs")
    broken.write_bytes(b"this is not a log file\n")
    summary = ingest([str(log), str(broken)], settings=settings, progress=False)
    whole = render_report(start=PERIOD[0], end=PERIOD[1], site=SITE, out=root / "out", tz="Europe/Berlin",
                          settings=settings, engine="duckdb", single=True)
    index = whole.parent / "index.html"
    return {"root": root, "settings": settings, "index": index, "out": root / "out", "summary": summary}
