"""``site-stats serve --verbose`` logs each move of a WAL segment into Parquet (events, days, drops by reason,
seconds) on stderr, never a client IP; without ``--verbose`` it logs none. The bots it dropped (answered 202,
not stored) are counted by reason where the data-quality report reads them: ``rejects_by_reason`` and the
ledger's ``skipped``."""

from __future__ import annotations

import datetime as dt
import re

from collector_support import CollectorServer, stored, wait_until

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SOURCE = "127.0.44.7"


def _send_and_stop(server: CollectorServer) -> None:
    for agent in (None, GOOGLEBOT, GOOGLEBOT):  # a browser's, then two from a crawler (dropped)
        options = {} if agent is None else {"user_agent": agent}
        answer = server.send({"name": "pageview", "url": "https://example.com/logged"}, source=SOURCE, **options)
        assert answer.status == 202, answer.body
    wait_until(lambda: stored(server.warehouse, "path = '/logged'"), "the stored event")
    server.stop()  # SIGTERM: whatever is left moves into Parquet first


def test_verbose_serve_logs_each_flush_without_the_client_ip(tmp_path):
    server = CollectorServer(tmp_path / "warehouse", options=("--verbose",))
    with server:
        _send_and_stop(server)
    text = server.log.read_text()
    moves = [line for line in text.splitlines() if line.startswith("site-stats: collector: moved ")]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    events = sum(int(re.search(r": (\d+) events stored", line).group(1)) for line in moves)
    dropped = sum(int(re.search(r", (\d+) dropped", line).group(1)) for line in moves)
    assert (events, dropped) == (1, 2), text
    reasons = [m.groups() for line in moves for m in re.finditer(r"(bot: [^,)]+) (\d+)", line)]
    assert {r for r, _ in reasons} == {"bot: Googlebot"} and sum(int(n) for _, n in reasons) == 2, text
    assert all(re.search(r"in \d+\.\d\d s$", line) for line in moves), text
    assert any(f"on 1 day(s) ({today})" in line for line in moves), text
    assert SOURCE not in text and "127.0.44." not in text.replace("127.0.44.0/24", "")

    from stats_lib.api import query
    from stats_lib.config import Settings

    settings = Settings.from_env(warehouse=str(server.warehouse), progress=False)
    day = dt.date.fromisoformat(today)
    rejects = query("rejects_by_reason", day, day, settings=settings)
    assert rejects[["kind", "reason", "lines"]].values.tolist() == [["skipped", "bot: Googlebot", 2]]
    ledger = query("ingest_ledger", day, day, settings=settings)
    assert (ledger["events"].sum(), ledger["skipped"].sum(), ledger["rejected"].sum()) == (1, 2, 0)


def test_serve_without_verbose_logs_no_flush(tmp_path):
    server = CollectorServer(tmp_path / "warehouse")
    with server:
        _send_and_stop(server)
    assert "moved" not in server.log.read_text()
