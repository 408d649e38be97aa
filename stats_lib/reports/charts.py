"""Charts as PNG images (matplotlib, Agg): labels from logs are drawn as pixels, never parsed as markup or math.

Each function returns a ``Chart``, which Jupyter and nbconvert show as an ``<img>`` with a data: URI and an
escaped alt text.
"""

from __future__ import annotations

import base64
import io
import zoneinfo
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.dates as mdates  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .html import Html, esc  # noqa: E402

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#64748b")
STATUS_COLOURS = {"2xx": "#16a34a", "3xx": "#2563eb", "4xx": "#f97316", "5xx": "#dc2626", "000": "#64748b"}
_RC = {"text.parse_math": False, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
MAX_LABEL = 48


class Chart:
    """A rendered chart: PNG bytes plus its title (for alt text)."""

    def __init__(self, png: bytes, title: str) -> None:
        self.png = png
        self.title = title

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return Html(f'<figure class="chart"><img alt="{esc(self.title)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{esc(self.title)}</figcaption></figure>")

    def __len__(self) -> int:
        return len(self.png)


def _short(text: object) -> str:
    s = "–" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    s = "".join(ch if ch.isprintable() else "?" for ch in s)
    return s if len(s) <= MAX_LABEL else s[: MAX_LABEL - 1] + "…"


def _figure(width: float = 9.0, height: float = 3.2) -> Figure:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _finish(fig: Figure, title: str) -> Chart:
    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="png", dpi=100)
    return Chart(buf.getvalue(), title)


def _empty(title: str, message: str = "No data for this period") -> Chart:
    with matplotlib.rc_context(_RC):
        fig = _figure(9, 1.2)
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, message, ha="center", va="center", color="#64748b")
        ax.set_title(title, loc="left")
        return _finish(fig, title)


def daily_lines(daily: pd.DataFrame, start=None, end=None, series: Mapping[str, str] | None = None, *,
                title: str = "Daily pageviews and visitors") -> Chart:
    """Lines over the UTC days of a ``daily`` result (default: pageviews and visitors); days of ``start..end``
    without data are drawn as 0."""
    series = series or {"pageviews": "Pageviews", "visitors": "Visitors"}
    if daily is None or daily.empty:
        return _empty(title)
    daily = daily.copy()
    daily.index = pd.to_datetime(daily["day"].astype(str))
    if start is not None and end is not None:
        daily = daily.reindex(pd.date_range(str(start), str(end), freq="D"))
        for col in series:
            daily[col] = daily[col].fillna(0)
    days = daily.index
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        for i, (col, label) in enumerate(series.items()):
            ax.plot(days, daily[col].astype(float), marker="o", ms=3, lw=1.8, color=PALETTE[i % len(PALETTE)], label=label)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=10))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        if len(days) == 1:
            ax.set_xlim(days[0] - pd.Timedelta(days=1), days[0] + pd.Timedelta(days=1))
        ax.legend(loc="upper left", frameon=False)
        ax.set_title(title + " (UTC days)", loc="left")
        return _finish(fig, title)


def hour_of_day(hourly: pd.DataFrame, tz: str = "UTC", *, title: str = "Pageviews by hour of day") -> Chart:
    """Bars for hours 0-23 in ``tz`` from an ``hourly`` result (UTC hour starts), summed over the period."""
    if hourly is None or hourly.empty:
        return _empty(title)
    pattern = hourly_pattern(hourly, tz)
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        ax.bar(pattern.index, pattern["pageviews"], color=PALETTE[0], label="Pageviews")
        ax.plot(pattern.index, pattern["visitors"], color=PALETTE[1], marker="o", ms=3, lw=1.5, label="Visitors")
        ax.set_xticks(range(24))
        ax.set_xlim(-0.6, 23.6)
        ax.set_xlabel(f"hour ({tz})")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", frameon=False)
        ax.set_title(f"{title} ({tz})", loc="left")
        return _finish(fig, f"{title} ({tz})")


