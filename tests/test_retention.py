"""Retention and erasure (issue 11, item 10): ``site-stats prune --keep-days N`` and ``site-stats forget``.

Expected figures come from sources we did not write for this: the sample generator's own expected-daily.json
(prune), a clean warehouse that never held the forgotten site (forget --site), and DuckDB's LIKE counted before
the erasure (forget --path-like; the erasure itself uses Arrow's match_like).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from pathlib import Path

import pytest
from conftest import run_cli

import stats_lib
from stats_lib.api import query
from stats_lib.config import Settings
from stats_lib.engines.duckdb import connect
from stats_lib.export import records
from stats_lib.samples import generate

TODAY = dt.datetime.now(dt.timezone.utc).date()  # when the logs are generated; prune reads its own clock


def _cutoff(prune_output: str) -> str:
    """The first day prune keeps, as it printed it: a run that crosses midnight UTC moves it by a day after the
    test's ``TODAY``, so what it deleted is judged by the day it used."""
    found = re.search(r"days before (\d{4}-\d{2}-\d{2})", prune_output)
    assert found, prune_output
    return found.group(1)
METRICS = ("day", "hits", "pageviews", "visitors", "sessions", "bounces")


def daily(warehouse: Path) -> list[dict]:
    rows = records(query("daily", settings=Settings.from_env(warehouse=str(warehouse), progress=False)))
    return [{k: r[k] for k in METRICS} for r in rows]


def ingest(source: Path, warehouse: Path, site: str | None = None) -> str:
    """In-process ingest (the CLI's own path is tested elsewhere); the summary text."""
    return stats_lib.ingest([str(source)], site=site, settings=Settings.from_env(warehouse=str(warehouse), progress=False)).text()


def _logs(folder: Path, seed: int) -> tuple[Path, list[dict]]:
    generate(folder, days=4, end=TODAY - dt.timedelta(days=1), seed=seed, visitors_per_day=40)
    expected = json.loads((folder / "expected-daily.json").read_text())
    (folder / "expected-daily.json").unlink()
    return folder, [{k: e[k] for k in METRICS} for e in expected]


def _stale_rollup_days(warehouse: Path) -> list[str]:
    from stats_lib.warehouse.rollups import RollupState, Store

    state = RollupState.load(Store.for_warehouse(str(warehouse), None))
    assert state.event_days  # there are days with events, so with rollups to check
    return sorted(state.stale_days())


def _one_line_error(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_prune_deletes_old_days_and_they_never_come_back(tmp_path):
    logs, expected = _logs(tmp_path / "logs", seed=3)
    warehouse = tmp_path / "wh"
    ingest(logs, warehouse)
    days = [e["day"] for e in expected]
    assert daily(warehouse) == expected and len(days) == 4
    salts = warehouse / "_salts"
    assert {p.stem for p in salts.iterdir()} >= set(days[:2])  # the old days' tombstones (their salts expired)

    refused = run_cli("prune", "--keep-days", "2", "--warehouse", str(warehouse), check=False)  # stdin: no tty
    assert refused.returncode == 2 and "add --yes" in _one_line_error(refused)
    pruned = [d for d in days if d < _cutoff(refused.stdout)]
    assert pruned[:2] == days[:2] and len(pruned) <= 3  # 2 days, 3 when midnight UTC passed since the logs
    assert "prune will delete" in refused.stdout and f"({pruned[0]} .. {pruned[-1]})" in refused.stdout
    assert daily(warehouse) == expected  # nothing deleted

    out = run_cli("prune", "--keep-days", "2", "--yes", "--warehouse", str(warehouse)).stdout
    pruned = [d for d in days if d < _cutoff(out)]
    events = sum(e["hits"] for e in expected if e["day"] in pruned)
    assert f"prune will delete {events} event(s)" in out
    kept = [e for e in expected if e["day"] not in pruned]
    assert daily(warehouse) == kept
    assert not any((warehouse / "events" / f"dt={d}").exists() for d in pruned)
    assert not [p for p in (warehouse / "rollups").rglob("*") if any(d in str(p) for d in pruned)]
    assert _stale_rollup_days(warehouse) == []
    assert not any(p.stem in pruned for p in salts.iterdir())
    con = connect(warehouse)
    ledger_days = [d for (ds,) in con.execute("SELECT days FROM ledger").fetchall() for d in ds]
    assert ledger_days and not set(ledger_days) & set(pruned)
    assert con.execute("SELECT SUM(events) FROM ledger").fetchone()[0] == sum(e["hits"] for e in kept)

    again = ingest(logs, warehouse)  # the same files again
    assert f"{events} x erased by an earlier prune/forget" in again
    assert daily(warehouse) == kept
    nothing = run_cli("prune", "--keep-days", "2", "--warehouse", str(warehouse)).stdout
    assert "nothing to delete" in nothing


def test_forget_site_equals_a_warehouse_that_never_had_it(tmp_path):
    a, _ = _logs(tmp_path / "a", seed=4)
    b, _ = _logs(tmp_path / "b", seed=5)
    warehouse, clean = tmp_path / "wh", tmp_path / "clean"
    ingest(a, warehouse, site="www.Forget.example")
    ingest(b, warehouse, site="keep.example")
    ingest(b, clean, site="keep.example")
    assert daily(warehouse) != daily(clean)
    out = run_cli("forget", "--site", "forget.example", "--yes", "--warehouse", str(warehouse)).stdout
    assert "forget will delete" in out and "site forget.example" in out
    assert daily(warehouse) == daily(clean)
    assert _stale_rollup_days(warehouse) == []  # the touched days' rollups were rebuilt
    con = connect(warehouse)
    assert con.execute("SELECT COUNT(*) FROM events WHERE site = 'forget.example'").fetchone() == (0,)
    # the ledger stays true: a's files are still known (so skipped), with no events and the count erased
    rows = con.execute("SELECT events, erased FROM ledger WHERE source LIKE ?", [f"{a}/%"]).fetchall()
    assert rows and all(events == 0 and erased > 0 for events, erased in rows)
    ingest(a, warehouse, site="forget.example")
    assert daily(warehouse) == daily(clean)
    for path in a.iterdir():  # the same lines in new files (a copy): the erasure rule keeps them out too
        (tmp_path / "copy").mkdir(exist_ok=True)
        (tmp_path / "copy" / path.name).write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), mtime=1))
    assert "erased by an earlier prune/forget" in ingest(tmp_path / "copy", warehouse, site="forget.example")
    assert daily(warehouse) == daily(clean)


