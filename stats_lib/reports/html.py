"""Escaped HTML for report outputs: tables, KPI tiles, notes, page header and metric definitions.

Every value that can come from a log (paths, referrers, user agents, campaign names, cities) goes through
``esc``; nothing here emits a link or a script built from data. Each builder returns ``Html``, a ``str`` that
Jupyter displays as HTML.
"""

from __future__ import annotations

import csv
import datetime as dt
import html as _html
import io
import math
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pandas as pd

from ..display import csv_cell, safe_text

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
    """Text for HTML: missing values as an en dash, control and bidi characters shown as visible escapes
    (``display.safe_text``), everything else escaped (quotes included)."""
    if value is None or value is pd.NaT:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    try:
        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    return _html.escape(safe_text(str(value)), quote=True)


# -- number formats ---------------------------------------------------------------------------------------
def fmt_int(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{int(round(float(v))):,}"


def fmt_pct(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * float(v):.1f}%"


def fmt_duration(v: Any) -> str:
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


def fmt_bytes(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    size = float(v)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def fmt_float(v: Any, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v):,.{digits}f}"


def _auto_format(series: pd.Series) -> Callable[[Any], str]:
    name = str(series.name or "").lower()
    if name.endswith("_rate") or name.endswith("_ratio") or name in ("share", "conversion"):
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


# Column headers people read; other names get their words capitalised, with the usual acronyms.
LABELS: dict[str, str] = {
    "utm_source": "Source", "utm_medium": "Medium", "utm_campaign": "Campaign", "utm_term": "Term",
    "utm_content": "Content", "p50_ms": "Median time (ms)", "p95_ms": "95th percentile (ms)",
    "cache_hit_ratio": "Cache hit ratio", "avg_visit_duration": "Visit duration", "bot_hits": "Bot hits",
    "bot_bytes": "Bot bytes", "bytes_sent": "Bytes sent", "status_class": "Status class",
    "referrer_host": "Referrer", "referrer_source": "Source", "referrer_page": "Referring page",
    "landing_page": "Landing page", "first_day": "First day", "last_day": "Last day", "ingested_at": "Ingested at",
    "peak_day_visitors": "Most visitors on one day", "edge_city": "Edge location", "top_referrer": "Top referrer",
}
_ACRONYMS = {"utm": "UTM", "url": "URL", "ip": "IP", "os": "OS", "ua": "user agent", "ms": "(ms)", "id": "ID",
             "http": "HTTP", "cdn": "CDN"}
# What a status code means, for the codes a report shows most; others get Python's HTTPStatus phrase.
STATUS_MEANINGS: dict[int, str] = {
    0: "no response: the client went away (or the connection failed) before one was sent",
    200: "OK", 206: "partial content (a range of a file)", 301: "moved permanently (redirect)",
    302: "found (temporary redirect)", 304: "not modified: the browser's cached copy is still good",
    403: "forbidden", 404: "not found", 499: "the client closed the connection first",
}
MAX_CELL = 32  # characters of a text cell shown; the full value is its tooltip (and in the CSV)
MAX_CSV_ROWS = 10_000
_SHARE_OF = ("visitors", "pageviews", "hits")
_DATE_NAMES = ("day", "date", "first_day", "last_day", "ingested_at", "hour", "started_at")


def _label(column: str) -> str:
    if column in LABELS:
        return LABELS[column]
    words = [_ACRONYMS.get(w, w) for w in column.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def status_meaning(code: object) -> str:
    """Plain words for an HTTP status code (0: the client went away before a response)."""
    try:
        number = int(code)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "–"
    if number in STATUS_MEANINGS:
        return STATUS_MEANINGS[number]
    try:
        return HTTPStatus(number).phrase.lower()
    except ValueError:
        return "non-standard code"


def shorten(text: str, limit: int = MAX_CELL) -> str:
    """``text`` cut in the middle to ``limit`` characters (start and end kept, joined by '…')."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def csv_href(frame: pd.DataFrame) -> str:
    """A data: URI holding ``frame`` as CSV (UTF-8), every text cell formula-guarded and neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_cell(str(c)) for c in frame.columns])
    for row in frame.head(MAX_CSV_ROWS).itertuples(index=False, name=None):
        writer.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v)) else csv_cell(v) for v in row])
    return "data:text/csv;charset=utf-8," + quote(buf.getvalue(), safe="")


def _text_cell(value: str) -> str:
    """A text cell's HTML: words longer than ``MAX_CELL`` shortened (the full value is the tooltip), and every
    word kept on one line (browsers would otherwise break '/blog/first-post' after its hyphen)."""
    words = value.split()
    long = any(len(w) > MAX_CELL for w in words) or len(value) > 3 * MAX_CELL
    shown = [shorten(w) for w in words] if long else words
    if len(value) > 3 * MAX_CELL:
        shown = shorten(" ".join(shown), 3 * MAX_CELL).split()
    body = " ".join(f'<span class="w">{esc(w)}</span>' if any(ch in w for ch in "-/?&=.") else esc(w) for w in shown)
    return f'<span title="{esc(value)}">{body}</span>' if long else body


def _is_date_column(name: str, series: pd.Series) -> bool:
    return name in _DATE_NAMES or pd.api.types.is_datetime64_any_dtype(series)


