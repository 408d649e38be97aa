"""``render_report``: execute every report notebook with papermill, then write HTML pages without code cells.

    out/
      index.html                 links to every page, with the period, site, time zone and generation time
      01-overview.html ...       one page per notebook (nbconvert, inputs excluded), with a strict CSP
      map.html, assets/          the geography notebook's map page and the Leaflet files it loads
      notebooks/*.ipynb          the executed notebooks: the audit record of the run
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path

import nbformat

from ..config import REPO_ROOT, Settings
from . import csp
from .assets import copy_assets
from .context import check_tz, resolve_period
from .html import DEFINITIONS, esc

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
KERNEL_NAME = "python3"
CELL_TIMEOUT = 600

STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a; margin: 0;
       background: #f8fafc; }
nav.pages { background: #0f172a; padding: .6rem 1.2rem; display: flex; flex-wrap: wrap; gap: .9rem; }
nav.pages a { color: #e2e8f0; text-decoration: none; }
nav.pages a.current { color: #fff; font-weight: 600; border-bottom: 2px solid #38bdf8; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
h1 { font-size: 1.6rem; margin: .4rem 0; } h2 { font-size: 1.15rem; margin: 1.2rem 0 .4rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; color: #334155; margin: 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: .8rem; margin: 1rem 0; }
.kpi { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: .7rem .9rem; }
.kpi-label { color: #475569; font-size: .85rem; } .kpi-value { font-size: 1.6rem; font-weight: 650; }
.kpi-change { font-size: .85rem; } .kpi-change.good { color: #15803d; } .kpi-change.bad { color: #b91c1c; }
.kpi-change.neutral { color: #475569; } .kpi-prev { color: #64748b; }
table.data { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
table.data th, table.data td { border-bottom: 1px solid #e2e8f0; padding: .3rem .5rem; text-align: left;
       vertical-align: top; overflow-wrap: anywhere; }
table.data th { background: #f1f5f9; } .num { text-align: right !important; font-variant-numeric: tabular-nums; }
.note { color: #475569; } figure.chart { margin: .8rem 0; } figure.chart img { max-width: 100%; height: auto; }
figure.chart figcaption { display: none; }
footer.definitions { margin-top: 2.5rem; border-top: 1px solid #cbd5e1; color: #334155; font-size: .85rem; }
footer.definitions dt { font-weight: 600; } footer.definitions dd { margin: 0 0 .4rem 0; }
.attribution { font-weight: 600; }
ul.index li { margin: .5rem 0; }
"""


class ReportError(RuntimeError):
    """A report notebook failed; the executed notebook in ``out/notebooks`` shows where."""


def notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb") if p.is_file())


def page_title(notebook: Path) -> str:
    """'03-acquisition.ipynb' -> 'Acquisition'; '07-data-quality.ipynb' -> 'Data quality'."""
    stem = re.sub(r"^\d+-", "", notebook.stem)
    return stem.replace("-", " ").replace("_", " ").capitalize()


def _nav(pages: list[tuple[str, str]], current: str | None) -> str:
    links = ['<a href="index.html"' + (' class="current"' if current == "index.html" else "") + ">Report</a>"]
    for href, title in pages:
        cls = ' class="current"' if href == current else ""
        links.append(f'<a href="{esc(href)}"{cls}>{esc(title)}</a>')
    return '<nav class="pages">' + "".join(links) + "</nav>"


def page(title: str, body: str, nav: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        f"    {csp.meta(csp.PAGE_POLICY)}\n"
        '    <meta charset="utf-8">\n    <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '    <meta name="referrer" content="no-referrer">\n'
        f"    <title>{esc(title)} · site-stats</title>\n    <style>{STYLE}</style>\n</head>\n<body>\n"
        f"{nav}\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def notebook_body(nb: nbformat.NotebookNode) -> str:
    """The notebook's outputs and markdown as HTML (nbconvert's basic template, code cells' inputs excluded,
    stderr streams dropped: warnings belong in the executed notebook, not in the report)."""
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not (o.output_type == "stream" and o.name == "stderr")]
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, anchor_link_text="")
    body, _ = exporter.from_notebook_node(nb)
    return body


