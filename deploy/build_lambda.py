"""Build the Lambda deployment package: ``build/lambda/`` (unzipped) and ``build/lambda.zip``.

The package holds what the handlers (``stats_lib.aws.handlers``) import, not the report stack (Jupyter,
papermill, folium, matplotlib): the runtime dependencies of ``pyproject.toml`` but those in ``NOT_FOR_LAMBDA``,
and their dependencies, pinned by ``requirements.lock`` and downloaded from the package index as wheels for Lambda's platform (Linux x86_64,
CPython 3.11), plus the ``stats_lib`` package and the ``queries/`` folder from this checkout. Files no handler
can use (test suites, C headers, Cython sources, Arrow Flight) are removed by the explicit ``PRUNE`` patterns,
and every pattern's removal is printed. The build fails when the unzipped package is over Lambda's 250 MB limit
(262,144,000 bytes). The geolocation database (100 MB) is not packaged: the function downloads it from S3
(``SITE_STATS_GEOIP_S3_URI``) on its first invocation.

    python deploy/build_lambda.py [--out build]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIMIT_BYTES = 262_144_000  # Lambda: 250 MB unzipped, function and layers together
PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11",
            "--only-binary=:all:"]

# The runtime dependencies (pyproject.toml) that no handler imports: the report stack, the query engines and
# the local collector server. Everything else goes into the package; versions come from the lock.
NOT_FOR_LAMBDA = {
    "papermill": "reports", "nbconvert": "reports", "nbformat": "reports", "ipykernel": "reports",
    "jupyterlab": "reports", "folium": "reports", "django-js-lib-leaflet": "reports", "matplotlib": "reports",
    "ipywidgets": "reports", "countryinfo": "reports", "duckdb": "the local query engine",
    "pyathena": "Athena queries run from site-stats query, not from a handler",
    "uvicorn": "the local collector server (Lambda uses mangum)", "httptools": "uvicorn", "uvloop": "uvicorn",
}


def lambda_requirements() -> list[str]:
    """pyproject.toml's runtime dependencies, without ``NOT_FOR_LAMBDA``'s and without version ranges."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = []
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+(\[[^]]*\])?", requirement.strip()).group(0)
        if _norm(name.split("[")[0]) not in {_norm(n) for n in NOT_FOR_LAMBDA}:
            wanted.append(name)
    return wanted


# Lambda's python3.11 runtime runs on Amazon Linux 2 (glibc 2.26): it loads manylinux2014 (glibc 2.17) wheels,
# not the manylinux_2_27/2_28 ones the lock's versions of these ship only. Each is pinned here to its newest
# release with a manylinux2014 CPython 3.11 wheel; the build fails if any other version differs from the lock.
LAMBDA_PINS = {
    "numpy": ("2.2.6", "numpy >= 2.3 ships manylinux_2_27/2_28 wheels only"),
    "pandas": ("2.3.2", "pandas 3 ships manylinux_2_28 wheels only"),
    "pyarrow": ("20.0.0", "pyarrow >= 21 ships manylinux_2_28 wheels only"),
}
# New dependencies of those older releases (not in the lock at all), pinned too.
LAMBDA_EXTRA_PINS = {"pytz": "2026.6"}  # pandas 2 depends on it

# (glob below the package root, why it cannot be needed)
PRUNE = [
    ("pyarrow/include", "C++ headers, for building extensions"),
    ("pyarrow/src", "C++ sources of pyarrow's own extension"),
    ("pyarrow/tests", "pyarrow's test suite"),
    ("pyarrow/**/*.pyx", "Cython sources"),
    ("pyarrow/**/*.pxd", "Cython declarations"),
    ("pyarrow/libarrow_flight.so*", "Arrow Flight RPC (pyarrow.flight is never imported)"),
    ("pyarrow/_flight.cpython-*.so", "Arrow Flight RPC bindings"),
    ("pyarrow/_substrait.cpython-*.so", "Substrait bindings (never imported; libarrow_substrait stays: pyarrow.lib links it)"),
    ("pyarrow/libarrow_python*.so", "link-time names: the extension modules load the .so.2000 soname"),
    ("pyarrow/libarrow_python*.so.*.*.*", "copies of the .so.2000 soname (a wheel cannot hold symlinks)"),
    ("pyarrow/libarrow_python_flight*", "Arrow Flight's Python glue"),
    ("pandas/tests", "pandas' test suite"),
    ("device_detector/tests", "device-detector's fixtures (enrich reads its regexes/ only)"),
    ("regex/tests", "regex's test suite"),
    ("zstandard/_cffi.cpython-*.so", "zstandard's CFFI backend (CPython uses its C backend)"),
    ("numpy/**/tests", "numpy's test suites"),
    ("**/__pycache__", "bytecode compiled on this machine (Lambda compiles on import)"),
]


