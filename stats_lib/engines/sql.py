"""Loading named queries and binding their parameters.

Queries are written once in Athena/Trino SQL with named placeholders (``:start``, ``:end``, ``:site``).
Values are always bound as parameters, never pasted into the text: DuckDB receives ``$name`` parameters,
Athena receives positional execution parameters in the order the placeholders appear.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

from ..config import REPO_ROOT

QUERIES_DIR = REPO_ROOT / "queries"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownQuery(ValueError):
    pass


def available() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


@dataclass(frozen=True)
class Query:
    name: str
    text: str  # Athena/Trino SQL with :named placeholders

    @property
    def description(self) -> str:
        lines = [l[2:].strip() for l in self.text.splitlines() if l.startswith("--")]
        return " ".join(lines)

    def placeholders(self) -> list[str]:
        return [p.name for p in _parse(self.text).find_all(exp.Placeholder)]

    def for_duckdb(self) -> str:
        return _parse(self.text).sql(dialect="duckdb")

    def for_athena(self) -> tuple[str, list[str]]:
        """Trino text with ``?`` placeholders and the parameter names in order."""
        tree = _parse(self.text).copy()
        names: list[str] = []

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Placeholder) and node.name:
                names.append(node.name)
                return exp.Placeholder()
            return node

        return tree.transform(swap).sql(dialect="trino"), names


@lru_cache(maxsize=64)
def _parse(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="trino")


def load(name: str) -> Query:
    if not _NAME.match(name) or not (QUERIES_DIR / f"{name}.sql").is_file():
        raise UnknownQuery(f"unknown query {name!r}; available: {', '.join(available())}")
    return Query(name, (QUERIES_DIR / f"{name}.sql").read_text())


def parameters(start: dt.date | None, end: dt.date | None, site: str | None, **extra) -> dict[str, object]:
    """The standard parameters: inclusive UTC date range as 'YYYY-MM-DD' strings (matching the ``dt``
    partition), and the site ('' for all sites)."""
    return {
        "start": (start or dt.date(1970, 1, 1)).isoformat(),
        "end": (end or dt.date(9999, 12, 31)).isoformat(),
        "site": (site or "").lower().removeprefix("www."),
        **extra,
    }
