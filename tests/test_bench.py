"""``make bench`` on a small log: it runs end to end and its figures describe the log it generated."""

from __future__ import annotations

from stats_lib import bench


def test_bench_runs_on_a_small_log(tmp_path, capsys):
    log = tmp_path / "small.log"
    figures = bench.run(20_000, str(log), None, repeat=2)
    assert figures["lines"] == 20_000
    assert len(figures["parse_runs"]) == len(figures["parse_and_enrich_runs"]) == len(figures["steps_runs"]) == 2
    assert figures["parse_s"] == min(figures["parse_runs"])
    assert figures["added_s"] == min(figures["parse_and_enrich_runs"]) - figures["parse_s"]
    assert figures["steps_s"] == min(figures["steps_runs"])
    assert figures["steps_s"] == sum(figures["steps"].values()) > 0
    assert {"ip addresses", "visitor ids", "bots", "user agents", "referrers", "campaigns"} <= set(figures["steps"])
    assert 0 < figures["distinct_user_agents"] < figures["distinct_ips"] < 20_000
    assert log.read_text(encoding="utf-8").count("\n") == 20_000 + 2  # two header lines
    out = capsys.readouterr().out
    assert "target <= +25%" in out and "best of 2" in out
