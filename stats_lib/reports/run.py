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
import functools
import re
from importlib import resources
from pathlib import Path

import nbformat
from markupsafe import Markup

from ..config import Settings
from ..resources import notebooks_dir
from ..sites import normalise_site
from . import csp, kernel, parameters
from .assets import copy_assets
from .context import check_tz, resolve_period
from .html import esc

NOTEBOOKS_DIR = notebooks_dir()
KERNEL_NAME = kernel.KERNEL_NAME
CELL_TIMEOUT = 600
TEMPLATES = "templates"


def _template_text(name: str) -> str:
    return resources.files(__package__).joinpath(TEMPLATES, name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _page_template():
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(_template_text("page.html"))


def style() -> str:
    """The pages' stylesheet (package data ``templates/style.css``)."""
    return _template_text("style.css")


class ReportError(RuntimeError):
    """A report notebook failed; the executed notebook in ``out/notebooks`` shows where."""


def notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb") if p.is_file())


def page_title(notebook: Path) -> str:
    """'03-acquisition.ipynb' -> 'Acquisition'; '07-data-quality.ipynb' -> 'Data quality'."""
    stem = re.sub(r"^\d+-", "", notebook.stem)
    return stem.replace("-", " ").replace("_", " ").capitalize()


def page(title: str, body: str, pages: list[tuple[str, str]], current: str | None, *,
         policy: str = csp.PAGE_POLICY, index_href: str = "index.html") -> str:
    """One report page from the template: the CSP, the navigation and ``body`` (already-escaped HTML)."""
    return _page_template().render(title=title, body=Markup(body), pages=pages, current=current, policy=policy,
                                   style=Markup(style()), index_href=index_href)


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


def _execute(pm, path: Path, target: Path, params: dict, out: Path, kernel_name: str, ipc: dict) -> None:
    try:
        pm.execute_notebook(str(path), str(target), parameters=parameters.validate(params, path), cwd=str(out),
                            kernel_name=kernel_name, progress_bar=False, log_output=False,
                            execution_timeout=CELL_TIMEOUT, **ipc)
    except pm.PapermillExecutionError as exc:
        raise ReportError(f"report notebook {path.name} failed ({exc.ename}: {exc.evalue}); see {target}") from exc


_MAP_FRAME = re.compile(r'<section class="block map">.*?</section>', re.S)


def single_file(index_body: str, bodies: list[tuple[str, str, str]]) -> str:
    """One self-contained page: the dashboard, then every page's body under its own anchor. Nothing is loaded
    from anywhere (charts are inline SVG, CSV downloads are data: links); the interactive map, a page of its
    own, is left out: the geography section keeps its drawn map."""
    anchors = [(f"#{href.removesuffix('.html')}", title) for href, title, _ in bodies]
    body = index_body
    for href, _ in anchors:
        body = body.replace(f'href="{href[1:]}.html"', f'href="{href}"')
    sections = []
    for (_href, _title, text), (anchor, _) in zip(bodies, anchors):
        text = _MAP_FRAME.sub('<p class="note">The interactive map is a page of the full report '
                              "(site-stats report without --single-file).</p>", text)
        sections.append(f'<section class="page" id="{esc(anchor[1:])}">{text}</section>')
    return page("Report", body + "".join(sections), anchors, "#top", index_href="#top").replace(
        "<main>", '<main id="top">', 1)


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
    single: bool = False,
) -> Path:
    """Execute the report notebooks for the period into ``out`` and write the HTML pages; return index.html
    (``single=True``: also ``report.html``, the whole report in one self-contained file, and return that)."""
    import papermill as pm

    from .context import Report
    from .dashboard import index_body

    settings = settings or Settings.from_env()
    engine = engine or settings.engine
    tz = check_tz(tz)
    site = normalise_site(site)
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
    kernel_name = kernel.ensure_kernel()
    bodies = []
    with kernel.ipc_kernels() as ipc:
        for path, (href, title) in zip(paths, pages):
            target = executed_dir / path.name
            _execute(pm, path, target, params, out, kernel_name, ipc)
            body = notebook_body(nbformat.read(target, as_version=4))
            bodies.append((href, title, body))
            (out / href).write_text(page(title, body, pages, href), encoding="utf-8")
    report = Report(title="site-stats report", start=start, end=end, site=site, tz=tz, engine=engine,
                    settings=settings, out=out)
    dashboard = index_body(report, pages)
    index = out / "index.html"
    index.write_text(page("Report", dashboard, pages, "index.html"), encoding="utf-8")
    if single:
        whole = out / "report.html"
        whole.write_text(single_file(dashboard, bodies), encoding="utf-8")
        return whole
    return index
