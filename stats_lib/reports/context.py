"""What a report notebook holds after its parameters cell: the period, the site, the engine and the queries.

A notebook does::

    report = open_report("Overview", start, end, site, warehouse, engine, tz, out)
    report.header()
    daily = report.query("daily")
    previous = report.query("daily", period="previous")
"""

from __future__ import annotations

import datetime as dt
import decimal
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..api import QuerySession
from ..api import query as run_query
from ..config import Settings
from ..dates import parse_day, utc_today
from ..engines import sql
from ..sites import normalise_site
from . import html, metrics

DEFAULT_DAYS = 7
def _project_dir() -> Path:
    """The working directory, or its parent when that is a ``notebooks`` folder (JupyterLab runs a notebook in
    its own folder): where ``warehouse/`` and ``outputs/`` of a checkout are."""
    cwd = Path.cwd()
    return cwd.parent if cwd.name == "notebooks" else cwd



def check_tz(tz: str | None) -> str:
    tz = tz or "UTC"
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}; use an IANA name such as UTC or Europe/Berlin") from None
    return tz


def resolve_period(
    start: dt.date | str | None,
    end: dt.date | str | None,
    site: str | None,
    settings: Settings,
    engine: str | None = None,
    days: int = DEFAULT_DAYS,
) -> tuple[dt.date, dt.date]:
    """The inclusive UTC period: as given; a missing end is the last day with data (today when there is none);
    a missing start is ``days`` days up to the end."""
    start_d, end_d = parse_day(start), parse_day(end)
    if end_d is None:
        if start_d is not None:
            end_d = start_d + dt.timedelta(days=days - 1)
        else:
            rng = run_query("data_range", None, None, site, engine=engine, settings=settings)
            last = rng["last_day"].iloc[0] if len(rng) else None
            end_d = parse_day(pd.Timestamp(last).date()) if last is not None and not pd.isna(last) else None
            end_d = end_d or utc_today()
    if start_d is None:
        start_d = end_d - dt.timedelta(days=days - 1)
    if start_d > end_d:
        raise ValueError(f"the period starts ({start_d}) after it ends ({end_d})")
    return start_d, end_d


def numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal columns (DuckDB returns SUM/COUNT_IF as HUGEINT or DECIMAL) as int64 or float64."""
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        values = frame[col].dropna()
        if len(values) and all(isinstance(v, decimal.Decimal) for v in values):
            as_float = frame[col].astype(float)
            whole = as_float.dropna()
            frame[col] = as_float.astype("int64") if len(whole) == len(frame) and (whole % 1 == 0).all() else as_float
    return frame


def is_local_only(name: str) -> bool:
    """Queries over the DuckDB-only views (``rejects``, ``ledger``) say so in their header."""
    return "duckdb only" in sql.load(name).description.lower()


@dataclass
class Report:
    title: str
    start: dt.date
    end: dt.date
    site: str | None
    tz: str
    engine: str
    settings: Settings
    out: Path
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    session: QuerySession | None = field(default=None, repr=False)  # (rollups) one connection for the report

    @property
    def previous(self) -> tuple[dt.date, dt.date]:
        return metrics.previous_period(self.start, self.end)

    @property
    def previous_label(self) -> str:
        a, b = self.previous
        return f"{a.isoformat()} to {b.isoformat()}"

    def query(self, name: str, *, period: str = "current", optional: bool = False,
              **params: object) -> pd.DataFrame | None:
        """Run ``queries/NAME.sql`` for this report's period (or ``period="previous"``) and site.

        ``optional=True`` returns None instead of failing when the query does not exist in this installation
        or reads views the engine lacks (the DuckDB-only data-quality queries on Athena)."""
        if optional:
            try:
                local_only = is_local_only(name)
            except sql.UnknownQuery:
                return None
            if local_only and self.engine != "duckdb":
                return None
        start, end = (self.start, self.end) if period == "current" else self.previous
        if self.session is None:
            self.session = QuerySession(self.settings, engine=self.engine)
        return numeric(self.session.query(name, start, end, self.site, **params))

    # -- page furniture --------------------------------------------------------------------------------
    def header(self) -> html.Html:
        return html.header(self.title, start=self.start, end=self.end, site=self.site, tz=self.tz,
                           generated=self.generated, engine=self.engine)

    def footer(self, *, geo: bool = False) -> html.Html:
        return html.definitions(geo=geo)

    # -- figures several pages show ----------------------------------------------------------------------
    def kpis(self, current: pd.DataFrame | None = None) -> html.Html:
        """The period's KPI tiles against the previous period (or "no data before START" when it has none)."""
        current = self.query("daily") if current is None else current
        previous = self.query("daily", period="previous")
        return html.kpi_tiles(metrics.period_totals(current), metrics.period_totals(previous),
                              previous_label=self.previous_label, since=self.start)


def _find_warehouse(warehouse: str | None) -> str | None:
    """A relative local warehouse that is not under the working directory (a notebook opened in JupyterLab runs
    in notebooks/) is looked up under the project folder (``_project_dir``)."""
    if not warehouse or "://" in warehouse or Path(warehouse).is_absolute() or Path(warehouse).exists():
        return warehouse or None
    candidate = _project_dir() / warehouse
    return str(candidate) if candidate.exists() else warehouse


def open_report(
    title: str,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    site: str | None = None,
    warehouse: str | None = None,
    engine: str | None = None,
    tz: str | None = "UTC",
    out: str | Path | None = None,
) -> Report:
    """The report context for a notebook's parameters (all optional: env settings, last 7 days with data)."""
    settings = Settings.from_env(warehouse=_find_warehouse(warehouse), progress=False)
    engine = engine or settings.engine
    site = normalise_site(site)
    tz = check_tz(tz)
    start_d, end_d = resolve_period(start, end, site, settings, engine)
    out_path = Path(out) if out else _project_dir() / "outputs" / "lab"  # notebooks run by hand write here
    out_path.mkdir(parents=True, exist_ok=True)
    return Report(title=title, start=start_d, end=end_d, site=site, tz=tz, engine=engine, settings=settings,
                  out=out_path)
