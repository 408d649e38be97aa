"""nbval over notebooks/ (--nbval-lax): every report notebook runs top to bottom on a small warehouse the test
builds, with its parameters cell's defaults (the warehouse from SITE_STATS_WAREHOUSE); and the notebooks are
committed thin and stripped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import report_data

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_notebooks_are_stripped_thin_and_parameterised():
    assert len(NOTEBOOKS) >= 8
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "site-stats", path.name
        imports = [line for c in nb["cells"] for line in "".join(c["source"]).splitlines()
                   if line.startswith(("import ", "from "))]
        assert len(imports) == 1 and imports[0].startswith("from stats_lib.reports import "), (path.name, imports)
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name
        params = "".join(tagged[0]["source"])
        for name in ("start", "end", "site", "warehouse", "engine", "tz"):
            assert f"\n{name} = " in "\n" + params, (path.name, name)
        assert "Settings.from_env()" in params
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, path.name
                assert not any(line.lstrip().startswith(("def ", "class ")) for line in source.splitlines()), path.name


def test_papermill_parameters_are_checked_before_a_notebook_runs():
    import pytest

    from stats_lib.reports.parameters import BadParameter, validate

    notebook = NOTEBOOKS[0]
    assert validate({"start": "2026-03-01", "site": "example.com", "k": 5}, notebook)["k"] == 5
    for bad in ({"import os": 1}, {"nope": 1}, {"site": ["a"]}, {"site": 'x"\nimport os'}, {"site": "a\u202eb"},
                {"start": "yesterday"}, {"k": 0}, {"k": "5"}):
        with pytest.raises(BadParameter):
            validate(bad, notebook)


def test_nbval_runs_every_notebook(tmp_path):
    from stats_lib import Settings, ingest
    from stats_lib.reports.kernel import KERNEL_NAME, ensure_kernel

    warehouse = tmp_path / "warehouse"
    settings = Settings.from_env(warehouse=str(warehouse), geoip_db=report_data.geoip_test_db(), progress=False)
    ingest([str(report_data.write_log(tmp_path / "logs"))], settings=settings, progress=False)
    assert ensure_kernel() == KERNEL_NAME  # the test setup registers the kernel the notebooks declare
    env = {**os.environ, "SITE_STATS_WAREHOUSE": str(warehouse), "SITE_STATS_PROGRESS": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", KERNEL_NAME, "-q",
         "-p", "no:cacheprovider", "--rootdir", str(REPO), "notebooks/"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    tail = "\n".join(proc.stdout.splitlines()[-25:])
    assert proc.returncode == 0, f"nbval failed:\n{tail}\n{proc.stderr[-3000:]}"
    summary = proc.stdout.strip().splitlines()[-1]
    print(summary)
    assert " passed" in summary and "failed" not in summary and "error" not in summary
