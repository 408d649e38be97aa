"""Loading named queries and binding their parameters.

Queries are written once in Athena/Trino SQL with named placeholders (``:start``, ``:end``, ``:site``).
Values are always bound as parameters, never pasted into the text: DuckDB receives ``$name`` parameters,
Athena receives positional execution parameters in the order the placeholders appear.

Shared relations: ``queries/shared/NAME.sql`` defines a relation (one SELECT) that several queries read, such as
``sessions``. A query that reads a table called NAME without defining it itself gets the definition inlined as
a common table expression (with the shared relations it reads in turn, dependencies first), so the rule is
written once and every query, on either engine, runs the same text.

Rollups: ``queries/rollups/NAME.sql`` defines a daily rollup (see ``warehouse/rollups.py``). A report query reads
it as the table ``rollup_NAME``; the loader replaces that table by the union of the stored rollup rows of the
period's days that have them and the same SQL computed from the events for the days that do not, as a
``RollupSplit`` says (``Query.with_rollups``). Without one, every day is computed from the events: slower, and
exactly the same rows.

Months: each rollup also has a calendar-month level (``month_rollup``), generated from its definition: the
month's day rows grouped by the same dimensions, counts and sums summed, MIN and MAX combined as themselves, so
a month row is exactly the sum of its days. A query whose only use of ``dt`` is ``dt BETWEEN :start AND :end``
(``month_safe``) reads, for each month whose days with events all lie in the period, the month's rows (their
``dt`` set to ``:start``, which that filter keeps) instead of the days'.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, Protocol

import sqlglot
from sqlglot import exp

from ..resources import queries_dir
from ..sites import normalise_site

QUERIES_DIR = queries_dir()
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownQuery(ValueError):
    pass


def available() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def shared_dir() -> Path:
    return QUERIES_DIR / "shared"


def rollups_dir() -> Path:
    return QUERIES_DIR / "rollups"


ROLLUP_PREFIX = "rollup_"
MONTH_PREFIX = "rollup_month_"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Split(NamedTuple):
    """Where a period's rows of one rollup come from."""

    table: str | None  # the table holding the stored day rows, or None
    built: list[str] | None  # the days to read from it, or None when the table holds exactly those
    computed: list[str] | None  # the days to compute from the events, or None for every day of the period
    month_table: str | None = None  # the table holding the stored month rows (a ``month`` column), or None
    months: tuple[str, ...] = ()  # the months ('YYYY-MM') to read from it


class RollupSplit(Protocol):
    def split(self, name: str, months: bool = False) -> Split:
        """Where rollup ``name``'s rows for the period come from; ``months``: the query may read month rows."""
        ...


@dataclass(frozen=True)
class Query:
    name: str
    text: str  # Athena/Trino SQL with :named placeholders
    rollups: RollupSplit | None = field(default=None, compare=False)
    provided: tuple[str, ...] = ()  # shared relations the engine provides as tables (not inlined)

    def with_rollups(self, split: RollupSplit | None) -> Query:
        return replace(self, rollups=split)

    def providing(self, *names: str) -> Query:
        """This query reading the shared relations ``names`` from tables of those names (e.g. materialised once
        for several queries) instead of inlining their definitions."""
        return replace(self, provided=tuple(sorted(names)))

    def tables_read(self) -> list[str]:
        """The unqualified tables its own text reads (shared relations and ``rollup_NAME`` not expanded)."""
        return _reads(_parse(self.text))

    @property
    def description(self) -> str:
        lines = [line[2:].strip() for line in self.text.splitlines() if line.startswith("--")]
        return " ".join(lines)

    def tree(self) -> exp.Expression:
        """The parsed query with the rollups and shared relations it reads inlined (a fresh copy)."""
        tree = expand_rollups(_parse(self.text).copy(), self.rollups, months=month_safe(self.text))
        return inline_shared(tree, _shared_definitions(shared_dir()))

    def placeholders(self) -> list[str]:
        return list(self._rendered("duckdb")[1])

    def for_duckdb(self) -> str:
        return self._rendered("duckdb")[0]

    def for_athena(self) -> tuple[str, list[str]]:
        """Trino text with ``?`` placeholders and the parameter names in order."""
        text, names = self._rendered("trino")
        return text, list(names)

    def rendered(self, dialect: str) -> tuple[str, tuple[str, ...]]:
        """(text for ``dialect`` with named placeholders, the placeholder names in order)."""
        return self._rendered(dialect)

    def _rendered(self, dialect: str) -> tuple[str, tuple[str, ...]]:
        """The text for ``dialect`` and its placeholder names in order. Transpiling is done once per query and
        shape of its rollup split (which branches exist); the day lists and table names are filled in after."""
        shapes, subs = _shapes(self.text, self.rollups)
        text, names = _render(self.text, shapes, dialect, _shared_stamp(), self.provided)
        for sentinel, value in subs:
            text = text.replace(sentinel, value)
        return text, names


