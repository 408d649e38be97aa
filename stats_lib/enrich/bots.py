"""Bot detection on distinct user agents: several maintained lists combined, first name wins.

A user agent is a bot when any of these says so, tried in this order (the first one that matches names it):

1. our own list (``OWN_PATTERNS``): HTTP libraries and command-line clients, headless browsers and test tools,
   uptime monitors, link previewers and AI crawlers, with the names a site owner expects;
2. Matomo device-detector's bot list (PyPI ``device-detector``: ``regexes/upstream/bots.yml``), each regex
   applied with the boundary prefix that library adds, names expanded (``$1``);
3. the crawler-user-agents patterns (PyPI ``crawler-user-agents``), case-sensitive, named by the matched text;
4. ua-parser's ``Spider`` device class, named by ua-parser's browser family;
5. crawlerdetect's crawler patterns, after its own exclusions, minus ``CRAWLERDETECT_DROPPED``: patterns that
   flag real browsers and office apps (measured on device-detector's human fixtures; see
   ``tests/test_bots.py``), named by the matched text.

A null user agent means the format records none: unknown, not a bot (``is_bot`` null). An empty or blank one
is the bot "Empty user agent". All regexes run in Rust (``_fastre.RegexSet``), compiled once per process
(``lists()``); each distinct user agent is classified once per run by the run's ``Bots``.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .._arrow import flat
from ._distinct import DistinctCache
from ._fastre import RegexSet
from .agents import UserAgents

EMPTY = "Empty user agent"
GENERIC = "Generic Bot"  # the name of Matomo's catch-all pattern
CACHE_SIZE = 200_000

# (name, case-insensitive regex). Order matters: the first match names the bot.
OWN_PATTERNS: list[tuple[str, str]] = [
    # HTTP libraries and command-line clients
    ("curl", r"^curl\b|\bcurl/\d|libcurl"),
    ("Wget", r"^wget\b|\bwget/\d"),
    ("python-requests", r"python-requests"),
    ("Python urllib", r"python-urllib|^python/\d"),
    ("aiohttp", r"aiohttp"),
    ("httpx", r"python-httpx|^httpx/"),
    ("Scrapy", r"scrapy"),
    ("HTTPie", r"^httpie/"),
    ("Go-http-client", r"go-http-client|^go\s?\d|^fasthttp"),
    ("okhttp", r"^okhttp|\bokhttp/"),
    ("Java HTTP client", r"^java/\d|^java-http-client|apache-httpclient|jakarta commons-httpclient|^jersey/"),
    ("libwww-perl", r"libwww-perl|lwp::simple|^lwp-"),
    ("Node.js HTTP client", r"^axios/|^node-fetch|^undici|^got \(|^node\.js|^node/\d|^needle/|^superagent"),
    ("Deno", r"^deno/"),
    ("Bun", r"^bun/"),
    ("Ruby HTTP client", r"^ruby\b|^faraday|^rest-client|^httparty|^typhoeus|^mechanize"),
    ("PHP HTTP client", r"^guzzlehttp|^php/\d|^symfony httpclient|^wordpress/\d"),
    ("Dart HTTP client", r"^dart/\d|^dart:io"),
    ("Rust HTTP client", r"^reqwest|^hyper/|^ureq/|^isahc/"),
    (".NET HTTP client", r"^restsharp|^microsoft-cryptoapi|^winhttp|^powershell|windowspowershell"),
    ("PostmanRuntime", r"postmanruntime"),
    ("Insomnia", r"^insomnia/"),
    ("aria2", r"^aria2/"),
    ("colly", r"^colly\b"),
    ("Apache Bench", r"^apachebench/"),
    ("k6", r"\bk6/\d"),
    ("JMeter", r"apache-jmeter"),
    ("Nmap", r"\bnmap\b"),
    ("zgrab", r"zgrab"),
    ("masscan", r"masscan"),
    ("Nuclei", r"\bnuclei\b"),
    ("sqlmap", r"sqlmap"),
    ("Nikto", r"\bnikto\b"),
    # headless browsers and page testers
    ("HeadlessChrome", r"headlesschrome"),
    ("PhantomJS", r"phantomjs"),
    ("Puppeteer", r"puppeteer"),
    ("Playwright", r"playwright"),
    ("Selenium", r"selenium|webdriver"),
    ("Lighthouse", r"chrome-lighthouse|\blighthouse\b"),
    ("WebPageTest", r"\bptst/|webpagetest"),
    ("GTmetrix", r"gtmetrix"),
    # uptime and health monitors
    ("UptimeRobot", r"uptimerobot"),
    ("Pingdom", r"pingdom"),
    ("StatusCake", r"statuscake"),
    ("Site24x7", r"site24x7"),
    ("Better Stack", r"betteruptime|better stack|betterstack"),
    ("Uptime Kuma", r"uptime-?kuma"),
    ("Datadog Synthetics", r"datadogsynthetics|datadog agent"),
    ("New Relic Synthetics", r"newrelicpinger|new relic synthetics"),
    ("Checkly", r"checkly"),
    ("HetrixTools", r"hetrixtools"),
    ("Freshping", r"freshping"),
    ("Route 53 health check", r"amazon-route53-health-check"),
    ("ELB health checker", r"elb-healthchecker"),
    ("Google Cloud monitoring", r"googlestackdrivermonitoring|google-cloud-uptime"),
    ("kube-probe", r"kube-probe"),
    ("Prometheus blackbox", r"blackbox[ _-]exporter"),
    ("Prometheus", r"^prometheus/"),
    ("AWS SDK / CLI", r"\baws-sdk-|^aws-cli/|^boto3/|^botocore/|aws-support-trustedadvisor"),
    # link previewers
    ("Facebook preview", r"facebookexternalhit|facebookcatalog"),
    ("Twitterbot", r"twitterbot"),
    ("Slackbot", r"slackbot|slack-imgproxy"),
    ("Discordbot", r"discordbot"),
    ("TelegramBot", r"telegrambot"),
    ("WhatsApp preview", r"^whatsapp/"),
    ("LinkedInBot", r"linkedinbot"),
    ("Skype preview", r"skypeuripreview"),
    ("Microsoft Teams preview", r"msteams"),
    ("Iframely", r"iframely"),
    ("Embedly", r"embedly"),
    ("redditbot", r"redditbot"),
    ("Pinterestbot", r"pinterest(?:bot)?/"),
    ("Mastodon", r"mastodon/"),
    ("Bluesky preview", r"bsky|bluesky"),
    ("Google Read Aloud", r"google-read-aloud"),
    # AI crawlers and assistants
    ("GPTBot", r"gptbot"),
    ("ChatGPT-User", r"chatgpt-user"),
    ("OAI-SearchBot", r"oai-searchbot"),
    ("ClaudeBot", r"claudebot|claude-web|claude-user|claude-searchbot|anthropic-ai"),
    ("PerplexityBot", r"perplexitybot|perplexity-user"),
    ("CCBot", r"ccbot"),
    ("Google-Extended", r"google-extended"),
    ("Bytespider", r"bytespider"),
    ("Amazonbot", r"amazonbot"),
    ("Applebot", r"applebot"),
    ("cohere-ai", r"cohere-ai|cohere-training"),
    ("Meta AI crawler", r"meta-externalagent|meta-externalfetcher"),
    ("Diffbot", r"diffbot"),
    ("YouBot", r"youbot"),
    ("MistralAI-User", r"mistralai-user"),
    ("DuckAssistBot", r"duckassistbot"),
    ("Timpibot", r"timpibot"),
    ("ImagesiftBot", r"imagesiftbot"),
    ("PetalBot", r"petalbot"),
    ("AI2Bot", r"ai2bot"),
]

# crawlerdetect patterns that match people, not robots: Office apps opening links, the Amiga Voyager and
# Webster browsers, the QQDownload toolbar token of old MSIE.
CRAWLERDETECT_DROPPED = frozenset(
    {"Microsoft Office", "Excel\\/", "Word\\/", "PowerPoint\\/", "voyager\\/", "Webster", "QQDownload"}
)
# Browser tokens that contain a crawler's name (the Sogou browser is not the Sogou spider).
_HUMAN_TOKENS = re.compile(r"SogouMobileBrowser|SogouMSE|MetaSr")

# Matomo's boundary prefix (device_detector.settings.BOUNDED_REGEX).
_BOUNDARY = r"(?i)(?:^|[^A-Z0-9_-]|[^A-Z0-9-]_|sprd-|MZ-)(?:{})"


class _Lists:
    def __init__(self) -> None:
        self.own = RegexSet([(f"(?i){p}", name) for name, p in OWN_PATTERNS])
        self.matomo = RegexSet(_matomo_entries())
        self.cua = RegexSet(_crawler_user_agents_entries())
        from crawlerdetect.providers.crawlers import data as crawlers
        from crawlerdetect.providers.exclusions import data as exclusions

        self.crawlerdetect = RegexSet([(f"(?i){p}", None) for p in crawlers if p not in CRAWLERDETECT_DROPPED])
        self.crawlerdetect_exclusions = re.compile("|".join(exclusions), re.I)


def _matomo_entries() -> list[tuple[str, str | None]]:
    spec = importlib.util.find_spec("device_detector")
    if spec is None or not spec.submodule_search_locations:
        warnings.warn("device-detector is not installed: Matomo's bot list is not used", stacklevel=3)
        return []
    path = Path(next(iter(spec.submodule_search_locations))) / "regexes" / "upstream" / "bots.yml"
    entries = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return [(_BOUNDARY.format(e["regex"]), str(e.get("name") or "Bot")) for e in entries]


def _crawler_user_agents_entries() -> list[tuple[str, str | None]]:
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    return [(e["pattern"], None) for e in CRAWLER_USER_AGENTS_DATA]


@cache
def lists() -> _Lists:
    """The bot lists, compiled once per process (1.9 s): read-only reference data, no user agent remembered."""
    return _Lists()


def _clean_name(name: str | None, fallback: str) -> str:
    name = (name or "").strip(" /;:()+-_")
    return name[:100] if name else fallback


def classify(user_agent: str, agents: UserAgents) -> str | None:
    """The bot name of a non-empty user agent, None for a person; ``agents`` parses it for ua-parser's spider class."""
    ls = lists()
    hit = ls.own.match(user_agent)
    if hit:
        return hit[1]
    text = _HUMAN_TOKENS.sub(" ", user_agent)
    hit = ls.matomo.match(user_agent)
    if hit:
        if hit[1] == GENERIC:  # Matomo's catch-all: the matched crawler-user-agents text is a better name
            specific = ls.cua.match(text)
            return _clean_name(specific[1], GENERIC) if specific else GENERIC
        return _clean_name(hit[1], "Bot")
    hit = ls.cua.match(text)
    if hit:
        return _clean_name(hit[1], "Bot")
    families = agents.families(user_agent)
    if families.spider:
        return families.browser or "Spider"
    if ls.crawlerdetect.match(text):  # cheap check first; exclusions only for the few that match
        hit = ls.crawlerdetect.match(ls.crawlerdetect_exclusions.sub("", text))
        if hit:
            return _clean_name(hit[1], "Bot")
    return None


