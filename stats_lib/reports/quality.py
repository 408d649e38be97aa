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
    """Files (rows of ``ingest_ledger``) that really arrived late: ingested after the salt window of a day they
    hold had closed (``retention_days`` days after that UTC day ended) although that day had already been counted
    from another file ingested within its window. By then the day's salt was deleted, so the late file's
    visitors on it got new ids (``salt_missing_days``).

    A day whose files all came after its window (a first import of old logs, or the demo's fixed week) is a
    backfill, not late: its salt was created by that import and every visitor id of the day matches.
    Columns: source, first_day, last_day, ingested_at, days_late, salt_missing_days."""
    columns = ["source", "first_day", "last_day", "ingested_at", "days_late", "salt_missing_days"]
    if ledger is None or ledger.empty:
        return pd.DataFrame(columns=columns)
    files = []
    for r in ledger.itertuples(index=False):
        first, last = _day(r.first_day), _day(r.last_day)
        if first is None or not r.ingested_at:
            continue
        stamp = pd.Timestamp(str(r.ingested_at))
        ingested_day = (stamp.tz_convert("UTC") if stamp.tzinfo else stamp).date()
        days = [first + dt.timedelta(days=i) for i in range(((last or first) - first).days + 1)]
        files.append((r, first, last, ingested_day, days))

    def closes(day: dt.date) -> dt.date:  # the first day the salt of ``day`` may be gone
        return day + dt.timedelta(days=1 + retention_days)

    on_time: set[dt.date] = {d for *_, ingested, days in files for d in days if ingested < closes(d)}
    rows = []
    for r, first, last, ingested, days in files:
        missing = [d for d in days if ingested >= closes(d) and d in on_time]
        if missing:
            rows.append((r.source, first, last, str(r.ingested_at), (ingested - closes(missing[0])).days + 1,
                         ", ".join(d.isoformat() for d in missing)))
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


def ledger_view(ledger: pd.DataFrame | None) -> pd.DataFrame | None:
    """``ingest_ledger`` as people read it: the file's name (not its whole path), format, the line counts, the
    days it covers and when it was ingested (to the minute)."""
    if ledger is None or ledger.empty:
        return ledger
    view = ledger.copy()
    view["source"] = [str(s).replace("\\", "/").rsplit("/", 1)[-1] for s in view["source"]]
    view["ingested_at"] = [str(v)[:16].replace("T", " ") for v in view["ingested_at"]]
    view = view.rename(columns={"source": "file"})
    return view[["file", "format", "lines", "events", "rejected", "skipped", "first_day", "last_day", "ingested_at"]]
