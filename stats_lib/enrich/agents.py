"""User-agent parsing (browser, OS, device) on distinct values. Placeholder until ua-parser is wired in."""

from __future__ import annotations

import pyarrow as pa

COLUMNS = ("browser", "browser_version", "os", "os_version", "device")


def user_agent_columns(user_agents: pa.Array) -> dict[str, pa.Array]:
    n = len(user_agents)
    return {c: pa.nulls(n, pa.string()) for c in COLUMNS}
