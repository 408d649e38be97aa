"""Charts as inline SVG (``svg.Canvas``): vector, sized to the page, legends outside the data (an HTML list
above the picture), axis labels that stay readable at any range, and the value of every bar and point on hover
(an SVG ``<title>``, which needs no script). Labels from logs are escaped text, never markup.

Each function returns a ``Chart``, which Jupyter and nbconvert show as HTML: a wide and a narrow drawing, of
which the page's stylesheet shows the one that fits the screen.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .html import Html, esc, fmt_int
from .svg import FONT, NARROW, WIDE, Canvas, compact, date_ticks, number_ticks

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#64748b")
STATUS_COLOURS = {"2xx": "#16a34a", "3xx": "#2563eb", "4xx": "#f97316", "5xx": "#dc2626", "000": "#64748b"}
MAX_LABEL = 48
MAX_POINTS = 400  # more days than this are summed into weeks or months
HEIGHT = {WIDE: 300, NARROW: 240}


@dataclass
class Chart:
    """A rendered chart: its title, legend entries and the wide and narrow SVG drawings."""

    title: str
    wide: str
    narrow: str
    legend: list[tuple[str, str, bool]] = field(default_factory=list)  # label, colour, dashed
    note: str = ""

    def _repr_html_(self) -> str:
        items = "".join(
            f'<li><span class="swatch" style="background:{colour}' + (";opacity:.6" if dashed else "") + f'"></span>'
            f"{esc(label)}</li>" for label, colour, dashed in self.legend
        )
        legend = f'<ul class="legend">{items}</ul>' if items else ""
        note = f'<p class="note">{esc(self.note)}</p>' if self.note else ""
        return Html(f'<figure class="chart"><figcaption>{esc(self.title)}</figcaption>{legend}'
                    f"{self.wide}{self.narrow}{note}</figure>")

    def __len__(self) -> int:
        return len(self._repr_html_())


def _short(text: object) -> str:
    s = "–" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    return s if len(s) <= MAX_LABEL else s[: MAX_LABEL - 1] + "…"


def _empty(title: str, message: str = "No data for this period") -> Chart:
    drawings = []
    for width, cls in ((WIDE, "wide"), (NARROW, "narrow")):
        c = Canvas(width, 60, title)
        c.text(width / 2, 34, message, anchor="middle")
        drawings.append(c.svg(cls))
    return Chart(title, drawings[0], drawings[1])


# -- time series -------------------------------------------------------------------------------------------
@dataclass
class Series:
    label: str
    values: list[float]
    colour: str
    kind: str = "line"  # line, bar (stacked with the other bars), right (a line on the 0-100 % right axis)
    fmt: Callable[[float], str] = compact


def _buckets(days: list[dt.date], frame: pd.DataFrame, columns: Sequence[str]) -> tuple[list[tuple[dt.date, int]], pd.DataFrame, str]:
    """Days as they are, or summed into weeks or months for long ranges: (bucket start, length in days) pairs,
    the summed values and a note."""
    if len(days) <= MAX_POINTS:
        return [(d, 1) for d in days], frame, ""
    index = pd.to_datetime(pd.Series(days))
    freq, note = ("MS", "monthly sums") if len(days) > 3 * MAX_POINTS else ("W-MON", "weekly sums")
    grouped = frame.set_index(index.values)[list(columns)].resample(freq, label="left", closed="left").sum()
    starts = [max(p.date(), days[0]) for p in grouped.index]
    ends = starts[1:] + [days[-1] + dt.timedelta(days=1)]
    return [(s, (e - s).days) for s, e in zip(starts, ends)], grouped.reset_index(drop=True), note


def _time_drawing(width: int, title: str, buckets: list[tuple[dt.date, int]], series: list[Series]) -> str:
    height = HEIGHT[width]
    right_axis = any(s.kind == "right" for s in series)
    left, right, top, bottom = 46, (44 if right_axis else 14), 12, 28
    pw, ph = width - left - right, height - top - bottom
    first = buckets[0][0]
    total = (buckets[-1][0] - first).days + buckets[-1][1]
    c = Canvas(width, height, title)

    def x_of(day: dt.date, offset: float = 0.0) -> float:
        return left + pw * ((day - first).days + offset) / total

    bars = [s for s in series if s.kind == "bar"]
    lines = [s for s in series if s.kind == "line"]
    stacked = [sum(s.values[i] for s in bars) for i in range(len(buckets))] if bars else [0.0]
    top_value = max([max(stacked)] + [max(s.values) for s in lines if s.values] + [0.0])
    ticks = number_ticks(top_value, 5 if width == WIDE else 4)
    y_max = ticks[-1] or 1.0

    def y_of(value: float, scale: float = y_max) -> float:
        return top + ph - ph * (value / scale if scale else 0)

    for t in ticks:
        c.line(left, y_of(t), left + pw, y_of(t))
        c.text(left - 6, y_of(t) + 4, compact(t), anchor="end")
    if right_axis:
        for pct in (0, 25, 50, 75, 100):
            c.text(left + pw + 6, y_of(pct, 100) + 4, f"{pct}%")
    c.line(left, top + ph, left + pw, top + ph, AXIS_COLOUR)
    label_every = 8 if width == WIDE else 4
    for day, text in date_ticks(first, buckets[-1][0] + dt.timedelta(days=buckets[-1][1] - 1), label_every):
        offset = 0.5 if buckets[0][1] == 1 else 0.0
        x = x_of(day, offset)
        c.line(x, top + ph, x, top + ph + 4, AXIS_COLOUR)
        c.text(x, top + ph + 17, text, anchor="middle")
    detail = len(buckets) <= MAX_POINTS
    for i, (start, length) in enumerate(buckets):
        base = 0.0
        w = pw * length / total
        when = start.isoformat() if length == 1 else f"{start.isoformat()} ({length} days)"
        for s in bars:
            v = float(s.values[i])
            if v > 0:
                c.rect(x_of(start) + w * 0.1, y_of(base + v), w * 0.8, y_of(base) - y_of(base + v), s.colour,
                       f"{when}: {s.label} {s.fmt(v)}")
            base += v
    for s in series:
        if s.kind == "bar":
            continue
        scale = 100.0 if s.kind == "right" else y_max
        values = [100 * float(v) if s.kind == "right" else float(v) for v in s.values]
        points = [(x_of(start, length / 2), y_of(v, scale)) for (start, length), v in zip(buckets, values)]
        if len(points) == 1:
            c.dot(points[0][0], points[0][1], s.colour, f"{buckets[0][0].isoformat()}: {s.label} {s.fmt(s.values[0])}", 4)
            continue
        c.polyline(points, s.colour, 2, dash=s.kind == "right")
        if detail:
            for (x, y), (start, _), v in zip(points, buckets, s.values):
                c.dot(x, y, s.colour, f"{start.isoformat()}: {s.label} {s.fmt(float(v))}",
                      2.5 if len(points) <= 60 else 1.5)
    return c.svg("wide" if width == WIDE else "narrow")


AXIS_COLOUR = "#94a3b8"


def _time_chart(title: str, days: list[dt.date], frame: pd.DataFrame, spec: Sequence[tuple],
                note: str = "") -> Chart:
    """A chart over consecutive days; ``spec``: (column, label, kind, value format) in drawing order."""
    buckets, summed, bucket_note = _buckets(days, frame, [col for col, *_ in spec])
    series = [Series(entry[1], [float(v) for v in summed[entry[0]]],
                     entry[4] if len(entry) > 4 else PALETTE[i % len(PALETTE)], entry[2], entry[3])
              for i, entry in enumerate(spec)]
    legend = [(s.label + (" (right axis, %)" if s.kind == "right" else ""), s.colour, s.kind == "right") for s in series]
    notes = " ".join(n for n in (note, f"Shown as {bucket_note}." if bucket_note else "") if n)
    return Chart(title, _time_drawing(WIDE, title, buckets, series), _time_drawing(NARROW, title, buckets, series),
                 legend, notes)


def _daily_frame(frame: pd.DataFrame, columns: Sequence[str], start=None, end=None) -> tuple[list[dt.date], pd.DataFrame]:
    """The frame indexed by every UTC day from ``start`` (or its first day) to ``end``; missing days are 0."""
    daily = frame.copy()
    daily.index = pd.to_datetime(daily["day"].astype(str))
    first = pd.Timestamp(str(start)) if start is not None else daily.index.min()
    last = pd.Timestamp(str(end)) if end is not None else daily.index.max()
    daily = daily[~daily.index.duplicated()].reindex(pd.date_range(first, last, freq="D"))
    for col in columns:
        daily[col] = pd.to_numeric(daily[col], errors="coerce").fillna(0).astype(float)
    return [d.date() for d in daily.index], daily.reset_index(drop=True)


def daily_lines(daily: pd.DataFrame | None, start=None, end=None, series: Mapping[str, str] | None = None, *,
                title: str = "Daily pageviews and visitors") -> Chart:
    """Lines over the UTC days of a ``daily`` result (default: pageviews and visitors); days of ``start..end``
    without data are drawn as 0."""
    series = series or {"pageviews": "Pageviews", "visitors": "Visitors"}
    title = title + " (UTC days)"
    if daily is None or daily.empty:
        return _empty(title)
    days, frame = _daily_frame(daily, list(series), start, end)
    return _time_chart(title, days, frame, [(col, label, "line", fmt_int) for col, label in series.items()])


def sparkline(daily: pd.DataFrame | None, start=None, end=None, column: str = "visitors", *,
              title: str = "Visitors per day") -> Chart:
    """A small line of one ``daily`` column over the period, for the dashboard."""
    if daily is None or daily.empty:
        return _empty(title)
    days, frame = _daily_frame(daily, [column], start, end)
    drawings = []
    for width, cls in ((WIDE, "wide"), (NARROW, "narrow")):
        height = 70
        c = Canvas(width, height, title)
        values = [float(v) for v in frame[column]]
        top = max(values) or 1.0
        step = (width - 8) / max(len(values) - 1, 1)
        points = [(4 + i * step, height - 18 - (height - 26) * v / top) for i, v in enumerate(values)]
        if len(points) > 1:
            c.polyline(points, PALETTE[0], 2)
        for (x, y), d, v in zip(points, days, values):
            c.dot(x, y, PALETTE[0], f"{d.isoformat()}: {fmt_int(v)} {column}", 2.5 if len(points) <= 60 else 1.2)
        c.text(4, height - 3, days[0].isoformat(), size=FONT - 1)
        c.text(width - 4, height - 3, days[-1].isoformat(), anchor="end", size=FONT - 1)
        drawings.append(c.svg(cls))
    return Chart(title, drawings[0], drawings[1])


def stacked_days(frame: pd.DataFrame | None, *, category: str, value: str, title: str,
                 colours: Mapping[str, str] | None = None) -> Chart:
    """Stacked bars per UTC day of ``value`` split by ``category`` (e.g. ``status_daily``)."""
    title = title + " (UTC days)"
    if frame is None or frame.empty:
        return _empty(title)
    pivot = frame.pivot_table(index="day", columns=category, values=value, aggfunc="sum", fill_value=0)
    pivot.columns = [str(c) for c in pivot.columns]
    wide = pivot.reset_index()
    days, data = _daily_frame(wide, list(pivot.columns))
    colours = colours or {}
    spec = [(c, _short(c), "bar", fmt_int, colours.get(c, PALETTE[i % len(PALETTE)]))
            for i, c in enumerate(pivot.columns)]
    return _time_chart(title, days, data, spec)


def status_over_time(status_daily: pd.DataFrame | None) -> Chart:
    return stacked_days(status_daily, category="status_class", value="hits", title="Hits by status class",
                        colours=STATUS_COLOURS)


def latency(perf: pd.DataFrame | None, *, title: str = "CloudFront edge latency") -> Chart:
    """p50/p95 time-taken lines (ms) and the cache hit ratio (right axis, %) per UTC day from ``cloudfront_perf``."""
    title = title + " (UTC days)"
    if perf is None or perf.empty:
        return _empty(title, "No CloudFront requests in this period")
    days, frame = _daily_frame(perf, ["p50_ms", "p95_ms", "cache_hit_ratio"])
    ms = lambda v: f"{v:,.0f} ms"  # noqa: E731
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    return _time_chart(title, days, frame, [
        ("p50_ms", "Median time taken (ms)", "line", ms, PALETTE[0]),
        ("p95_ms", "95th percentile time taken (ms)", "line", ms, PALETTE[3]),
        ("cache_hit_ratio", "Cache hit ratio", "right", pct, PALETTE[2]),
    ])


def bandwidth(frame: pd.DataFrame | None, *, title: str = "Bytes served") -> Chart:
    title = title + " (UTC days)"
    if frame is None or frame.empty:
        return _empty(title)
    data = frame.copy()
    data["people_mb"] = (pd.to_numeric(data["bytes_sent"]) - pd.to_numeric(data["bot_bytes"])) / 1e6
    data["bots_mb"] = pd.to_numeric(data["bot_bytes"]) / 1e6
    days, data = _daily_frame(data, ["people_mb", "bots_mb"])
    mb = lambda v: f"{v:,.1f} MB"  # noqa: E731
    return _time_chart(title, days, data, [("people_mb", "People (MB)", "bar", mb, PALETTE[0]),
                                           ("bots_mb", "Bots (MB)", "bar", mb, PALETTE[7])])


# -- hours and categories ----------------------------------------------------------------------------------
def hourly_pattern(hourly: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """Pageviews and visitors by hour of day (0-23) in ``tz``. Summing visitors is exact: ids are per UTC day
    and each UTC hour belongs to one day, so the sum counts each person once per day, as ``daily`` does."""
    zone = zoneinfo.ZoneInfo(tz)
    stamps = pd.to_datetime(hourly["hour"]).dt.tz_localize("UTC").dt.tz_convert(zone)
    frame = pd.DataFrame({"hour": stamps.dt.hour, "pageviews": hourly["pageviews"].astype(int),
                          "visitors": hourly["visitors"].astype(int)})
    return frame.groupby("hour")[["pageviews", "visitors"]].sum().reindex(range(24), fill_value=0)


def _hours_drawing(width: int, title: str, pattern: pd.DataFrame, tz: str) -> str:
    height = HEIGHT[width]
    left, right, top, bottom = 46, 10, 12, 30
    pw, ph = width - left - right, height - top - bottom
    c = Canvas(width, height, title)
    top_value = float(max(pattern["pageviews"].max(), pattern["visitors"].max(), 0))
    ticks = number_ticks(top_value, 5 if width == WIDE else 4)
    y_max = ticks[-1] or 1.0
    band = pw / 24
    y_of = lambda v: top + ph - ph * v / y_max  # noqa: E731
    for t in ticks:
        c.line(left, y_of(t), left + pw, y_of(t))
        c.text(left - 6, y_of(t) + 4, compact(t), anchor="end")
    every = 1 if width == WIDE else 3
    points = []
    for hour in range(24):
        pv, vis = float(pattern.loc[hour, "pageviews"]), float(pattern.loc[hour, "visitors"])
        x = left + band * hour
        c.rect(x + band * 0.12, y_of(pv), band * 0.76, y_of(0) - y_of(pv), PALETTE[0],
               f"{hour:02d}:00–{hour:02d}:59 {tz}: {fmt_int(pv)} pageviews, {fmt_int(vis)} visitors")
        points.append((x + band / 2, y_of(vis)))
        if hour % every == 0:
            c.text(x + band / 2, top + ph + 16, f"{hour:02d}", anchor="middle")
    c.polyline(points, PALETTE[1], 2)
    for hour, (x, y) in enumerate(points):
        c.dot(x, y, PALETTE[1], f"{hour:02d}:00 {tz}: {fmt_int(pattern.loc[hour, 'visitors'])} visitors")
    c.text(left + pw, height - 2, f"hour of day ({tz})", anchor="end", size=FONT - 1)
    return c.svg("wide" if width == WIDE else "narrow")


def hour_of_day(hourly: pd.DataFrame | None, tz: str = "UTC", *, title: str = "Pageviews by hour of day") -> Chart:
    """Bars for hours 0-23 in ``tz`` from an ``hourly`` result (UTC hour starts), summed over the period."""
    title = f"{title} ({tz})"
    if hourly is None or hourly.empty:
        return _empty(title)
    pattern = hourly_pattern(hourly, tz)
    legend = [("Pageviews", PALETTE[0], False), ("Visitors", PALETTE[1], False)]
    return Chart(title, _hours_drawing(WIDE, title, pattern, tz), _hours_drawing(NARROW, title, pattern, tz), legend)


def _bars_drawing(width: int, title: str, labels: list[str], values: list[float], unit: str, colour: str,
                  extra: list[str] | None = None) -> str:
    narrow = width == NARROW
    row = 34 if narrow else 24
    label_w = 0 if narrow else 300
    value_w = 90
    top = 6
    height = top + row * len(labels) + 6
    c = Canvas(width, height, title)
    top_value = max(values + [0.0]) or 1.0
    bar_w = width - label_w - value_w - 8
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * row
        text = _short(label)
        if narrow:
            c.text(0, y + 12, text, colour="#0f172a")
            bar_y, bar_h = y + 16, 12
        else:
            c.text(label_w - 8, y + 16, text if len(text) <= 40 else text[:39] + "…", anchor="end", colour="#0f172a")
            bar_y, bar_h = y + 5, 15
        length = bar_w * value / top_value
        tip = f"{label}: {fmt_int(value)} {unit}" + (f" ({extra[i]})" if extra else "")
        c.rect(label_w, bar_y, max(length, 1), bar_h, colour, tip)
        shown = fmt_int(value) + (f" · {extra[i]}" if extra else "")
        c.text(label_w + max(length, 1) + 6, bar_y + bar_h - 2, shown, colour="#334155")
    return c.svg("narrow" if narrow else "wide")


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
    shown = shown.sort_values(value, ascending=False).head(top)
    labels = ["–" if pd.isna(v) else str(v) for v in shown[label]]
    values = [float(v) for v in shown[value]]
    unit = value.replace("_", " ")
    return Chart(title, _bars_drawing(WIDE, title, labels, values, unit, PALETTE[0]),
                 _bars_drawing(NARROW, title, labels, values, unit, PALETTE[0]))


def funnel(steps: pd.DataFrame | None, *, title: str = "Funnel: sessions reaching each step") -> Chart:
    """Bars of sessions per funnel step (a ``funnel`` result), with each step's share of the first."""
    if steps is None or steps.empty:
        return _empty(title, "No funnel steps")
    labels = [f"{int(r.step)}. {r.name}" for r in steps.itertuples(index=False)]
    values = [float(v) for v in steps["sessions"]]
    first = values[0] or 1.0
    extra = [f"{100 * v / first:.1f}% of step 1" for v in values]
    return Chart(title, _bars_drawing(WIDE, title, labels, values, "sessions", PALETTE[2], extra),
                 _bars_drawing(NARROW, title, labels, values, "sessions", PALETTE[2], extra))