def render_report(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    site: str | None = None,
    out: Path = Path("outputs"),
    tz: str = "UTC",
    settings: Settings | None = None,
    engine: str | None = None,
    k: int = 5,
    notebook_paths: list[Path] | None = None,
) -> Path:
    """Execute the report notebooks for the period into ``out`` and write the HTML pages; return index.html."""
    import papermill as pm

    settings = settings or Settings.from_env()
    engine = engine or settings.engine
    tz = check_tz(tz)
    site = (site or "").strip().lower().removeprefix("www.") or None
    start, end = resolve_period(start, end, site, settings, engine)
    out = Path(out).resolve()
    executed_dir = out / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    paths = notebook_paths or notebooks()
    if not paths:
        raise ReportError(f"no report notebooks in {NOTEBOOKS_DIR}")
    warehouse = settings.warehouse if settings.is_s3 else str(Path(settings.warehouse).resolve())
    params = {
        "start": start.isoformat(), "end": end.isoformat(), "site": site or "", "warehouse": warehouse,
        "engine": engine, "tz": tz, "out": str(out), "k": int(k),
    }
    pages = [(f"{p.stem}.html", page_title(p)) for p in paths]
    for path, (href, title) in zip(paths, pages):
        target = executed_dir / path.name
        try:
            pm.execute_notebook(str(path), str(target), parameters=params, cwd=str(out), kernel_name=KERNEL_NAME,
                                progress_bar=False, log_output=False, execution_timeout=CELL_TIMEOUT)
        except pm.PapermillExecutionError as exc:
            raise ReportError(f"report notebook {path.name} failed ({exc.ename}: {exc.evalue}); "
                              f"see {target}") from exc
        nb = nbformat.read(target, as_version=4)
        (out / href).write_text(page(title, notebook_body(nb), _nav(pages, href)), encoding="utf-8")
    generated = dt.datetime.now(dt.timezone.utc)
    index = out / "index.html"
    index.write_text(page("Report", _index_body(pages, start, end, site, tz, generated, engine), _nav(pages, "index.html")),
                     encoding="utf-8")
    return index


_DESCRIPTIONS = {
    "Overview": "visitors, pageviews, sessions, bounce rate and visit duration against the previous period; "
                "daily and hourly patterns",
    "Pages": "top pages, entry and exit pages, pages not found and where their visitors came from",
    "Acquisition": "channels, referrer sources and drill-down, UTM campaigns",
    "Audience": "browsers, operating systems, devices",
    "Geography": "a map of visitors by place and CloudFront edge location, countries",
    "Technical": "status codes, bandwidth, CloudFront cache hit ratio and latency, bots",
    "Data quality": "lines ingested and rejected, late files, missing salts, what each source saw",
}


def _index_body(pages, start, end, site, tz, generated, engine) -> str:
    from .html import header

    items = "".join(
        f'<li><a href="{esc(href)}">{esc(title)}</a>'
        + (f" — {esc(_DESCRIPTIONS[title])}" if title in _DESCRIPTIONS else "")
        + "</li>"
        for href, title in pages
    )
    defs = "".join(f"<dt>{esc(t)}</dt><dd>{esc(d)}</dd>" for t, d in DEFINITIONS)
    return (
        header("site-stats report", start=start, end=end, site=site, tz=tz, generated=generated, engine=engine)
        + f'<ul class="index">{items}</ul>'
        + '<p class="note">The executed notebooks in <code>notebooks/</code> beside this page are the record of '
          "this run.</p>"
        + f'<footer class="definitions"><h2>Metric definitions</h2><dl>{defs}</dl></footer>'
    )
