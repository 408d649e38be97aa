"""Data-quality views over the ingest ledger and the events: late files, days whose salt was gone, and how much
each source saw of the same pages."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def _day(value) -> dt.date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return pd.Timestamp(str(value)).date()


def late_files(ledger: pd.DataFrame | None, retention_days: int = 2) -> pd.DataFrame:
    """Files (rows of ``ingest_ledger``) ingested after the salt window of their first day had closed
    (``retention_days`` days after that UTC day ended): source, first_day, last_day, ingested_at, days_late,
    salt_missing_days (the days of the file whose salt was already gone, so their visitors got new ids)."""
    columns = ["source", "first_day", "last_day", "ingested_at", "days_late", "salt_missing_days"]
    if ledger is None or ledger.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for r in ledger.itertuples(index=False):
        first, last = _day(r.first_day), _day(r.last_day)
        if first is None or not r.ingested_at:
            continue
        ingested = pd.Timestamp(str(r.ingested_at))
        ingested_day = (ingested.tz_convert("UTC") if ingested.tzinfo else ingested).date()
        closes = first + dt.timedelta(days=1 + retention_days)  # the first day the salt may be gone
        if ingested_day < closes:
            continue
        last_missing = min(last or first, ingested_day - dt.timedelta(days=1 + retention_days))
        missing = [(first + dt.timedelta(days=i)).isoformat() for i in range((last_missing - first).days + 1)]
        rows.append((r.source, first, last, str(r.ingested_at), (ingested_day - closes).days + 1, ", ".join(missing)))
    return pd.DataFrame(rows, columns=columns)


def salt_missing_days(late: pd.DataFrame) -> list[str]:
    days: set[str] = set()
    for text in late.get("salt_missing_days", []):
        days.update(d for d in str(text).split(", ") if d)
    return sorted(days)


def source_matrix(by_source: pd.DataFrame | None, value: str = "hits") -> pd.DataFrame:
    """``events_by_source`` as one row per path and one column per source."""
    if by_source is None or by_source.empty:
        return pd.DataFrame(columns=["path"])
    wide = by_source.pivot_table(index="path", columns="source", values=value, aggfunc="sum", fill_value=0)
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.astype("int64")
    wide["all sources"] = wide.sum(axis=1)
    wide = wide.sort_values("all sources", ascending=False)
    return wide.reset_index()


def rejects_summary(rejects: pd.DataFrame | None) -> pd.DataFrame:
    """``rejects_by_reason`` summed over files: kind, reason, lines."""
    if rejects is None or rejects.empty:
        return pd.DataFrame(columns=["kind", "reason", "lines"])
    out = rejects.groupby(["kind", "reason"], as_index=False)["lines"].sum()
    return out.sort_values("lines", ascending=False, ignore_index=True)
