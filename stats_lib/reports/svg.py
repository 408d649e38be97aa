"""A small SVG drawing kit for the report charts: scales, readable ticks for numbers and dates at any range,
and escaped text. Every string drawn goes through ``html.esc`` (which also neutralises control and bidi
characters), so a label from a log is text in the picture, never markup.

Charts are drawn twice, for a wide page (960 units across) and for a phone (400 units), and the page shows the
one that fits: text stays about 12 px high either way instead of shrinking with the picture.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from .html import esc

WIDE = 960
NARROW = 400
FONT = 12
AXIS = "#64748b"
GRID = "#e2e8f0"


def nice_step(span: float, count: int) -> float:
    """A 1, 2 or 5 times a power of ten step that cuts ``span`` into at most about ``count`` pieces."""
    if span <= 0:
        return 1.0
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def number_ticks(top: float, count: int = 5) -> list[float]:
    """Ticks from 0 to at least ``top``."""
    step = nice_step(top if top > 0 else 1, count)
    n = max(1, math.ceil((top if top > 0 else 1) / step - 1e-9))
    return [i * step for i in range(n + 1)]


def compact(value: float) -> str:
    """1234 -> '1.2k', 5_600_000 -> '5.6M', 0.5 -> '0.5'."""
    v = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def date_ticks(first: dt.date, last: dt.date, count: int) -> list[tuple[dt.date, str]]:
    """At most about ``count`` ticks between two days, labelled for the range: days ('Mar 2'), months
    ('Mar 2026', the year shown at January and on the first tick) or years ('2026')."""
    span = (last - first).days
    for step in (1, 2, 7, 14):
        if span // step + 1 <= count:
            ticks = [first + dt.timedelta(days=i) for i in range(0, span + 1, step)]
            multi_year = first.year != last.year
            return [(d, f"{_MONTHS[d.month - 1]} {d.day}" + (f" {d.year}" if multi_year and (i == 0 or d.month == 1 and d.day <= step) else ""))
                    for i, d in enumerate(ticks)]
    for months in (1, 2, 3, 6):
        start = _add_months(first.replace(day=1), 0 if first.day == 1 else 1)
        ticks = []
        d = start
        while d <= last:
            ticks.append(d)
            d = _add_months(d, months)
        if len(ticks) <= count:
            return [(d, _MONTHS[d.month - 1] + (f" {d.year}" if i == 0 or d.month <= months else ""))
                    for i, d in enumerate(ticks)]
    for years in (1, 2, 5, 10, 20, 50, 100):
        y0 = first.year + (0 if (first.month, first.day) == (1, 1) else 1)
        y0 = y0 + (-y0) % years
        ticks = [dt.date(y, 1, 1) for y in range(y0, last.year + 1, years)]
        if len(ticks) <= count:
            return [(d, str(d.year)) for d in ticks]
    return [(first, str(first.year)), (last, str(last.year))]


@dataclass
class Canvas:
    """One SVG picture being drawn: a list of elements inside a viewBox of ``width`` x ``height``."""

    width: int
    height: int
    label: str
    parts: list[str] = field(default_factory=list)

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, *, anchor: str = "start", size: int = FONT, colour: str = AXIS,
             weight: str = "normal") -> None:
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{colour}"'
                 + (f' font-weight="{weight}"' if weight != "normal" else "") + f">{esc(text)}</text>")

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str = GRID, width: float = 1) -> None:
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                 f'stroke-width="{width}"/>')

    def rect(self, x: float, y: float, w: float, h: float, colour: str, tip: str | None = None,
             opacity: float | None = None) -> None:
        fill = f' fill-opacity="{opacity}"' if opacity is not None else ""
        body = f"<title>{esc(tip)}</title>" if tip else ""
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{colour}"'
                 f"{fill}>{body}</rect>")

    def polyline(self, points: list[tuple[float, float]], colour: str, width: float = 2, dash: bool = False) -> None:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        extra = ' stroke-dasharray="5 4"' if dash else ""
        self.add(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="{width}" '
                 f'stroke-linejoin="round"{extra}/>')

    def dot(self, x: float, y: float, colour: str, tip: str, radius: float = 2.5) -> None:
        self.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}"><title>{esc(tip)}</title></circle>')

    def svg(self, cls: str) -> str:
        return (f'<svg class="{cls}" viewBox="0 0 {self.width} {self.height}" role="img" '
                f'aria-label="{esc(self.label)}" xmlns="http://www.w3.org/2000/svg" '
                f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
                + "".join(self.parts) + "</svg>")
