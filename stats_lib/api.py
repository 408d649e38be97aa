"""The public verbs: ``query`` (``ingest`` lives in ``ingest.py``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .config import Settings
from .engines import sql


def query(
    name: str,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    site: str | None = None,
    *,
    engine: str | None = None,
    settings: Settings | None = None,
    **params: object,
) -> pd.DataFrame:
    """Run ``queries/NAME.sql`` for the inclusive UTC date range and site; return a DataFrame."""
    settings = settings or Settings.from_env()
    q = sql.load(name)
    bound = sql.parameters(_date(start), _date(end), site, **params)
    engine = engine or settings.engine
    if engine == "duckdb":
        from .engines import duckdb as duck

        return duck.run(q, bound, settings.warehouse, settings).to_pandas()
    if engine == "athena":
        from .engines import athena

        return athena.run(q, bound, settings)
    raise ValueError(f"unknown engine {engine!r}; use duckdb or athena")


def _date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"bad date {value!r}; use YYYY-MM-DD") from None
