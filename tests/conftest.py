"""Shared test fixtures: the corpora folder, a fresh warehouse, and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# `make test` is a gate: the same examples on every run, so a red CI is a bug anyone can reproduce, never luck.
# `make fuzz` runs the same properties with fresh random examples (--hypothesis-profile=explore) to find new ones;
# each example it finds becomes a plain regression test (see test_reading_properties.py).
hypothesis_settings.register_profile("gate", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile("gate")

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpora"
CLI = [sys.executable, "-m", "stats_lib.cli"]

# the real headless Chromium every browser test uses (Debian's, installed by `make browser`)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                    reason=f"{CHROMIUM} is not installed (run `make browser` as root to install it)")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module, through playwright."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"the shared corpora are not beside this clone ({CORPORA}); CI always has them")
    return CORPORA


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"


@pytest.fixture
def settings(warehouse: Path):
    from stats_lib.config import Settings

    return Settings.from_env(warehouse=str(warehouse), progress=False)


def parse_file(path: Path, fmt: str | None = None):
    """Detect (or force) the format and parse a whole file: (format name, RAW rows as dicts, the LineReader)."""
    from stats_lib.sources import get_format
    from stats_lib.sources.base import LineReader
    from stats_lib.sources.detect import detect

    source = get_format(fmt) if fmt else detect(path)
    reader = LineReader(str(path), source_file=path.name)
    rows = [row for table in source.parse(reader) for row in table.to_pylist()]
    return source.NAME, rows, reader


def run_cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``site-stats`` as a user would, in a subprocess."""
    full_env = {**os.environ, "SITE_STATS_PROGRESS": "0", **(env or {})}
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, env=full_env, cwd=REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"site-stats {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture
def aws(monkeypatch):
    """A real S3/Glue/Athena HTTP API emulation (moto server) on a free port; AWS clients point at it through
    AWS_ENDPOINT_URL, with the bucket ``site-logs``. Yields the environment a CLI subprocess needs."""
    moto_server = pytest.importorskip("moto.server")
    import boto3
    import requests

    server = moto_server.ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()  # moto's state is per process
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3").create_bucket(Bucket="site-logs")
    yield env
    server.stop()
