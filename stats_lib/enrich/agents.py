"""User-agent parsing (browser, OS, device class) with ua-parser and its Rust accelerator, on distinct values.

``parse(ua)`` resolves one user agent with the regexes the installed ``ua-parser-builtins`` ships, through the
``ua-parser-rs`` resolver, and remembers the answer in a bounded module-level cache shared by every batch of
every ingest in the process (``bots`` uses the same cache for ua-parser's ``Spider`` device class).

The device class is ours: ua-parser names device models, not classes. ``device_class`` decides desktop, mobile,
tablet, bot or other from ua-parser's device and OS families plus the usual user-agent tokens (``Mobi``,
``iPad``, Android without ``Mobile``, ...).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pyarrow as pa

from ._distinct import DistinctCache

COLUMNS = ("browser", "browser_version", "os", "os_version", "device")
CACHE_SIZE = 200_000  # distinct user agents remembered across batches; cleared wholesale when full


@dataclass(frozen=True, slots=True)
class Agent:
    browser: str | None
    browser_version: str | None  # major
    os: str | None
    os_version: str | None  # major[.minor]
    device: str  # desktop, mobile, tablet, bot, other
    spider: bool  # ua-parser's device family is "Spider"


_lock = threading.Lock()
_resolver = None
_cache: dict[str, Agent] = {}


def resolver():
    """The ua-parser resolver over the installed builtins: the Rust one when ``ua-parser-rs`` is installed."""
    global _resolver
    if _resolver is None:
        with _lock:
            if _resolver is None:
                from ua_parser import BestAvailableResolver, load_builtins

                _resolver = BestAvailableResolver(load_builtins())
    return _resolver


_TABLET = re.compile(
    r"iPad|Tablet|Kindle|Silk/|PlayBook|Nexus (?:7|9|10)\b|\bSM-[TPX]\d|\bGT-P\d|\bTab\b|Lenovo TB|MediaPad|"
    r"MatePad|\bKF[A-Z]{2,4}\b|Xoom|Transformer|Pixel C\b",
)
_MOBILE = re.compile(
    r"Mobi|iPhone|iPod|Windows Phone|BlackBerry|BB10|Opera Mini|Symbian|KaiOS|Nokia|J2ME|MIDP|webOS|"
    r"Fennec|IEMobile|UCBrowser|Android.*Mobile|Mobile.*Android",
)
_DESKTOP_OS = frozenset(
    {
        "Windows", "Mac OS X", "Linux", "Ubuntu", "Debian", "Fedora", "Red Hat", "SUSE", "openSUSE", "Mint",
        "Chrome OS", "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris", "Gentoo", "Arch Linux", "Mandriva",
        "Slackware", "CentOS", "Kubuntu", "Xubuntu", "PCLinuxOS", "BeOS", "Haiku", "OS/2", "AmigaOS", "RISC OS",
        "macOS",
    }
)
_DESKTOP = re.compile(r"Windows NT|Macintosh|Mac OS X|Mac OS/|\bDesktop\b|X11|Win(?:98|95|dows 9)|CrOS|Linux x86_64|Linux i[3-6]86")
_TV_CONSOLE = re.compile(r"SmartTV|SMART-TV|Smart-TV|HbbTV|\bTV\b|AppleTV|Roku|CrKey|PlayStation|Xbox|Nintendo|Tizen.*TV|Web0S")


def device_class(ua: str, os_family: str | None, device_family: str | None) -> str:
    """desktop, mobile, tablet, bot (ua-parser's spider class) or other, for one user agent."""
    if device_family == "Spider":
        return "bot"
    if device_family in ("iPad", "Generic Tablet") or _TABLET.search(ua):
        return "tablet"
    if _TV_CONSOLE.search(ua):
        return "other"
    if device_family in ("iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone") or _MOBILE.search(ua):
        return "mobile"
    if os_family == "Android":  # Android without "Mobile" is a tablet by Google's own convention
        return "tablet"
    if os_family == "iOS":
        return "mobile"
    if os_family in _DESKTOP_OS or _DESKTOP.search(ua):
        return "desktop"
    return "other"


def _version(major: str | None, minor: str | None = None) -> str | None:
    if not major:
        return None
    return f"{major}.{minor}" if minor else major


def parse(ua: str | None) -> Agent | None:
    """One user agent parsed (cached); None for a null or empty agent."""
    if ua is None or not ua.strip():
        return None
    hit = _cache.get(ua)
    if hit is not None:
        return hit
    from ua_parser import Domain

    res = resolver()(ua, Domain.ALL)
    browser = res.user_agent.family if res.user_agent else None
    if browser == "Other":
        browser = None
    os_family = res.os.family if res.os else None
    if os_family == "Other":
        os_family = None
    device_family = res.device.family if res.device else None
    agent = Agent(
        browser=browser,
        browser_version=res.user_agent.major if res.user_agent and browser else None,
        os=os_family,
        os_version=_version(res.os.major, res.os.minor) if res.os and os_family else None,
        device=device_class(ua, os_family, device_family),
        spider=device_family == "Spider",
    )
    if len(_cache) >= CACHE_SIZE:
        _cache.clear()
    _cache[ua] = agent
    return agent


def _row(ua: str) -> tuple:
    agent = parse(ua)
    if agent is None:  # empty or blank: recorded, but nothing to parse
        return (None, None, None, None, "other")
    return (agent.browser, agent.browser_version, agent.os, agent.os_version, agent.device)


_columns_cache = DistinctCache(_row, pa.schema([(c, pa.string()) for c in COLUMNS]), max_size=CACHE_SIZE)


def user_agent_columns(user_agents: pa.Array) -> dict[str, pa.Array]:
    """browser, browser_version, os, os_version, device for each user agent, parsed once per distinct value
    (and remembered across batches).

    A null user agent (the format records none) leaves every column null; an empty one is device ``other``
    here and becomes ``bot`` in the pipeline, which knows it is a bot.
    """
    return _columns_cache.columns(user_agents)
