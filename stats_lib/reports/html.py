"""Escaped HTML for report outputs: tables, KPI tiles, notes, page header and metric definitions.

Every value that can come from a log (paths, referrers, user agents, campaign names, cities) goes through
``esc``; nothing here emits a link or a script built from data. Each builder returns ``Html``, a ``str`` that
Jupyter displays as HTML.
"""

from __future__ import annotations

import datetime as dt
import html as _html
import math
from collections.abc import Callable, Mapping

import pandas as pd

DBIP_ATTRIBUTION = "IP geolocation by DB-IP (CC BY 4.0)"

DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Hit", "one stored event: one parsed log line or one accepted collector event, bots included."),
    ("Bot", "a user agent that is empty, names a crawler, spider, monitor, preview service or scanner, or is an "
            "HTTP library or command-line client."),
    ("Pageview", "a hit that is not a bot, with method GET and status 200 or 304, whose response is a page "
                 "(content type text/html where the log records it, otherwise a path ending in /, .html or .htm, "
                 "or without a file extension); or a collector event named pageview."),
    ("Visitor", "a distinct visitor id among the pageviews. Ids are a keyed hash of a random daily salt, the site, "
                "the IP address and the user agent; salts are deleted after a few days, so a person seen on two "
                "days counts once per day and visitors over a period are the sum of the days' visitors."),
    ("Session", "one visitor's pageviews of a UTC day in time order, split wherever two pageviews are more than "
                "30 minutes apart."),
    ("Bounce rate", "sessions with exactly one pageview divided by sessions."),
    ("Visit duration", "the mean over sessions of the time between the first and the last pageview (a one-page "
                       "session lasts 0 s)."),
    ("Days", "UTC days; the period is inclusive. Hours may be shown in another time zone, as stated."),
    ("Change", "the figure against the previous period of the same length, which ends the day before this one "
               "starts."),
)


