"""Athena: the same queries, run in AWS through awswrangler with server-side execution parameters."""

from __future__ import annotations

import pandas as pd

from ..config import Settings
from .sql import Query


def run(query: Query, params: dict[str, object], settings: Settings) -> pd.DataFrame:
    import awswrangler as wr

    text, names = query.for_athena()
    values = [params[n] for n in names]
    return wr.athena.read_sql_query(
        text,
        database=settings.database,
        params=values or None,
        paramstyle="qmark",
        workgroup=settings.athena_workgroup,
        s3_output=settings.athena_output,
        ctas_approach=False,
    )
