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
        self._state: Any = None  # warehouse.rollups.RollupState, read on the first Athena query

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

        return athena.run(q.with_rollups(self._athena_plan(bound)), bound, self.settings)

    def _athena_plan(self, bound: dict[str, object]):
        """On Athena, the Glue tables ``rollup_NAME`` for the days with valid rollups (listed once a session
        from the warehouse's manifests); every other day is computed from the events."""
        if not self.rollups or not self.settings.warehouse.startswith("s3://"):
            return None
        from .warehouse import rollups

        if self._state is None:
            self._state = rollups.RollupState.load(rollups.Store.for_warehouse(self.settings.warehouse, self.settings))
        return rollups.Plan(self._state, str(bound["start"]), str(bound["end"]))

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


