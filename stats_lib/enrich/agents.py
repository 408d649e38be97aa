"""User-agent parsing (browser, OS, device class) with ua-parser and its Rust accelerator, on distinct values.

``parse(ua)`` resolves one user agent with the regexes the installed ``ua-parser-builtins`` ships, through the
``ua-parser-rs`` resolver, and remembers the answer in a bounded module-level cache shared by every batch of
every ingest in the process (``bots`` uses the same cache for ua-parser's ``Spider`` device class).

ua-parser names device models, not classes: ``devices.device_class`` decides desktop, mobile, tablet, bot or
other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pyarrow as pa

from . import devices
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
        device=devices.device_class(ua, os_family, device_family),
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
