"""``python -m stats_lib.benchmarks [--only SECTION ...] [--scale small|default|large] [--out BENCHMARKS.md]
[--work DIR] [--rebuild-rollups]``."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path

from . import SECTIONS


def machine() -> str:
    """The machine the figures were measured on: cores, memory, Python and the libraries that matter."""
    from importlib import metadata

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for name in ("pyarrow", "duckdb", "numpy", "pandas", "starlette", "uvicorn"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return (f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {mem:.0f} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}; " + ", ".join(versions))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stats_lib.benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "default"),
                        choices=["small", "default", "large"], help="input size (env BENCH_SCALE)")
    parser.add_argument("--out", default="BENCHMARKS.md", help="where to write the figures")
    parser.add_argument("--work", default=None, help="dashboard: folder of the synthetic warehouses (default "
                        "outputs/bench); one of the same shape is reused with its rollups")
    parser.add_argument("--rebuild-rollups", action="store_true",
                        help="dashboard: rebuild the rollups from scratch (timed) instead of reusing them")
    options = parser.parse_args(argv)
    parts = [
        "# Benchmarks (`make bench`)\n",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}; scale `{options.scale}`.\n",
    ]
    for section in options.only or SECTIONS:
        try:
            module = importlib.import_module(f"{__package__}.{section}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{section}":
                raise
            parts.append(f"## {section}\n\nnot measured: this section is not built yet.\n")
            continue
        print(f"== bench: {section}", file=sys.stderr)
        parts.append(module.run(options).rstrip() + "\n")
    text = "\n".join(parts)
    Path(options.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
