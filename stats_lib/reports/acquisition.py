"""Acquisition without noise: self-referrals (the site linking to itself, channel ``internal``) are navigation,
not a source of visitors, so the channel list leaves them out and the page shows them on their own line."""

from __future__ import annotations

import pandas as pd

SELF = "internal"


def external_channels(channels: pd.DataFrame | None) -> pd.DataFrame | None:
    """The ``channels`` rows without self-referrals, ordered by visitors (then pageviews)."""
    if channels is None or channels.empty:
        return channels
    rows = channels[channels["channel"] != SELF]
    return rows.sort_values(["visitors", "pageviews"], ascending=False, ignore_index=True)


def self_referrals(channels: pd.DataFrame | None) -> str:
    """One sentence on the self-referrals the channel list leaves out."""
    if channels is None or channels.empty or SELF not in set(channels["channel"]):
        return "No self-referrals in this period."
    row = channels[channels["channel"] == SELF].iloc[0]
    return (f"Self-referrals (pages of this site linking to each other) are not counted as a source: "
            f"{int(row['pageviews']):,} pageviews by {int(row['visitors']):,} visitors came from the site itself.")