Shape = tuple[str, str, str, str]  # rollup name, stored rows: "none", "all" or "some" days; computed: the same;
# month rows: "none" or "some"


@lru_cache(maxsize=512)
def _rollups_read(text: str) -> tuple[str, ...]:
    tree = _parse(text)
    defined = _cte_names(tree)
    targets = {t.name for t in tree.find_all(exp.Table) if _is_insert_target(t)}
    return tuple(n[len(ROLLUP_PREFIX):] for n in _reads(tree)
                 if n.startswith(ROLLUP_PREFIX) and n not in defined and n not in targets)


def _shapes(text: str, split: RollupSplit | None) -> tuple[tuple[Shape, ...], list[tuple[str, str]]]:
    shapes: list[Shape] = []
    subs: list[tuple[str, str]] = []
    months_ok = month_safe(text)
    for name in _rollups_read(text):
        if split is None:
            shapes.append((name, "none", "all", "none"))
            continue
        table, built, computed, month_table, months = split.split(name, months_ok)
        stored = "none" if not table or built == [] else ("all" if built is None else "some")
        kind = "all" if computed is None else ("some" if computed else "none")
        monthly = "some" if month_table and months else "none"
        shapes.append((name, stored, kind, monthly))
        if monthly == "some":
            if not _TABLE.match(str(month_table)):
                raise ValueError(f"not a table name: {month_table!r}")
            subs.append((f"__rollup_month_table_{name}__", str(month_table)))
            subs.append((f"'__months_{name}__'", _month_list(list(months))))
        if stored != "none":
            if not _TABLE.match(str(table)):
                raise ValueError(f"not a table name: {table!r}")
            subs.append((f"__rollup_table_{name}__", str(table)))
        if stored == "some":
            subs.append((f"'__built_{name}__'", _day_list(built or [], check=True)))
        if kind == "some":
            subs.append((f"'__computed_{name}__'", _day_list(computed or [], check=True)))
    return tuple(shapes), subs


class _Sentinels:
    """A split whose table names and days are placeholders, filled in after transpiling."""

    def __init__(self, shapes: tuple[Shape, ...]) -> None:
        self.shapes = {name: (stored, kind, monthly) for name, stored, kind, monthly in shapes}

    def split(self, name: str, months: bool = False) -> Split:
        stored, kind, monthly = self.shapes[name]
        computed = None if kind == "all" else ([] if kind == "none" else [f"__computed_{name}__"])
        month: dict = {}
        if monthly == "some":
            month = {"month_table": f"__rollup_month_table_{name}__", "months": (f"__months_{name}__",)}
        if stored == "none":
            return Split(None, [], computed, **month)
        return Split(f"__rollup_table_{name}__", None if stored == "all" else [f"__built_{name}__"], computed,
                     **month)


def _shared_stamp() -> tuple:
    folder = shared_dir()
    files = sorted(folder.glob("*.sql")) if folder.is_dir() else []
    return tuple((p.name, p.stat().st_mtime_ns) for p in files)


@lru_cache(maxsize=512)
def _render(text: str, shapes: tuple[Shape, ...], dialect: str, stamp: tuple,
            provided: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]]:
    shared = {k: v for k, v in _shared_definitions(shared_dir()).items() if k not in provided}
    tree = inline_shared(expand_rollups(_parse(text).copy(), _Sentinels(shapes), months=True), shared)
    names = tuple(p.name for p in tree.find_all(exp.Placeholder))
    if dialect == "duckdb":
        return for_duckdb(tree), names

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name:
            return exp.Placeholder()
        return node

    return tree.transform(swap, copy=False).sql(dialect=dialect), names


def for_duckdb(tree: exp.Expression) -> str:
    """DuckDB text of a Trino tree, keeping Trino's meaning where the two differ: ``COUNT_IF`` over a group
    whose condition is never true-or-false (all NULL) is 0 in Trino and NULL in DuckDB, so it is wrapped in
    ``COALESCE(..., 0)``. A common table expression read more than once is inlined at each read, as Trino does
    (``NOT MATERIALIZED``): DuckDB's own choice to materialise one gave wrong sums (referrer_pages computed
    from the events, duckdb 2.0.1: a total of 32 where the rows sum to 20)."""
    reads: dict[str, int] = {}
    for table in tree.find_all(exp.Table):
        if not table.args.get("db"):
            reads[table.name] = reads.get(table.name, 0) + 1

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CountIf) and not isinstance(node.parent, exp.Coalesce):
            return exp.Coalesce(this=node.copy(), expressions=[exp.Literal.number(0)])
        if isinstance(node, exp.CTE) and reads.get(node.alias_or_name, 0) > 1 and node.args.get("materialized") is None:
            node = node.copy()
            node.set("materialized", False)
        return node

    return tree.transform(fix).sql(dialect="duckdb")