class Html(str):
    """A string of HTML that Jupyter (and nbconvert) display as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def esc(value: object) -> str:
    """Text for HTML: missing values as an en dash, everything else escaped (quotes included)."""
    if value is None or value is pd.NaT:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    try:
        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    return _html.escape(str(value), quote=True)


# -- number formats ---------------------------------------------------------------------------------------
def fmt_int(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{int(round(float(v))):,}"


def fmt_pct(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * float(v):.1f}%"


def fmt_duration(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    seconds = int(round(float(v)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_bytes(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    size = float(v)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def fmt_float(v: object, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v):,.{digits}f}"


def _auto_format(series: pd.Series) -> Callable[[object], str]:
    name = str(series.name or "").lower()
    if name.endswith("_rate") or name.endswith("_ratio") or name == "share":
        return fmt_pct
    if "duration" in name:
        return fmt_duration
    if "bytes" in name:
        return fmt_bytes
    if pd.api.types.is_bool_dtype(series):
        return lambda v: "yes" if v is True or v == 1 else ("no" if v is False or v == 0 else "–")
    if pd.api.types.is_integer_dtype(series):
        return fmt_int
    if pd.api.types.is_float_dtype(series):
        if name.endswith("_ms"):
            return lambda v: fmt_float(v, 0)
        if name in ("latitude", "longitude"):
            return lambda v: fmt_float(v, 2)
        return lambda v: fmt_int(v) if v is not None and not pd.isna(v) and float(v).is_integer() else fmt_float(v, 2)
    if pd.api.types.is_datetime64_any_dtype(series):
        return lambda v: "–" if pd.isna(v) else pd.Timestamp(v).isoformat(sep=" ")
    return esc


def _label(column: str) -> str:
    return column.replace("_", " ").capitalize()


def table(
    frame: pd.DataFrame | None,
    *,
    title: str | None = None,
    columns: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[object], str]] | None = None,
    max_rows: int = 50,
    empty: str = "No data for this period.",
    name: str | None = None,
) -> Html:
    """An escaped HTML table of ``frame`` (all columns, or ``columns`` {column: label}); numbers right-aligned.

    ``frame=None`` means the query is not available here (see ``Report.query(optional=True)``)."""
    parts = ['<section class="block"' + (f' data-table="{esc(name)}"' if name else "") + ">"]
    if title:
        parts.append(f"<h2>{esc(title)}</h2>")
    if frame is None:
        parts.append(f'<p class="note">{esc("Not available for this warehouse or engine.")}</p></section>')
        return Html("".join(parts))
    if frame.empty:
        parts.append(f'<p class="note">{esc(empty)}</p></section>')
        return Html("".join(parts))
    columns = dict(columns) if columns else {c: _label(str(c)) for c in frame.columns}
    formats = dict(formats or {})
    shown = frame.head(max_rows)
    fmts = {c: formats.get(c) or _auto_format(frame[c]) for c in columns}
    numeric = {c for c in columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])}
    parts.append('<table class="data"><thead><tr>')
    for c, label in columns.items():
        cls = ' class="num"' if c in numeric else ""
        parts.append(f'<th{cls} scope="col">{esc(label)}</th>')
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False, name=None):
        values = dict(zip(frame.columns, row))
        parts.append("<tr>")
        for c in columns:
            text = fmts[c](values[c])
            if fmts[c] is not esc and text != "–":  # formatted numbers and dates: escaped all the same
                text = esc(text)
            cls = ' class="num"' if c in numeric else ""
            parts.append(f'<td{cls} data-col="{esc(c)}">{text}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if len(frame) > max_rows:
        parts.append(f'<p class="note">Showing {max_rows:,} of {len(frame):,} rows.</p>')
    parts.append("</section>")
    return Html("".join(parts))


def note(text: str, *, title: str | None = None) -> Html:
    head = f"<h2>{esc(title)}</h2>" if title else ""
    return Html(f'<section class="block">{head}<p class="note">{esc(text)}</p></section>')


def heading(text: str) -> Html:
    return Html(f"<h2>{esc(text)}</h2>")


# -- KPI tiles ----------------------------------------------------------------------------------------------
def change_text(current: float, previous: float, *, kind: str = "relative") -> tuple[str, str]:
    """('+12.5%', 'up') style text and direction of ``current`` against ``previous``."""
    if current is None or previous is None or (isinstance(previous, float) and math.isnan(previous)):
        return "–", "flat"
    if kind == "points":  # rates: the difference in percentage points
        diff = 100 * (float(current) - float(previous))
        if abs(diff) < 0.05:
            return "±0.0 pp", "flat"
        return f"{diff:+.1f} pp", "up" if diff > 0 else "down"
    if float(previous) == 0:
        return ("new", "up") if float(current) > 0 else ("±0%", "flat")
    rel = (float(current) - float(previous)) / float(previous)
    if abs(rel) < 0.0005:
        return "±0%", "flat"
    return f"{100 * rel:+.1f}%", "up" if rel > 0 else "down"


KPI_TILES: tuple[tuple[str, str, Callable[[object], str], str, bool], ...] = (
    # key, label, format, change kind, higher is better
    ("visitors", "Visitors", fmt_int, "relative", True),
    ("pageviews", "Pageviews", fmt_int, "relative", True),
    ("sessions", "Sessions", fmt_int, "relative", True),
    ("bounce_rate", "Bounce rate", fmt_pct, "points", False),
    ("avg_visit_duration", "Visit duration", fmt_duration, "relative", True),
)


def kpi_tiles(current: Mapping[str, float], previous: Mapping[str, float], *, previous_label: str = "") -> Html:
    """KPI tiles from two ``metrics.period_totals`` dicts; each tile carries its exact value in data-value."""
    parts = ['<section class="block kpis">']
    for key, label, fmt, kind, higher_better in KPI_TILES:
        cur, prev = current.get(key), previous.get(key)
        text, direction = change_text(cur, prev, kind=kind)
        good = "neutral" if direction == "flat" else ("good" if (direction == "up") == higher_better else "bad")
        parts.append(
            f'<div class="kpi" data-kpi="{esc(key)}" data-value="{esc(cur)}" data-previous="{esc(prev)}">'
            f'<div class="kpi-label">{esc(label)}</div>'
            f'<div class="kpi-value">{esc(fmt(cur))}</div>'
            f'<div class="kpi-change {good}" title="{esc("previous period: " + fmt(prev))}">{esc(text)}'
            f'<span class="kpi-prev"> vs {esc(fmt(prev))}</span></div>'
            "</div>"
        )
    parts.append("</section>")
    if previous_label:
        parts.append(f'<p class="note">Changes compare with the previous period, {esc(previous_label)}.</p>')
    return Html("".join(parts))


# -- page furniture -----------------------------------------------------------------------------------------
def header(
    title: str,
    *,
    start: dt.date,
    end: dt.date,
    site: str | None,
    tz: str,
    generated: dt.datetime,
    engine: str,
) -> Html:
    days = (end - start).days + 1
    generated_utc = generated.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Html(
        '<header class="report-header">'
        f"<h1>{esc(title)}</h1>"
        '<dl class="meta">'
        f'<dt>Period</dt><dd data-meta="period">{esc(start.isoformat())} to {esc(end.isoformat())} '
        f"({days} UTC day{'s' if days != 1 else ''})</dd>"
        f'<dt>Site</dt><dd data-meta="site">{esc(site or "all sites")}</dd>'
        f'<dt>Time zone</dt><dd data-meta="tz">{esc(tz)} (days are UTC)</dd>'
        f'<dt>Generated</dt><dd data-meta="generated">{esc(generated_utc)} ({esc(engine)})</dd>'
        "</dl></header>"
    )


def definitions(*, geo: bool = False) -> Html:
    rows = "".join(f"<dt>{esc(term)}</dt><dd>{esc(text)}</dd>" for term, text in DEFINITIONS)
    extra = ""
    if geo:
        extra = (
            f'<p class="attribution">{esc(DBIP_ATTRIBUTION)}. Locations come from the full IP address at ingest '
            "time; only an anonymised prefix is stored.</p>"
        )
    return Html(f'<footer class="definitions"><h2>Metric definitions</h2><dl>{rows}</dl>{extra}</footer>')
