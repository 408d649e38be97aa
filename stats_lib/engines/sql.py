"""Loading named queries and binding their parameters.

Queries are written once in Athena/Trino SQL with named placeholders (``:start``, ``:end``, ``:site``).
Values are always bound as parameters, never pasted into the text: DuckDB receives ``$name`` parameters,
Athena receives positional execution parameters in the order the placeholders appear.

Shared relations: ``queries/shared/NAME.sql`` defines a relation (one SELECT) that several queries read, such as
``sessions``. A query that reads a table called NAME without defining it itself gets the definition inlined as
a common table expression (with the shared relations it reads in turn, dependencies first), so the rule is
written once and every query, on either engine, runs the same text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from ..config import REPO_ROOT

QUERIES_DIR = REPO_ROOT / "queries"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownQuery(ValueError):
    pass


def available() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def shared_dir() -> Path:
    return QUERIES_DIR / "shared"


@dataclass(frozen=True)
class Query:
    name: str
    text: str  # Athena/Trino SQL with :named placeholders

    @property
    def description(self) -> str:
        lines = [l[2:].strip() for l in self.text.splitlines() if l.startswith("--")]
        return " ".join(lines)

    def tree(self) -> exp.Expression:
        """The parsed query with every shared relation it reads inlined (a fresh copy: callers may change it)."""
        return inline_shared(_parse(self.text).copy(), _shared_definitions(shared_dir()))

    def placeholders(self) -> list[str]:
        return [p.name for p in self.tree().find_all(exp.Placeholder)]

    def for_duckdb(self) -> str:
        return for_duckdb(self.tree())

    def for_athena(self) -> tuple[str, list[str]]:
        """Trino text with ``?`` placeholders and the parameter names in order."""
        names: list[str] = []

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Placeholder) and node.name:
                names.append(node.name)
                return exp.Placeholder()
            return node

        return self.tree().transform(swap).sql(dialect="trino"), names


def for_duckdb(tree: exp.Expression) -> str:
    """DuckDB text of a Trino tree, keeping Trino's meaning where the two differ: ``COUNT_IF`` over a group
    whose condition is never true-or-false (all NULL) is 0 in Trino and NULL in DuckDB, so it is wrapped in
    ``COALESCE(..., 0)``."""

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CountIf) and not isinstance(node.parent, exp.Coalesce):
            return exp.Coalesce(this=node.copy(), expressions=[exp.Literal.number(0)])
        return node

    return tree.copy().transform(fix).sql(dialect="duckdb")


@lru_cache(maxsize=256)
def _parse(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="trino")


@lru_cache(maxsize=8)
def _shared_cached(folder: Path, stamp: tuple) -> dict[str, exp.Expression]:
    return {p.stem: _parse(p.read_text()) for p in sorted(folder.glob("*.sql"))}


def _shared_definitions(folder: Path) -> dict[str, exp.Expression]:
    files = sorted(folder.glob("*.sql")) if folder.is_dir() else []
    return _shared_cached(folder, tuple((p.name, p.stat().st_mtime_ns) for p in files))


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name for cte in tree.find_all(exp.CTE)}


def _reads(tree: exp.Expression) -> list[str]:
    """Names of the unqualified tables a tree reads, in order of appearance."""
    return list(dict.fromkeys(t.name for t in tree.find_all(exp.Table) if not t.args.get("db")))


def inline_shared(tree: exp.Expression, shared: dict[str, exp.Expression]) -> exp.Expression:
    """``tree`` with a CTE for every shared relation it (or an inlined relation) reads and does not define."""
    defined = _cte_names(tree)
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order or name in defined or name not in shared:
            return
        if name in path:
            raise ValueError(f"shared relations read each other in a circle: {' -> '.join(path + (name,))}")
        for dep in _reads(shared[name]):
            visit(dep, path + (name,))
        order.append(name)

    for name in _reads(tree):
        visit(name, ())
    if not order:
        return tree
    ctes = [exp.CTE(this=shared[n].copy(), alias=exp.TableAlias(this=exp.to_identifier(n))) for n in order]
    with_ = tree.args.get("with_")
    if with_ is None:
        tree.set("with_", exp.With(expressions=ctes))
    else:
        with_.set("expressions", ctes + list(with_.expressions))
    return tree


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