@lru_cache(maxsize=256)
def _parse(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="trino")  # type: ignore[return-value]  # sqlglot 30 types it as Expr


def _bare(tree: exp.Expression) -> exp.Expression:
    """A copy without comments, for inlining (the header comments stay in the files)."""
    tree = tree.copy()
    for node in tree.walk():
        node.comments = None
    return tree


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
    ctes = [exp.CTE(this=_bare(shared[n]), alias=exp.TableAlias(this=exp.to_identifier(n))) for n in order]
    holder = tree.expression if isinstance(tree, exp.Insert) else tree  # INSERT INTO t WITH ... SELECT ...
    with_ = holder.args.get("with_")
    if with_ is None:
        holder.set("with_", exp.With(expressions=ctes))
    else:
        with_.set("expressions", ctes + list(with_.expressions))
    return tree


def rollup_names() -> list[str]:
    return sorted(p.stem for p in rollups_dir().glob("*.sql"))


def load_rollup(name: str) -> Query:
    path = rollups_dir() / f"{name}.sql"
    if not _NAME.match(name) or not path.is_file():
        raise UnknownQuery(f"unknown rollup {name!r}; available: {', '.join(rollup_names())}")
    return Query(f"rollup {name}", path.read_text())


def rollup_columns(query: Query) -> list[str]:
    """The output column names of a rollup's SELECT."""
    return list(_parse(query.text).named_selects)  # type: ignore[attr-defined]  # a Select, typed Expression


_COMBINE = {exp.Min: "min", exp.Max: "max", exp.Count: "sum", exp.CountIf: "sum", exp.Sum: "sum"}


def rollup_measures(query: Query) -> dict[str, str]:
    """Output column -> how month rows combine its day values ('sum', 'min' or 'max'); the other columns are
    dimensions. A column is a measure when its expression, followed through the common table expressions it
    names (``h.hits`` of ``FROM hits AS h``), is an aggregate; one that cannot be combined across days (an
    average, say) is an error, so a rollup cannot silently get a wrong month level."""
    tree = _parse(query.text)
    ctes = {cte.alias_or_name: cte.this for cte in tree.find_all(exp.CTE)}

    def kind(select: exp.Expression, column: str, depth: int) -> str | None:
        chosen = next((e for e in select.selects if e.alias_or_name == column), None)  # type: ignore[attr-defined]
        if chosen is None or depth > 8:
            return None
        expr = chosen.unalias()
        agg = next(iter(expr.find_all(exp.AggFunc)), None)  # the outermost aggregate
        if agg is not None:
            if type(agg) not in _COMBINE:
                raise ValueError(f"{query.name}: column {column!r} ({agg.sql()}) cannot be combined across days")
            return _COMBINE[type(agg)]
        tables = {t.alias_or_name: t.name for t in select.find_all(exp.Table)}
        for col in expr.find_all(exp.Column):
            source = ctes.get(tables.get(col.table, col.table))
            found = kind(source, col.name, depth + 1) if source is not None else None
            if found:
                return found
        return None

    found = {c: kind(tree, c, 0) for c in rollup_columns(query)}
    return {c: k for c, k in found.items() if k}


def month_rollup(name: str, definition: Query | None = None) -> Query:
    """The month level of rollup ``name`` (of its ``definition``, default its file): its day rows (the table
    ``rollup_NAME``, as a split provides it) grouped by its dimensions, each measure combined as
    ``rollup_measures`` says; every column but ``dt``."""
    definition = definition or load_rollup(name)
    return Query(f"rollup {name} (month)", _month_text(name, definition.name, definition.text))


@lru_cache(maxsize=256)
def _month_text(name: str, query_name: str, text: str) -> str:
    definition = Query(query_name, text)
    measures = rollup_measures(definition)
    columns = [c for c in rollup_columns(definition) if c != "dt"]
    dims = [c for c in columns if c not in measures]
    select = [c if c in dims else f"{measures[c].upper()}({c}) AS {c}" for c in columns]
    return (f"-- month level of rollup {name}: its day rows combined per month (generated from its definition)\n"
            f"SELECT {', '.join(select)}\nFROM {ROLLUP_PREFIX}{name}\nGROUP BY {', '.join(dims)}")


