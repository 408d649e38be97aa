"""The public verbs: ``query`` and ``QuerySession`` (``ingest`` lives in ``ingest.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from .config import Settings
from .dates import parse_day
from .engines import sql


class QuerySession:
    """Many queries on one engine connection, as a report run makes them: on DuckDB one connection and one
    reading of the warehouse's rollup state for all of them.

    ``rollups=False`` computes every figure from the events (the plain path; the rollups give the same rows)."""

    def __init__(self, settings: Settings | None = None, *, engine: str | None = None, rollups: bool = True) -> None:
        self.settings = settings or Settings.from_env()
        self.engine = engine or self.settings.engine
        if self.engine not in ("duckdb", "athena"):
            raise ValueError(f"unknown engine {self.engine!r}; use duckdb or athena")
        self.rollups = rollups
        self._duck: Any = None  # engines.duckdb.Session, opened on the first query
        self._athena_rollups: Any = None  # engines.athena.RollupDays, made on the first Athena query

    def query(self, name: str, start: dt.date | str | None = None, end: dt.date | str | None = None,
              site: str | None = None, **params: object) -> pd.DataFrame:
        """Run ``queries/NAME.sql`` for the inclusive UTC date range and site; return a DataFrame."""
        q = sql.load(name)
        bound = sql.parameters(parse_day(start), parse_day(end), site, **params)
        if self.engine == "duckdb":
            if self._duck is None:
                from .engines.duckdb import Session

                self._duck = Session(self.settings.warehouse, self.settings, rollups=self.rollups)
            return self._duck.run(q, bound).to_pandas()
        from .engines import athena

        if self._athena_rollups is None:
            self._athena_rollups = athena.RollupDays(self.settings, enabled=self.rollups)
        plan = self._athena_rollups.plan(str(bound["start"]), str(bound["end"]))
        return athena.run(q.with_rollups(plan), bound, self.settings)

    def close(self) -> None:
        if self._duck is not None:
            self._duck.close()
            self._duck = None

    def __enter__(self) -> QuerySession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
    with QuerySession(settings, engine=engine) as session:
        return session.query(name, start, end, site, **params)