def _with_extras(frame: pd.DataFrame, share: str | None) -> tuple[pd.DataFrame, str | None]:
    """The frame with a 'meaning' column beside 'status' and a share-of-total column when it lists things."""
    frame = frame.copy()
    if "status" in frame.columns and "meaning" not in frame.columns and pd.api.types.is_numeric_dtype(frame["status"]):
        frame.insert(list(frame.columns).index("status") + 1, "meaning", [status_meaning(v) for v in frame["status"]])
    first = frame.columns[0]
    if share is None and not _is_date_column(str(first), frame[first]) and \
            not pd.api.types.is_numeric_dtype(frame[first]):
        share = next((c for c in _SHARE_OF if c in frame.columns), None)
    if share and share in frame.columns and "share" not in frame.columns:
        values = pd.to_numeric(frame[share], errors="coerce").fillna(0)
        total = float(values.sum())
        frame["share"] = values / total if total else 0.0
    else:
        share = None
    return frame, share


def table(
    frame: pd.DataFrame | None,
    *,
    title: str | None = None,
    columns: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[object], str]] | None = None,
    max_rows: int = 50,
    empty: str = "No data for this period.",
    name: str | None = None,
    share: str | None = None,
) -> Html:
    """An escaped HTML table of ``frame`` (all columns, or ``columns`` {column: label}) with human headers,
    numbers right-aligned and never wrapped, long text shortened (full value on hover), a share-of-total column
    for lists (of ``share``, default the first of visitors/pageviews/hits), status codes explained, and a link
    that downloads the whole table as CSV.

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
    raw = frame
    frame, share_of = _with_extras(frame, share)
    if columns:
        columns = dict(columns)
        for extra in ("meaning", "share"):
            if extra in frame.columns and extra not in columns:
                columns[extra] = _label(extra) if extra != "share" else f"Share of {share_of}"
    else:
        columns = {c: (f"Share of {share_of}" if c == "share" else _label(str(c))) for c in frame.columns}
    formats = dict(formats or {})
    shown = frame.head(max_rows)
    fmts = {c: formats.get(c) or _auto_format(frame[c]) for c in columns}
    numeric = {c for c in columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])}
    dates = {c for c in columns if _is_date_column(str(c), frame[c])}
    parts.append('<div class="table-wrap"><table class="data"><thead><tr>')
    for c, label in columns.items():
        cls = ' class="num"' if c in numeric else ""
        parts.append(f'<th{cls} scope="col">{esc(label)}</th>')
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False, name=None):
        values = dict(zip(frame.columns, row))
        parts.append("<tr>")
        for c in columns:
            value = values[c]
            cls = ' class="num"' if c in numeric else (' class="date"' if c in dates else "")
            if c == "share":
                pct = 0.0 if pd.isna(value) else float(value)
                text = (f'<span class="bar" style="width:{max(1, round(40 * pct))}px"></span>{esc(fmt_pct(pct))}')
                cls = ' class="share"'
            elif fmts[c] is esc and isinstance(value, str):
                text = _text_cell(value)
            else:
                text = fmts[c](value)
                if fmts[c] is not esc and text != "–":  # formatted numbers and dates: escaped all the same
                    text = esc(text)
            parts.append(f'<td{cls} data-col="{esc(c)}">{text}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    tools = []
    if len(frame) > max_rows:
        tools.append(f"Showing {max_rows:,} of {len(frame):,} rows.")
    filename = f"{name or 'table'}.csv"
    tools.append(f'<a class="csv" download="{esc(filename)}" href="{csv_href(raw)}">Download CSV'
                 + (f" (all {len(raw):,} rows)" if len(raw) > max_rows else "") + "</a>")
    parts.append(f'<p class="table-tools note">{" ".join(tools)}</p>')
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


def kpi_tiles(current: Mapping[str, float], previous: Mapping[str, float], *, previous_label: str = "",
              since: dt.date | None = None) -> Html:
    """KPI tiles from two ``metrics.period_totals`` dicts; each tile carries its exact value in data-value.

    When the previous period has no data at all (``previous["days"] == 0``) the tiles say so ("no data before
    ``since``") instead of comparing with zeros."""
    no_previous = not previous.get("days")
    parts = ['<section class="block kpis">']
    for key, label, fmt, kind, higher_better in KPI_TILES:
        cur, prev = current.get(key, 0.0), previous.get(key, 0.0)
        if no_previous:
            change = (f'<div class="kpi-change neutral">no data before {esc(since.isoformat())}</div>' if since
                      else '<div class="kpi-change neutral">no earlier data</div>')
        else:
            text, direction = change_text(cur, prev, kind=kind)
            good = "neutral" if direction == "flat" else ("good" if (direction == "up") == higher_better else "bad")
            change = (f'<div class="kpi-change {good}" title="{esc("previous period: " + fmt(prev))}">{esc(text)}'
                      f'<span class="kpi-prev"> vs {esc(fmt(prev))}</span></div>')
        parts.append(
            f'<div class="kpi" data-kpi="{esc(key)}" data-value="{esc(cur)}" '
            f'data-previous="{esc(None if no_previous else prev)}">'
            f'<div class="kpi-label">{esc(label)}</div>'
            f'<div class="kpi-value">{esc(fmt(cur))}</div>{change}</div>'
        )
    parts.append("</section>")
    if no_previous:
        parts.append(f'<p class="note">No data before {esc(since.isoformat() if since else "this period")}: '
                     "there is nothing to compare with.</p>")
    elif previous_label:
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
