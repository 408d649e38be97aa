"""environment.yml works for conda users: its pip section is valid pip input and resolves, against the real
package index with the lock as constraints, to exactly the versions requirements.lock pins."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def _pip_section() -> list[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    (section,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    return section


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_pip_section_has_no_option_pip_rejects_and_no_dev_extras():
    section = _pip_section()
    assert not [line for line in section if "--no-deps" in line]  # pip: "no such option: --no-deps"
    assert not [line for line in section if "[dev]" in line or "dev]" in line]
    assert "-c requirements.lock" in section and "-e ." in section


def test_the_pip_section_resolves_to_the_locked_versions(tmp_path):
    # conda runs pip on these lines as a requirements file beside environment.yml: paths are relative to it
    lines = [re.sub(r"^(-[ce]) (\S+)$", lambda m: f"{m[1]} {REPO / m[2]}", line) for line in _pip_section()]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), "-r", str(requirements)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    if proc.returncode != 0 and re.search(r"connection|resolve|network is unreachable|timed out", proc.stderr, re.I) \
            and "ResolutionImpossible" not in proc.stderr:
        pytest.skip(f"the package index is unreachable: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    installed = {_norm(i["metadata"]["name"]): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}
    assert installed.pop("site-stats") == "0.1.0"
    lock = _lock()
    assert {n: v for n, v in installed.items() if lock.get(n) != v} == {}  # every resolved version is the lock's
    runtime_only = set(lock) - set(installed)  # the lock also pins the dev tools, which conda users do not get
    assert {"pytest", "ruff", "mypy", "moto"} <= runtime_only