def hourly_pattern(hourly: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """Pageviews and visitors by hour of day (0-23) in ``tz``. Summing visitors is exact: ids are per UTC day
    and each UTC hour belongs to one day, so the sum counts each person once per day, as ``daily`` does."""
    zone = zoneinfo.ZoneInfo(tz)
    stamps = pd.to_datetime(hourly["hour"]).dt.tz_localize("UTC").dt.tz_convert(zone)
    frame = pd.DataFrame({"hour": stamps.dt.hour, "pageviews": hourly["pageviews"].astype(int),
                          "visitors": hourly["visitors"].astype(int)})
    return frame.groupby("hour")[["pageviews", "visitors"]].sum().reindex(range(24), fill_value=0)


def bars(frame: pd.DataFrame | None, label: str | None = None, value: str | None = None, *, title: str,
         top: int = 12) -> Chart:
    """Horizontal bars of ``value`` by ``label`` (default: the first text column and 'visitors' or the first
    numeric column), largest first."""
    if frame is None or frame.empty:
        return _empty(title)
    label = label or next((c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])), frame.columns[0])
    if value is None:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and c != label]
        value = "visitors" if "visitors" in frame.columns else (numeric[0] if numeric else None)
    if value is None:
        return _empty(title, "Nothing to count")
    shown = frame[[label, value]].copy()
    shown[value] = pd.to_numeric(shown[value], errors="coerce").fillna(0)
    shown = shown.sort_values(value, ascending=False).head(top).iloc[::-1]
    with matplotlib.rc_context(_RC):
        fig = _figure(9, max(1.6, 0.32 * len(shown) + 0.8))
        ax = fig.add_subplot()
        labels = [_short(v) for v in shown[label]]
        ax.barh(range(len(shown)), shown[value], color=PALETTE[0])
        ax.set_yticks(range(len(shown)), labels)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel(value.replace("_", " "))
        ax.set_title(title, loc="left")
        return _finish(fig, title)


def stacked_days(frame: pd.DataFrame | None, *, category: str, value: str, title: str,
                 colours: Mapping[str, str] | None = None) -> Chart:
    """Stacked bars per UTC day of ``value`` split by ``category`` (e.g. ``status_daily``)."""
    if frame is None or frame.empty:
        return _empty(title)
    pivot = frame.pivot_table(index="day", columns=category, values=value, aggfunc="sum", fill_value=0)
    pivot.index = pd.to_datetime(pd.Index(pivot.index).astype(str))
    colours = colours or {}
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        bottom = None
        for i, cat in enumerate(pivot.columns):
            vals = pivot[cat].astype(float)
            ax.bar(pivot.index, vals, bottom=bottom, width=0.8, label=_short(cat),
                   color=colours.get(str(cat), PALETTE[i % len(PALETTE)]))
            bottom = vals if bottom is None else bottom + vals
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", frameon=False, ncols=min(6, len(pivot.columns)))
        ax.set_title(title + " (UTC days)", loc="left")
        return _finish(fig, title)


def status_over_time(status_daily: pd.DataFrame | None) -> Chart:
    return stacked_days(status_daily, category="status_class", value="hits", title="Hits by status class",
                        colours=STATUS_COLOURS)


def latency(perf: pd.DataFrame | None, *, title: str = "CloudFront edge latency") -> Chart:
    """p50/p95 time-taken lines and the cache hit ratio per UTC day from ``cloudfront_perf``."""
    if perf is None or perf.empty:
        return _empty(title, "No CloudFront requests in this period")
    days = pd.to_datetime(perf["day"].astype(str))
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        ax.plot(days, perf["p50_ms"].astype(float), marker="o", ms=3, color=PALETTE[0], label="p50 ms")
        ax.plot(days, perf["p95_ms"].astype(float), marker="o", ms=3, color=PALETTE[3], label="p95 ms")
        ax.set_ylabel("time taken (ms)")
        ax.set_ylim(bottom=0)
        ax2 = ax.twinx()
        ax2.plot(days, 100 * perf["cache_hit_ratio"].astype(float), ls="--", color=PALETTE[2], label="cache hit %")
        ax2.set_ylim(0, 100)
        ax2.set_ylabel("cache hit ratio (%)")
        lines = ax.get_lines() + ax2.get_lines()
        ax.legend(lines, [l.get_label() for l in lines], loc="upper left", frameon=False)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(title + " (UTC days)", loc="left")
        return _finish(fig, title)


def bandwidth(frame: pd.DataFrame | None, *, title: str = "Bytes served") -> Chart:
    if frame is None or frame.empty:
        return _empty(title)
    days = pd.to_datetime(frame["day"].astype(str))
    human = (frame["bytes_sent"].astype(float) - frame["bot_bytes"].astype(float)) / 1e6
    bots = frame["bot_bytes"].astype(float) / 1e6
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        ax.bar(days, human, color=PALETTE[0], label="people (MB)")
        ax.bar(days, bots, bottom=human, color=PALETTE[7], label="bots (MB)")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", frameon=False)
        ax.set_title(title + " (UTC days)", loc="left")
        return _finish(fig, title)
