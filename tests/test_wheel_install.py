"""The package stands alone: a wheel built from the checkout, installed into a fresh virtual environment outside
it, runs ``site-stats demo`` (queries and notebooks come from inside the installed package).

To stay cheap the fresh environment takes its dependencies from this project's ``.venv`` through a plain path
in a ``.pth`` file (a plain path does not run that folder's editable-install hook, so the checkout's
``stats_lib`` is not importable there) and the wheel is installed with ``--no-deps``. Jupyter's data files
(nbconvert's templates) live under the project venv's ``share/``, which a ``.pth`` cannot bring: ``JUPYTER_PATH``
points there, as a real install of the dependencies would have put them in the new environment's own ``share/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ("stats_lib", "queries", "notebooks", "pyproject.toml", "setup.py", "README.md")


def _run(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built (with the project's build backend, from the package index) from a copy of the sources."""
    src = tmp_path_factory.mktemp("src")
    for name in SHIPPED:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}))
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)],
                          capture_output=True, text=True)
    if proc.returncode != 0 and ("Could not find a version" in proc.stderr or "connection" in proc.stderr.lower()):
        pytest.skip(f"the package index is unreachable, so the build backend cannot be fetched: {proc.stderr[-300:]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (built,) = dist.glob("site_stats-*.whl")
    return built


def test_the_wheel_carries_the_queries_and_notebooks(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, pattern in (("queries", "*.sql"), ("queries/shared", "*.sql"), ("queries/rollups", "*.sql"),
                            ("notebooks", "*.ipynb")):
        expected = {f"stats_lib/{folder}/{p.name}" for p in (REPO / folder).glob(pattern)}
        assert expected and expected <= names, folder
    for data in ("stats_lib/py.typed", "stats_lib/enrich/data/referrers.yml", "stats_lib/collector/tracker.js",
                 "stats_lib/reports/templates/page.html"):
        assert data in names


def test_site_stats_demo_runs_from_the_installed_wheel(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site_packages = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site_packages / "site-stats-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel)
    where = _run(python, "-c", "import stats_lib; print(stats_lib.__file__)", cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not the checkout's
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    env = {**os.environ, "SITE_STATS_PROGRESS": "0", "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    env.pop("SITE_STATS_WAREHOUSE", None)
    proc = _run(venv / "bin" / "site-stats", "demo", cwd=run_dir, env=env)
    print(proc.stdout)
    assert "check: 7 of 7 days equal the generator's expected metrics" in proc.stdout
    assert (run_dir / "warehouse" / "events").is_dir() and (run_dir / "sample-logs").is_dir()
    assert (run_dir / "outputs" / "index.html").is_file()
    assert sorted(p.stem for p in (run_dir / "outputs").glob("0*.html")) == sorted(
        p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
