"""Period totals from the ``daily`` query, and the previous period of the same length.

Visitor ids change every UTC day, so a period's visitors are the sum of its days' visitors; sessions never
span days, so sessions, bounces and durations add up the same way.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

TOTAL_COLUMNS = ("hits", "bot_hits", "pageviews", "visitors", "sessions", "bounces")


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length that ends the day before ``start``."""
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def period_totals(daily: pd.DataFrame) -> dict[str, float]:
    """Totals over the rows of a ``daily`` result: the counts summed, bounce rate = bounces / sessions,
    visit duration = the mean over all sessions (each day's mean weighted by its sessions)."""
    totals: dict[str, float] = {c: int(daily[c].sum()) if c in daily and len(daily) else 0 for c in TOTAL_COLUMNS}
    sessions = totals["sessions"]
    totals["bounce_rate"] = (totals["bounces"] / sessions) if sessions else 0.0
    if sessions and "avg_visit_duration" in daily:
        weighted = (daily["avg_visit_duration"].astype(float) * daily["sessions"].astype(float)).sum()
        totals["avg_visit_duration"] = float(weighted) / sessions
    else:
        totals["avg_visit_duration"] = 0.0
    totals["days"] = int(len(daily))
    return totals