def test_forget_path_like_rewrites_partitions_without_those_events(tmp_path):
    logs, _ = _logs(tmp_path / "logs", seed=6)
    warehouse = tmp_path / "wh"
    ingest(logs, warehouse)
    con = connect(warehouse)
    before = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    matching = con.execute("SELECT COUNT(*) FROM events WHERE path LIKE '/blog/%'").fetchone()[0]
    other_paths = con.execute("SELECT path, COUNT(*) FROM events WHERE path NOT LIKE '/blog/%' OR path IS NULL "
                              "GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    assert 0 < matching < before
    out = run_cli("forget", "--path-like", "/blog/%", "--yes", "--warehouse", str(warehouse)).stdout
    assert f"forget will delete {matching} event(s)" in out
    con = connect(warehouse)
    assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before - matching
    assert con.execute("SELECT COUNT(*) FROM events WHERE path LIKE '/blog/%'").fetchone()[0] == 0
    assert con.execute("SELECT path, COUNT(*) FROM events GROUP BY 1 ORDER BY 1").fetchall() == other_paths
    assert con.execute("SELECT SUM(events) FROM ledger").fetchone()[0] == before - matching
    con.close()
    assert not list(warehouse.rglob("*.tmp"))
    ingest(logs, warehouse)
    con = connect(warehouse)
    assert con.execute("SELECT COUNT(*) FROM events WHERE path LIKE '/blog/%'").fetchone()[0] == 0


@pytest.mark.parametrize("args", [("prune", "--keep-days", "-1"), ("prune", "--keep-days", "x"), ("forget",),
                                  ("forget", "--site", "a", "--path-like", "b")])
def test_bad_erasure_arguments_are_one_line_exit_2(tmp_path, args):
    proc = run_cli(*args, "--warehouse", str(tmp_path), check=False)
    assert proc.returncode == 2
    _one_line_error(proc)


# -- an S3 warehouse (moto server, real HTTP) -------------------------------------------------------------------
def test_prune_and_forget_on_an_s3_warehouse(aws, tmp_path):
    import boto3

    logs, expected = _logs(tmp_path / "logs", seed=8)
    uri = "s3://site-logs/lake"
    settings = Settings.from_env(warehouse=uri, progress=False)
    stats_lib.ingest([str(logs)], settings=settings)

    def s3_daily() -> list[dict]:
        return [{k: r[k] for k in METRICS} for r in records(query("daily", settings=settings))]

    def keys(prefix: str) -> list[str]:
        listing = boto3.client("s3").list_objects_v2(Bucket="site-logs", Prefix=f"lake/{prefix}")
        return [o["Key"] for o in listing.get("Contents", [])]

    assert s3_daily() == expected
    out = run_cli("prune", "--keep-days", "2", "--yes", "--warehouse", uri, env=aws).stdout
    cutoff = _cutoff(out)
    pruned = [e["day"] for e in expected if e["day"] < cutoff]
    kept = [e for e in expected if e["day"] >= cutoff]
    assert f"prune will delete {sum(e['hits'] for e in expected if e['day'] in pruned)} event(s)" in out
    assert s3_daily() == kept
    assert not [k for k in keys("events/") if any(d in k for d in pruned)]
    assert not [k for k in keys("_salts/") if any(d in k for d in pruned)]
    assert keys("_erasures/rules.json")

    con = connect(uri, settings)
    blog = con.execute("SELECT COUNT(*) FROM events WHERE path LIKE '/blog/%'").fetchone()[0]
    total = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    con.close()
    assert 0 < blog < total
    run_cli("forget", "--path-like", "/blog/%", "--yes", "--warehouse", uri, env=aws)
    con = connect(uri, settings)
    assert con.execute("SELECT COUNT(*), COUNT_IF(path LIKE '/blog/%') FROM events").fetchone() == (total - blog, 0)
    assert con.execute("SELECT SUM(events) FROM ledger").fetchone()[0] == total - blog
    con.close()
    # a re-ingest of the same files (the S3 ledger skips them) and of copies (the rules drop them) changes nothing
    for path in logs.iterdir():
        (tmp_path / "copy").mkdir(exist_ok=True)
        (tmp_path / "copy" / path.name).write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), mtime=1))
    again = stats_lib.ingest([str(logs)], settings=settings)  # pruned sources' records are gone: read, all erased
    assert again.events == 0 and again.count("already ingested") == len([p for p in logs.iterdir()
                                                                        if p.name.split(".")[1][:10] >= cutoff])
    summary = stats_lib.ingest([str(tmp_path / "copy")], settings=settings).text()
    assert "erased by an earlier prune/forget" in summary
    con = connect(uri, settings)
    # the copies' other events are new data (other files); the erased ones stay out
    assert con.execute("SELECT COUNT(*), COUNT_IF(path LIKE '/blog/%'), COUNT_IF(dt < ?) FROM events",
                       [cutoff]).fetchone() == (2 * (total - blog), 0, 0)
