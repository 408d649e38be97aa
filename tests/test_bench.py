"""``make bench``'s ingest section on the small scale: it runs end to end and its figures describe what it generated.

No timing is asserted (speed belongs to ``make bench``); the counts are checked against the generated files, read
back here with the standard library's gzip.
"""

from __future__ import annotations

import gzip
import re
import shutil

from stats_lib.benchmarks import ingest as bench


def test_ingest_bench_runs_on_the_small_corpus_and_describes_it(tmp_path, monkeypatch):
    folder, lines = bench.corpus("small", tmp_path)
    files = sorted(folder.glob("*.gz"))
    assert len(files) == bench.SCALES["small"][1] == 6
    data_lines = 0
    for path in files:
        text = gzip.decompress(path.read_bytes()).decode()
        rows = text.splitlines()
        assert rows[:2] == bench.HEADER.splitlines()
        hours = {row.split("\t")[1][:2] for row in rows[2:]}
        assert len(hours) == 1 and path.name.endswith(f"-{hours.pop()}.{path.name.split('.')[-2]}.gz")
        data_lines += len(rows) - 2
    assert data_lines == lines == 20_000
    again, _ = bench.corpus("small", tmp_path)  # reused, not generated again
    assert again == folder and [p.stat().st_mtime_ns for p in sorted(folder.glob("*.gz"))] == [
        p.stat().st_mtime_ns for p in files]

    monkeypatch.chdir(tmp_path.parent)  # the corpus named relative to here, as make bench names build/bench/...
    figures = bench.measure(folder.relative_to(tmp_path.parent), lines, tmp_path / "work")
    assert figures["events"] == lines and figures["files"] == 6
    assert figures["gzip_bytes"] == sum(p.stat().st_size for p in files)
    assert 0 < figures["parquet_bytes"] <= figures["warehouse_bytes"]
    last = gzip.decompress(files[-1].read_bytes()).decode().splitlines()
    assert figures["next_events"] == len(last) - 2  # the periodic run wrote the new file's events only
    assert "1 ingested, 5 already ingested" in figures["ingest_next"].output
    for run in (figures["ingest"], figures["ingest_one"], figures["ingest_next"], figures["ingest_memory"]):
        assert run.max_rss > 50 * 2**20 and run.cpu > 0
    assert figures["ingest"].tree_rss == 0  # a timed run is not sampled (sampling slows it)
    assert figures["ingest_memory"].tree_rss >= figures["ingest_memory"].max_rss * 0.5
    if shutil.which("goaccess"):
        assert figures["goaccess_valid"] == figures["goaccess_total"] == lines
        assert figures["goaccess_version"].startswith("GoAccess - 1.7")
    text = bench.report(figures, "small")
    assert "events written: 20,000 of 20,000 lines generated" in text
    assert f"{lines:,} CloudFront lines in 6 hourly gzip files" in text
    row = re.search(r"\| `site-stats ingest`[^|]*\| ([\d.]+) \| ([\d,]+) \|", text)
    assert row and int(row.group(2).replace(",", "")) == round(lines / figures["ingest"].seconds)

