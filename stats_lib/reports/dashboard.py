"""The report's index page as a dashboard: per site, the period's KPI tiles with their change, a sparkline of
visitors, the top pages and sources, and links into each page."""

from __future__ import annotations

from dataclasses import replace

from . import acquisition, charts, html
from .context import Report

MAX_SITES = 12
TOP = 5

DESCRIPTIONS = {
    "Overview": "visitors, pageviews, sessions, bounce rate and visit duration against the previous period; "
                "daily and hourly patterns",
    "Pages": "top pages, entry and exit pages, pages not found and where their visitors came from",
    "Acquisition": "channels, referrer sources and drill-down, UTM campaigns",
    "Audience": "browsers, operating systems, devices",
    "Geography": "a map of visitors by country and place, CloudFront edge locations",
    "Technical": "status codes, bandwidth, CloudFront cache hit ratio and latency, bots",
    "Data quality": "lines ingested and rejected, failed and late files, missing salts, what each source saw",
    "Funnel": "sessions that reach a few steps in order, and where they drop off",
}


def site_card(report: Report, pages: list[tuple[str, str]]) -> str:
    """One site's card: KPI tiles, sparkline, top pages and sources, links."""
    daily = report.query("daily")
    top_pages = report.query("top_pages")
    sources = report.query("referrers", optional=True)
    channels = acquisition.external_channels(report.query("channels"))
    links = "".join(f'<li><a href="{html.esc(href)}">{html.esc(title)}</a></li>' for href, title in pages)
    name = report.site or "All sites"
    return (
        f'<section class="site-card" data-site="{html.esc(report.site or "")}">'
        f"<h2>{html.esc(name)}</h2>"
        + report.kpis(daily)
        + '<div class="spark">' + charts.sparkline(daily, report.start, report.end)._repr_html_() + "</div>"
        + '<div class="columns">'
        + html.table(None if top_pages is None else top_pages.head(TOP)[["path", "pageviews"]],
                     title="Top pages", name=f"top_pages_{report.site or 'all'}", share="pageviews")
        + html.table(None if sources is None else sources.head(TOP)[["source", "visitors"]],
                     title="Top sources", name=f"top_sources_{report.site or 'all'}",
                     empty="No external referrers in this period.")
        + html.table(None if channels is None else channels.head(TOP)[["channel", "visitors"]],
                     title="Channels", name=f"channels_{report.site or 'all'}")
        + "</div>"
        + f'<ul class="links">{links}</ul></section>'
    )


def index_body(report: Report, pages: list[tuple[str, str]]) -> str:
    """The index page: the header, one card per site (busiest first; the report's site alone when it has one),
    what each page holds, and the definitions."""
    if report.site:
        sites = [report.site]
    else:
        listed = report.query("sites")
        sites = [str(s) for s in listed["site"].head(MAX_SITES)] if listed is not None else []
    cards = [site_card(replace(report, site=site), pages) for site in sites] if sites else [
        html.note("No pageviews in this period.", title="Sites")]
    items = "".join(
        f'<li><a href="{html.esc(href)}">{html.esc(title)}</a>'
        + (f" — {html.esc(DESCRIPTIONS[title])}" if title in DESCRIPTIONS else "") + "</li>"
        for href, title in pages
    )
    return (
        report.header()
        + '<div class="sites">' + "".join(cards) + "</div>"
        + f'<h2>Pages of this report</h2><ul class="index">{items}</ul>'
        + '<p class="note">The executed notebooks in <code>notebooks/</code> beside this page are the record of '
          "this run.</p>"
        + report.footer()
    )
