"""User-agent parsing (browser, OS, device class) with ua-parser and its Rust accelerator, on distinct values.

``UserAgents().parse(ua)`` resolves one user agent with the regexes the installed ``ua-parser-builtins`` ships,
through the ``ua-parser-rs`` resolver, and remembers the answer in the object (bounded), which a run's
enrichment owns; ``bots.Bots`` asks the same object for ua-parser's ``Spider`` device class. The resolver itself
(compiled regexes, read-only) is loaded once per process by ``resolver()``.

ua-parser names device models, not classes: ``devices.device_class`` decides desktop, mobile, tablet, bot or
other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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


@cache
def resolver():
    """The ua-parser resolver over the installed builtins: the Rust one when ``ua-parser-rs`` is installed.

    Read-only reference data, loaded once per process (0.8 s); it remembers no user agent."""
    from ua_parser import BestAvailableResolver, load_builtins

    return BestAvailableResolver(load_builtins())


def _version(major: str | None, minor: str | None = None) -> str | None:
    if not major:
        return None
    return f"{major}.{minor}" if minor else major


def _resolve(ua: str, detections: devices.Detections | None = None) -> Agent:
    from ua_parser import Domain

    res = resolver()(ua, Domain.ALL)
    browser = res.user_agent.family if res.user_agent else None
    if browser == "Other":
        browser = None
    os_family = res.os.family if res.os else None
    if os_family == "Other":
        os_family = None
    device_family = res.device.family if res.device else None
    return Agent(
        browser=browser,
        browser_version=res.user_agent.major if res.user_agent and browser else None,
        os=os_family,
        os_version=_version(res.os.major, res.os.minor) if res.os and os_family else None,
        device=devices.device_class(ua, os_family, device_family, detections),
        spider=device_family == "Spider",
    )


_SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])


class UserAgents:
    """The user agents one run has parsed: each distinct agent parsed once (``parse``), its columns spread to the
    rows of every batch (``columns``)."""

    def __init__(self, max_size: int = CACHE_SIZE) -> None:
        self.max_size = max_size
        self.parsed: dict[str, Agent] = {}
        self.detections = devices.Detections()  # the device detector's answers, shared by agents with one key
        self._columns = DistinctCache(self._row, _SCHEMA, max_size=max_size)

    def parse(self, ua: str | None) -> Agent | None:
        """One user agent parsed (remembered); None for a null or empty agent."""
        if ua is None or not ua.strip():
            return None
        agent = self.parsed.get(ua)
        if agent is None:
            if len(self.parsed) >= self.max_size:
                self.parsed.clear()
            agent = self.parsed[ua] = _resolve(ua, self.detections)
        return agent

    def _row(self, ua: str) -> tuple:
        agent = self.parse(ua)
        if agent is None:  # empty or blank: recorded, but nothing to parse
            return (None, None, None, None, "other")
        return (agent.browser, agent.browser_version, agent.os, agent.os_version, agent.device)

    def columns(self, user_agents: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """browser, browser_version, os, os_version, device for each user agent, parsed once per distinct value
        (and remembered across batches).

        A null user agent (the format records none) leaves every column null; an empty one is device ``other``
        here and becomes ``bot`` in the pipeline, which knows it is a bot.
        """
        return self._columns.columns(user_agents)
