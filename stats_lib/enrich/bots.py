"""Bot detection on distinct user agents. (Initial list; extended by the enrichment work.)"""

from __future__ import annotations

import re

import pyarrow as pa

from .privacy import map_distinct

_PATTERNS: list[tuple[str, str]] = [
    ("Googlebot", r"googlebot"),
    ("Bingbot", r"bingbot|bingpreview"),
    ("curl", r"^curl/"),
    ("Wget", r"^wget/"),
    ("python-requests", r"python-requests|python-urllib|aiohttp|httpx"),
    ("Go-http-client", r"go-http-client"),
    ("HeadlessChrome", r"headlesschrome"),
    ("UptimeRobot", r"uptimerobot"),
    ("Generic bot", r"bot\b|crawl|spider|slurp|scanner|monitor"),
]
_COMPILED = [(name, re.compile(p, re.I)) for name, p in _PATTERNS]


def bot_name(user_agent: str | None) -> str | None:
    """The bot's name, 'Empty user agent' for an empty one, None for a human or an unknown (null) agent."""
    if user_agent is None:
        return None
    if not user_agent.strip():
        return "Empty user agent"
    for name, pattern in _COMPILED:
        if pattern.search(user_agent):
            return name
    return None


def bot_columns(user_agents: pa.Array) -> dict[str, pa.Array]:
    """``is_bot`` and ``bot_name`` for each user agent, computed once per distinct value."""
    names = map_distinct(user_agents, bot_name, pa.string())
    import pyarrow.compute as pc

    return {"bot_name": names, "is_bot": pc.is_valid(names)}
