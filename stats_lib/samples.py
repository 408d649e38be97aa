"""A sample CloudFront log generator of our own, with the exact daily metrics it should produce.

It simulates a small site over several UTC days: people (each a distinct client IP + user agent, IPv4 and
IPv6) who come back on later days, sessions separated by long gaps, pages of skewed popularity each followed by
their assets, 304 revalidations, 404s, referrers and UTM links, a form POST, crawlers, monitors, HTTP
libraries and vulnerability scanners. The expected metrics are computed from what it generated, by the
contract's definitions, independently of the code under test: it knows who is a bot and what is a page.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .dates import utc_today
from .sources.cloudfront import FIELDS as CF_FIELDS

SITE_HOST = "www.example.com"  # normalised to the site 'example.com'
DISTRIBUTION = "d111111abcdef8.cloudfront.net"
SESSION_GAP = 1800

PAGES = ["/", "/pricing", "/docs/", "/docs/install.html", "/docs/faq.html", "/blog/", "/blog/launch",
         "/blog/privacy-first-analytics", "/about", "/contact.html", "/careers", "/blog/2026/11/aws-logs.htm"]
ASSETS = [("/static/site.css", "text/css"), ("/static/app.js", "application/javascript"),
          ("/static/logo.png", "image/png"), ("/static/font.woff2", "font/woff2")]
HUMAN_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
BOT_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "",  # an empty user agent is a bot by definition
]
SCANNER_PATHS = ["/wp-login.php", "/.env", "/admin/config.php", "/.git/config", "/phpmyadmin/"]
REFERRERS = [
    ("https://www.google.com/", None), ("https://duckduckgo.com/", None), ("https://news.ycombinator.com/", None),
    ("https://t.co/abc123", None), ("https://www.reddit.com/r/aws/", None),
    (None, "utm_source=newsletter&utm_medium=email&utm_campaign=november"),
    (None, "utm_source=twitter&utm_medium=social&utm_campaign=launch&utm_content=thread"),
    ("https://www.linkedin.com/feed/", "utm_source=linkedin&utm_medium=social&utm_campaign=launch"),
    (None, None), (None, None), (None, None),
]
EDGES = ["FRA56-P7", "IAD89-C1", "LHR61-P2", "NRT57-C3", "SYD1-C1", "GRU3-C2"]


@dataclass
class Person:
    ip: str
    agent: str
    edge: str


@dataclass
class Hit:
    ts: dt.datetime
    person: Person | None  # None: a bot
    agent: str
    ip: str
    method: str
    path: str
    query: str | None
    status: int
    content_type: str | None
    referrer: str | None
    edge: str
    bytes_sent: int

    @property
    def is_pageview(self) -> bool:
        return (
            self.person is not None
            and self.method == "GET"
            and self.status in (200, 304)
            and (self.content_type == "text/html" or (self.content_type is None and _page_path(self.path)))
        )


def _page_path(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return path.endswith("/") or path.endswith((".html", ".htm")) or "." not in last


@dataclass
class Sample:
    hits: list[Hit] = field(default_factory=list)

    def expected_daily(self) -> dict[str, dict[str, float]]:
        """The contract's daily metrics, computed from the generated hits."""
        days: dict[str, dict] = {}
        for h in self.hits:
            d = days.setdefault(h.ts.date().isoformat(), {"hits": 0, "bot_hits": 0, "pageviews": 0, "views": {}})
            d["hits"] += 1
            if h.person is None:
                d["bot_hits"] += 1
            if h.is_pageview:
                d["pageviews"] += 1
                d["views"].setdefault((h.ip, h.agent), []).append(h.ts)
        out = {}
        for day in sorted(days):
            d = days[day]
            sessions: list[tuple[int, float]] = []  # (pageviews, duration)
            for stamps in d["views"].values():
                stamps.sort()
                start = prev = stamps[0]
                count = 1
                for t in stamps[1:]:
                    if (t - prev).total_seconds() > SESSION_GAP:
                        sessions.append((count, (prev - start).total_seconds()))
                        start, count = t, 0
                    count += 1
                    prev = t
                sessions.append((count, (prev - start).total_seconds()))
            bounces = sum(1 for n, _ in sessions if n == 1)
            out[day] = {
                "day": day,
                "hits": d["hits"],
                "bot_hits": d["bot_hits"],
                "pageviews": d["pageviews"],
                "visitors": len(d["views"]),
                "sessions": len(sessions),
                "bounces": bounces,
                "bounce_rate": bounces / len(sessions) if sessions else 0.0,
                "avg_visit_duration": sum(s for _, s in sessions) / len(sessions) if sessions else 0.0,
            }
        return out

    def client_ips(self) -> set[str]:
        return {h.ip for h in self.hits}


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pairs: set[tuple[str, str]] = set()
        self.people: list[Person] = []

    def ip(self) -> str:
        r = self.rng
        if r.random() < 0.2:
            return "2a0%d:%x:%x:%x::%x" % (r.randint(1, 9), r.randint(0x100, 0xFFFF), r.randint(1, 0xFFFF),
                                          r.randint(1, 0xFFFF), r.randint(1, 0xFFFF))
        first = r.choice([31, 46, 62, 77, 81, 89, 94, 109, 151, 178, 185, 195, 203, 212])
        return f"{first}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def person(self) -> Person:
        while True:
            # Some people share an address (an office, a NAT) but never with the same browser.
            ip = self.rng.choice(self.people).ip if self.people and self.rng.random() < 0.05 else self.ip()
            agent = self.rng.choice(HUMAN_AGENTS)
            if (ip, agent) not in self.pairs:
                self.pairs.add((ip, agent))
                p = Person(ip, agent, self.rng.choice(EDGES))
                self.people.append(p)
                return p

    def page(self) -> str:
        # Zipf-like popularity: the first pages get most views.
        weights = [1 / (i + 1) ** 1.1 for i in range(len(PAGES))]
        return self.rng.choices(PAGES, weights)[0]

    def day(self, day: dt.date, visitors: int, returning: list[Person]) -> list[Hit]:
        r = self.rng
        midnight = dt.datetime.combine(day, dt.time())
        hits: list[Hit] = []
        back = r.sample(returning, min(len(returning), visitors // 3))
        today = back + [self.person() for _ in range(visitors - len(back))]
        for p in today:
            for _ in range(r.choice([1, 1, 1, 2, 2, 3])):
                t = midnight + dt.timedelta(seconds=r.randint(0, 86399))
                ref, utm = r.choice(REFERRERS)
                for n in range(r.choice([1, 1, 2, 3, 4, 6])):
                    if n:
                        gap = r.choice([5, 20, 45, 90, 240, 600, SESSION_GAP])  # exactly 30 min: same session
                        t += dt.timedelta(seconds=gap)
                        ref, utm = f"https://{SITE_HOST}{hits[-1].path if hits else '/'}", None
                    if t.date() != day:
                        break
                    hits.extend(self.page_hits(p, t, ref, utm if n == 0 else None))
                if t.date() != day:
                    break
        hits.extend(self.robots(midnight))
        return hits

    def page_hits(self, p: Person, t: dt.datetime, ref: str | None, utm: str | None) -> list[Hit]:
        r = self.rng
        path = self.page()
        roll = r.random()
        if roll < 0.05:
            path, status, ctype = "/old" + (path if path != "/" else "/home"), 404, "text/html"  # a moved page
        elif roll < 0.15:
            status, ctype = 304, None  # a revalidation: no body, no content type recorded
        elif roll < 0.17:
            status, ctype = 0, None  # the client went away (CloudFront's 000)
        else:
            status, ctype = 200, "text/html"
        out = [Hit(t, p, p.agent, p.ip, "GET", path, utm, status, ctype, ref, p.edge, r.randint(2000, 40000))]
        if status in (200, 304):
            for asset, asset_type in r.sample(ASSETS, r.randint(0, len(ASSETS))):
                a_status = 304 if r.random() < 0.4 else 200
                out.append(Hit(t + dt.timedelta(seconds=r.randint(0, 2)), p, p.agent, p.ip, "GET", asset, None,
                               a_status, asset_type if a_status == 200 else None,
                               f"https://{SITE_HOST}{path}", p.edge, r.randint(500, 90000)))
        if path == "/contact.html" and status == 200 and r.random() < 0.5:
            out.append(Hit(t + dt.timedelta(seconds=30), p, p.agent, p.ip, "POST", "/api/subscribe", None, 200,
                           "application/json", f"https://{SITE_HOST}{path}", p.edge, 120))
        return out

    def robots(self, midnight: dt.datetime) -> list[Hit]:
        r = self.rng
        out = []
        for _ in range(r.randint(20, 60)):
            agent = r.choice(BOT_AGENTS)
            ip = self.ip()
            t = midnight + dt.timedelta(seconds=r.randint(0, 86399))
            if r.random() < 0.3:
                path, status, ctype = r.choice(SCANNER_PATHS), 404, "text/html"
            else:
                path, status, ctype = self.page(), 200, "text/html"
            method = "HEAD" if "UptimeRobot" in agent else "GET"
            out.append(Hit(t, None, agent, ip, method, path, None, status, ctype, None, r.choice(EDGES), 300))
        return out


def _line(h: Hit, width: int, double_encode: bool, n: int) -> str:
    def enc(v: str | None) -> str:
        if v is None:
            return "-"
        e = quote(v, safe="/:;,()+=&?.-_~")
        return e.replace("%", "%25") if double_encode else e

    values = {
        "date": h.ts.strftime("%Y-%m-%d"), "time": h.ts.strftime("%H:%M:%S"), "x-edge-location": h.edge,
        "sc-bytes": str(h.bytes_sent), "c-ip": h.ip, "cs-method": h.method, "cs(Host)": DISTRIBUTION,
        "cs-uri-stem": quote(h.path), "sc-status": f"{h.status:03d}", "cs(Referer)": enc(h.referrer),
        "cs(User-Agent)": enc(h.agent) if h.agent else "-", "cs-uri-query": h.query or "-", "cs(Cookie)": "-",
        "x-edge-result-type": "Hit" if h.status in (200, 304) else "Error",
        "x-edge-request-id": f"req{n:09d}EXAMPLE==", "x-host-header": SITE_HOST, "cs-protocol": "https",
        "cs-bytes": "420", "time-taken": "0.0%02d" % (n % 90 + 1), "x-forwarded-for": "-",
        "ssl-protocol": "TLSv1.3", "ssl-cipher": "TLS_AES_128_GCM_SHA256",
        "x-edge-response-result-type": "Hit", "cs-protocol-version": "HTTP/2.0", "fle-status": "-",
        "fle-encrypted-fields": "-", "c-port": "443", "time-to-first-byte": "0.010",
        "x-edge-detailed-result-type": "Hit", "sc-content-type": h.content_type or "-",
        "sc-content-len": "-", "sc-range-start": "-", "sc-range-end": "-",
    }
    return "\t".join(values[f] for f in CF_FIELDS[:width])


def generate(out_dir: str | Path, *, days: int = 7, end: dt.date | None = None, seed: int = 7,
             visitors_per_day: int = 120) -> Sample:
    """Write CloudFront logs (gzip, several files a day, 33-field and older 26-field forms) for ``days`` UTC days
    ending with ``end`` (default: yesterday) into ``out_dir``, plus ``expected-daily.json``; return the sample."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    end = end or (utc_today() - dt.timedelta(days=1))
    gen = _Generator(seed)
    sample = Sample()
    n = 0
    for i in range(days):
        day = end - dt.timedelta(days=days - 1 - i)
        hits = gen.day(day, visitors_per_day + gen.rng.randint(-visitors_per_day // 5, visitors_per_day // 5),
                       gen.people)
        sample.hits.extend(hits)
        older = i % 3 == 0  # every third day in the older 26-field form with double-encoded fields
        width = 26 if older else 33
        blocks: dict[int, list[Hit]] = {}
        for h in hits:
            blocks.setdefault(h.ts.hour // 6, []).append(h)
        for block, block_hits in sorted(blocks.items()):
            gen.rng.shuffle(block_hits)  # CloudFront files are not in time order
            name = f"E2EXAMPLE.{day.isoformat()}-{block * 6:02d}.{seed:04x}{i:02x}{block:x}.gz"
            lines = ["#Version: 1.0", "#Fields: " + " ".join(CF_FIELDS[:width])]
            for h in block_hits:
                n += 1
                lines.append(_line(h, width, older, n))
            # no name or time in the gzip header: the same sample is the same bytes, so a second `make demo`
            # finds its files already ingested instead of counting them twice
            data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
            (out / name).write_bytes(data)
    expected = sample.expected_daily()
    (out / "expected-daily.json").write_text(json.dumps(list(expected.values()), indent=1))
    return sample