@lru_cache(maxsize=512)
def month_safe(text: str) -> bool:
    """Whether a query may read month rows: its only use of ``dt`` is ``dt BETWEEN :start AND :end``."""
    def param(node: exp.Expression, name: str) -> bool:
        return isinstance(node, exp.Placeholder) and node.name == name

    for column in _parse(text).find_all(exp.Column):
        if column.name != "dt":
            continue
        parent = column.parent
        if not (isinstance(parent, exp.Between) and parent.this is column and param(parent.args["low"], "start")
                and param(parent.args["high"], "end")):
            return False
    return True


def _month_list(months: list[str]) -> str:
    for month in months:
        if not _MONTH.match(month):
            raise ValueError(f"not a month: {month!r}")
    return ", ".join(f"'{m}'" for m in months)


def _day_list(days: list[str], *, check: bool = False) -> str:
    for day in days if check else ():
        if not _DAY.match(day):
            raise ValueError(f"not a day: {day!r}")
    return ", ".join(f"'{d}'" for d in days)


def _only_days(tree: exp.Expression, days: list[str]) -> exp.Expression:
    """``tree`` reading only the given days of ``events`` (each read replaced by a filtered subquery)."""
    where = f"dt IN ({_day_list(days)})" if days else "FALSE"

    def restrict(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == "events" and not node.args.get("db"):
            sub = _parse(f"SELECT * FROM events WHERE {where}").copy()
            return exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier(node.alias_or_name)))
        return node

    return tree.transform(restrict)


def rollup_relation(name: str, split: RollupSplit | None, *, months: bool = False) -> exp.Expression:
    """The SELECT that stands for ``rollup_NAME``: stored month rows of the months read whole (``months``: the
    query allows it), UNION ALL stored rows of the built days, UNION ALL the rollup's SQL over the events of the
    other days. Besides the rollup's columns it has ``part``: the day (or the month, 'YYYY-MM') a row stands for;
    a rollup has one row per part, site and dimensions, so the rows of one part and site are distinct groups."""
    definition = load_rollup(name)
    names = rollup_columns(definition)
    columns = ", ".join(names)
    table, built, computed, month_table, month_list = (split.split(name, months) if split is not None
                                                       else Split(None, [], None))
    computed_tree = inline_shared(_bare(_parse(definition.text)), _shared_definitions(shared_dir()))
    if computed is not None:
        computed_tree = _only_days(computed_tree, computed)
    branches: list[exp.Expression] = []
    if month_table and month_list:
        if not _TABLE.match(month_table):
            raise ValueError(f"not a table name: {month_table!r}")
        month_columns = ", ".join(":start AS dt" if c == "dt" else c for c in names)
        listed = ", ".join(f"'{m}'" for m in month_list)
        branches.append(_parse(f"SELECT {month_columns}, month AS part FROM {month_table} "
                               f"WHERE month IN ({listed})").copy())
    if table and built != []:
        if not _TABLE.match(table):
            raise ValueError(f"not a table name: {table!r}")
        where = "" if built is None else f" WHERE dt IN ({_day_list(built)})"
        branches.append(_parse(f"SELECT {columns}, dt AS part FROM {table}{where}").copy())
    if computed is None or computed or not branches:
        outer = _parse(f"SELECT {columns}, dt AS part FROM computed_rows").copy()
        outer.set("from_", exp.From(this=exp.Subquery(this=computed_tree,
                                                     alias=exp.TableAlias(this=exp.to_identifier("computed_rows")))))
        branches.append(outer)
    relation = branches[0]
    for branch in branches[1:]:
        relation = exp.Union(this=relation, expression=branch, distinct=False)
    return relation


def _is_insert_target(node: exp.Expression) -> bool:
    return isinstance(node.parent, exp.Insert) and node.arg_key == "this"


def expand_rollups(tree: exp.Expression, split: RollupSplit | None, *, months: bool = False) -> exp.Expression:
    """``tree`` with every read of a ``rollup_NAME`` table (not a CTE of its own) replaced by its relation
    (``months``: which may read month rows)."""
    defined = _cte_names(tree)

    def swap(node: exp.Expression) -> exp.Expression:
        if (isinstance(node, exp.Table) and not node.args.get("db") and node.name.startswith(ROLLUP_PREFIX)
                and node.name not in defined and not _is_insert_target(node)):
            relation = rollup_relation(node.name[len(ROLLUP_PREFIX):], split, months=months)
            return exp.Subquery(this=relation, alias=exp.TableAlias(this=exp.to_identifier(node.alias_or_name)))
        return node

    return tree.transform(swap)


def load_shared(name: str) -> Query:
    path = shared_dir() / f"{name}.sql"
    if not _NAME.match(name) or not path.is_file():
        raise UnknownQuery(f"unknown shared relation {name!r}")
    return Query(f"shared {name}", path.read_text())


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
        "site": normalise_site(site) or "",
        **extra,
    }