# The AWS services whose botocore models the handlers' clients need (boto3, awswrangler, pyathena, the
# collector's Firehose sink, credential providers); the models of the other 400-odd services are removed.
BOTOCORE_SERVICES = {"s3", "glue", "athena", "firehose", "sqs", "sts", "sso", "sso-oidc", "lakeformation", "kms"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "build"), help="output folder (default build/)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    target, archive = out / "lambda", out / "lambda.zip"
    shutil.rmtree(target, ignore_errors=True)
    archive.unlink(missing_ok=True)
    target.mkdir(parents=True)
    lock = _read_lock(REPO / "requirements.lock")
    constraints = out / "lambda-constraints.txt"
    pins = {**lock, **{_norm(k): v for k, (v, _) in LAMBDA_PINS.items()}, **{_norm(k): v for k, v in LAMBDA_EXTRA_PINS.items()}}
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
    for name, (version, why) in LAMBDA_PINS.items():
        print(f"lambda: {name}=={version} instead of the lock's {lock.get(_norm(name))}: {why}")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--no-warn-conflicts", "--target", str(target), *PLATFORM, "-c", str(constraints)]
    requirements = lambda_requirements()
    print(f"lambda: installing {', '.join(requirements)} for manylinux2014_x86_64 / CPython 3.11; leaving out "
          + ", ".join(f"{name} ({why})" for name, why in NOT_FOR_LAMBDA.items()))
    subprocess.run([*pip, *requirements], check=True)
    unpinned = {name: version for name, version in _installed(target).items() if pins.get(name) != version}
    if unpinned:
        print("lambda: error: installed versions not pinned by the lock or LAMBDA_PINS: "
              + ", ".join(f"{n}=={v}" for n, v in sorted(unpinned.items())), file=sys.stderr)
        return 1
    _copy_tree(REPO / "stats_lib", target / "stats_lib")
    if (REPO / "queries").is_dir():
        _copy_tree(REPO / "queries", target / "queries")
    for pattern, why in PRUNE:
        removed = _prune(target, pattern)
        if removed:
            print(f"lambda: removed {pattern} ({_mb(removed)}): {why}")
    models = [d for d in sorted((target / "botocore" / "data").iterdir()) if d.is_dir() and d.name not in BOTOCORE_SERVICES]
    removed = sum(_size(d) for d in models)
    for d in models:
        shutil.rmtree(d)
    print(f"lambda: removed the botocore models of {len(models)} services ({_mb(removed)}): the handlers call "
          + ", ".join(sorted(BOTOCORE_SERVICES)))
    size = _size(target)
    print(f"lambda: {target} is {_mb(size)} unzipped (limit {_mb(LIMIT_BYTES)})")
    if size > LIMIT_BYTES:
        print(f"lambda: error: the package is over Lambda's limit by {_mb(size - LIMIT_BYTES)}", file=sys.stderr)
        return 1
    _zip(target, archive)
    print(f"lambda: {archive} is {_mb(archive.stat().st_size)}")
    return 0


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _read_lock(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_norm(name)] = version.strip()
    return pins


def _installed(target: Path) -> dict[str, str]:
    """Name -> version of every distribution pip put in ``target`` (from its .dist-info folders)."""
    found = {}
    for info in target.glob("*.dist-info"):
        meta = (info / "METADATA").read_text(errors="replace")
        name = re.search(r"^Name: *(.+)$", meta, re.M).group(1).strip()
        found[_norm(name)] = re.search(r"^Version: *(.+)$", meta, re.M).group(1).strip()
    return found


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _prune(root: Path, pattern: str) -> int:
    removed = 0
    for path in sorted(root.glob(pattern), key=lambda p: -len(p.parts)):
        if path.is_dir() and not path.is_symlink():
            removed += _size(path)
            shutil.rmtree(path)
        elif path.exists():
            removed += path.stat().st_size
            path.unlink()
    return removed


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _zip(root: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(str(path.relative_to(root)), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


if __name__ == "__main__":
    sys.exit(main())