class Bots:
    """The bot names one run has found: each distinct user agent classified once, remembered across batches.

    ``agents``: the run's ``UserAgents`` (its parses serve ua-parser's spider class and the user-agent columns)."""

    def __init__(self, agents: UserAgents | None = None, max_size: int = CACHE_SIZE) -> None:
        self.agents = agents if agents is not None else UserAgents()
        self.max_size = max_size
        self.seen: dict[str, str | None] = {}  # the names found so far (``named``), bounded like the cache
        self._names = DistinctCache(lambda ua: (self._remembered(ua),), pa.schema([("bot_name", pa.string())]),
                                    max_size)

    def _remembered(self, user_agent: str) -> str | None:
        name = self.name(user_agent)
        if len(self.seen) >= self.max_size:
            self.seen.clear()
        self.seen[user_agent] = name
        return name

    def named(self, user_agent: str) -> bool:
        """Whether ``name`` gives this non-null agent a bot name (remembered from ``columns``)."""
        name = self.seen[user_agent] if user_agent in self.seen else self.name(user_agent)
        return name is not None

    def name(self, user_agent: str | None) -> str | None:
        """The bot's name, 'Empty user agent' for an empty one, None for a human or an unknown (null) agent."""
        if user_agent is None:
            return None
        if not user_agent.strip():
            return EMPTY
        return classify(user_agent, self.agents)

    def columns(self, user_agents: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """``is_bot`` and ``bot_name`` for each user agent, computed once per distinct value (across batches).

        ``is_bot`` is null where the user agent is null (unknown), true where a bot is named, false otherwise.
        """
        user_agents = flat(user_agents)
        name_col = self._names.columns(user_agents)["bot_name"]
        is_bot = pc.if_else(pc.is_null(user_agents), pa.scalar(None, pa.bool_()), pc.is_valid(name_col))
        return {"bot_name": name_col, "is_bot": is_bot}
