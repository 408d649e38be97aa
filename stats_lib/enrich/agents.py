"""User-agent parsing (browser, OS, device class) with ua-parser and its Rust accelerator, on distinct values.

``UserAgents().parse(ua)`` resolves one user agent with the regexes the installed ``ua-parser-builtins`` ships,
through the ``ua-parser-rs`` resolver, and remembers the answer in the object (bounded), which a run's
enrichment owns; ``bots.Bots`` asks the same object for ua-parser's ``Spider`` device class. The resolver itself
(compiled regexes, read-only) is loaded once per process by ``resolver()``.

ua-parser names device models, not classes: ``devices.device_class`` decides desktop, mobile, tablet, bot or
other.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
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


@dataclass(frozen=True, slots=True)
class Families:
    """What ua-parser says of one user agent (no device class: that is ``devices.device_class``'s, and costly)."""

    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None
    device_family: str | None  # ua-parser's device model family ("Spider" for its crawlers)

    @property
    def spider(self) -> bool:
        return self.device_family == "Spider"


def _families(ua: str) -> Families:
    from ua_parser import Domain

    res = resolver()(ua, Domain.ALL)
    browser = res.user_agent.family if res.user_agent else None
    if browser == "Other":
        browser = None
    os_family = res.os.family if res.os else None
    if os_family == "Other":
        os_family = None
    return Families(
        browser=browser,
        browser_version=res.user_agent.major if res.user_agent and browser else None,
        os=os_family,
        os_version=_version(res.os.major, res.os.minor) if res.os and os_family else None,
        device_family=res.device.family if res.device else None,
    )


_SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])


class UserAgents:
    """The user agents one run has parsed: each distinct agent parsed once (``parse``), its columns spread to the
    rows of every batch (``columns``)."""

    def __init__(self, max_size: int = CACHE_SIZE, detector_helper: Executor | None = None) -> None:
        self.max_size = max_size
        self.parsed: dict[str, Agent] = {}
        # the device detector's answers, shared by agents with one key (``detector_helper``: see devices.Detections)
        self.detections = devices.Detections(helper=detector_helper)
        self.seen_families: dict[str, Families] = {}
        # whether the run's bot step names an agent (``bots.Bots.named``, set by the pipeline): a named bot's
        # device is "bot" whatever its class, so its class is never computed (the detector is the costly part)
        self.bot_named: Callable[[str], bool] | None = None
        self._columns = DistinctCache(self._row, _SCHEMA, max_size=max_size)

    def families(self, ua: str) -> Families:
        """ua-parser's answer for one non-empty agent (remembered; the parse of ``parse`` without the device class)."""
        found = self.seen_families.get(ua)
        if found is None:
            if len(self.seen_families) >= self.max_size:
                self.seen_families.clear()
            found = self.seen_families[ua] = _families(ua)
        return found

    def parse(self, ua: str | None) -> Agent | None:
        """One user agent parsed (remembered); None for a null or empty agent."""
        if ua is None or not ua.strip():
            return None
        agent = self.parsed.get(ua)
        if agent is None:
            if len(self.parsed) >= self.max_size:
                self.parsed.clear()
            f = self.families(ua)
            agent = self.parsed[ua] = Agent(browser=f.browser, browser_version=f.browser_version, os=f.os,
                                            os_version=f.os_version, spider=f.spider,
                                            device=devices.device_class(ua, f.os, f.device_family, self.detections))
        return agent

    def _row(self, ua: str) -> tuple:
        if self.bot_named is not None and ua.strip() and self.bot_named(ua):
            f = self.families(ua)
            return (f.browser, f.browser_version, f.os, f.os_version, devices.BOT)
        agent = self.parse(ua)
        if agent is None:  # empty or blank: recorded, but nothing to parse
            return (None, None, None, None, "other")
        return (agent.browser, agent.browser_version, agent.os, agent.os_version, agent.device)

    def prefetch(self, user_agents: pa.Array | pa.ChunkedArray) -> None:
        """Hand the device detector's part for the agents never seen before to the detector as one batch
        (``devices.Detections.prefetch``): to the helper process if there is one, to run while this process does
        other steps; else here, now."""
        self.detections.prefetch(self._columns.unknown(user_agents))

    def columns(self, user_agents: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """browser, browser_version, os, os_version, device for each user agent, parsed once per distinct value
        (and remembered across batches).

        A null user agent (the format records none) leaves every column null; an empty one is device ``other``
        here and becomes ``bot`` in the pipeline, which knows it is a bot.
        """
        return self._columns.columns(user_agents)
