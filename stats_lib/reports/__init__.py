"""Reports: papermill-run notebooks turned into HTML pages, and the one import a notebook needs.

A notebook does::

    from stats_lib.reports import Settings, charts, display, html, open_report

    report = open_report("Overview", start, end, site, warehouse, engine, tz, out)
    report.header()

The pieces: ``open_report`` (period, site, queries: ``context``), ``html`` (escaped tables with CSV download,
KPI tiles, page header and definitions), ``charts`` (inline SVG), ``maps`` (folium, k-anonymous, offline land
and borders), ``metrics`` (period totals), ``quality`` (data-quality views), ``funnels`` (ordered steps within
sessions); ``render_report`` runs every notebook into HTML pages (``run``).
"""

from IPython.display import display

from ..config import Settings
from . import acquisition, charts, funnels, html, maps, metrics, quality
from .context import Report, open_report


def __getattr__(name: str):
    """``render_report`` is imported on first use: ``run`` needs nbformat and nbconvert, which notebooks don't."""
    if name == "render_report":
        from .run import render_report

        return render_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["Report", "Settings", "acquisition", "charts", "display", "funnels", "html", "maps", "metrics", "open_report",
           "quality", "render_report"]
