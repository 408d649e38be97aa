"""The import rules of ARCHITECTURE.md, enforced: each part of stats_lib imports only the parts listed for it.

Imports are read with ``ast`` (module level and inside functions alike, ``TYPE_CHECKING`` blocks too), so a
lazy import cannot hide a dependency. A part is a subpackage (``sources``) or a top-level module (``ingest``);
``aws.session`` (the checked boto3 session) is a part of its own, as every AWS client needs it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "stats_lib"

BASE = {"errors", "config", "schema", "_arrow", "privacy", "sites", "dates", "display", "progress", "aws.session"}  # anyone may import these

ALLOWED: dict[str, set[str]] = {
    # the foundation: small modules with no pipeline knowledge
    "errors": set(),
    "config": {"errors"},
    "schema": set(),
    "_arrow": set(),
    "privacy": {"_arrow"},
    "sites": set(),
    "dates": {"errors"},
    "display": set(),
    "progress": {"display"},
    "aws.session": {"errors", "config"},
    "_background": set(),
    "_memory": set(),
    # the pipeline, in the order data flows; a stage never imports a later one, sources and enrich not each other
    "sources": BASE,
    "enrich": BASE | {"_background"},
    "warehouse": BASE,
    "engines": BASE | {"warehouse", "resources"},
    "ingest": BASE | {"sources", "enrich", "warehouse", "_background", "_memory"},
    "collector": BASE | {"enrich", "warehouse"},
    "api": BASE | {"engines"},
    "export": BASE,
    "samples": BASE | {"sources"},
    "resources": set(),
    "reports": BASE | {"api", "engines", "export", "resources"},
    "demo": BASE | {"api", "export", "ingest", "reports", "samples"},
    # entry points: they may use anything
    "cli": None,
    "aws": None,  # aws.handlers: the Lambda entry points
    "benchmarks": None,
    "bench": None,
    "(package)": None,  # stats_lib/__init__.py: the public surface
}

# Known exceptions, each with its reason; the test fails when one is no longer needed, so the list only shrinks.
# Removed in issue 14: api -> warehouse (the Athena rollup planning moved to engines.athena.RollupDays) and
# sources.s3_objects -> warehouse.s3 (split_uri moved to aws.session, which every AWS user may import).
# Left: a cycle between packages (engines.duckdb imports warehouse.rollups; warehouse.rollups builds rollups by
# running queries). The fix is to move the rollup builder (RollupBuilder, the rebuild that loads rollup SQL)
# into engines/; it was not made in that session because warehouse/rollups.py and engines/ were being rewritten
# at the same time for the month-level rollups (issue 13), and a move under a rewrite loses one side's work.
EXCEPTIONS = {
    ("stats_lib.warehouse.rollups", "stats_lib.engines"): "rollup queries loaded with engines.sql",
    ("stats_lib.warehouse.rollups", "stats_lib.engines.duckdb"): "rollups rebuilt with engines.duckdb.RollupBuilder",
}


def part_of(module: str) -> str:
    """'stats_lib.sources.base' -> 'sources'; 'stats_lib.aws.session' -> 'aws.session'; 'stats_lib' -> '(package)'."""
    parts = module.split(".")[1:]
    if not parts:
        return "(package)"
    if parts[:2] == ["aws", "session"]:
        return "aws.session"
    return parts[0]


def imports_of(path: Path, module: str) -> set[str]:
    """The stats_lib modules that the file ``path`` of module ``module`` imports (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found |= {target} if node.module else {f"{target}.{alias.name}" for alias in node.names}
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "stats_lib" or name.startswith("stats_lib.")}


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def file_violations(path: Path, module: str) -> list[str]:
    source = part_of(module)
    allowed = ALLOWED.get(source, set())
    if allowed is None:
        return []
    out = []
    for target in sorted(imports_of(path, module)):
        dest = part_of(target)
        if dest == source or dest in allowed or (module, target) in EXCEPTIONS:
            continue
        out.append(f"{module} imports {target} ({source} may import: {', '.join(sorted(allowed)) or 'nothing'})")
    return out


def violations() -> list[str]:
    return [v for path in sorted(PACKAGE.rglob("*.py")) for v in file_violations(path, module_of(path))]


def test_every_part_is_listed():
    parts = {part_of(module_of(p)) for p in PACKAGE.rglob("*.py")}
    assert parts <= set(ALLOWED), "add the new part to ALLOWED and to ARCHITECTURE.md"


def test_imports_follow_the_rules():
    assert violations() == []


def test_each_exception_is_still_needed():
    for (module, target), reason in EXCEPTIONS.items():
        path = PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")
        assert target in imports_of(path, module), f"{module} no longer imports {target}: drop the exception ({reason})"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The checker itself: a sources module importing enrich, relatively or absolutely, even lazily, is refused."""
    probe = tmp_path / "probe.py"
    probe.write_text("from ..privacy import mask_ips\ndef f():\n    from ..enrich import pipeline\n"
                     "    import stats_lib.ingest\n", encoding="utf-8")
    found = file_violations(probe, "stats_lib.sources.probe")
    assert [v.split(" (")[0] for v in found] == [
        "stats_lib.sources.probe imports stats_lib.enrich", "stats_lib.sources.probe imports stats_lib.ingest"]
