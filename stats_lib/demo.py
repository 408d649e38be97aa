"""``site-stats demo``: generate a week of sample CloudFront logs, ingest them, print the daily table, check it
against the generator's own expected metrics, and render the report."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from .config import Settings

# A fixed week, so that running the demo again (on any day) ingests the same files and changes nothing.
DEMO_END = dt.date(2026, 11, 7)
DEMO_SEED = 7


def run_demo(settings: Settings, days: int = 7, out: Path = Path("outputs")) -> int:
    from . import export
    from .api import query
    from .ingest import ingest
    from .samples import generate

    started = time.monotonic()
    logs = Path("sample-logs")  # beside the warehouse and outputs/: relative to the working directory
    print(f"1/4 generating {days} days of sample CloudFront logs into {logs}/")
    generate(logs, days=days, end=DEMO_END, seed=DEMO_SEED)
    expected = json.loads((logs / "expected-daily.json").read_text())
    print(f"2/4 ingesting into {settings.warehouse}")
    summary = ingest([str(p) for p in sorted(logs.glob("*.gz"))], settings=settings)
    print(summary.text())
    start = DEMO_END - dt.timedelta(days=days - 1)
    daily = query("daily", start, DEMO_END, settings=settings)
    print("3/4 daily metrics (site-stats query daily):")
    print(export.to_table(daily))
    got: list[dict[str, Any]] = export.records(daily)
    same = sum(
        1 for row, want in zip(got, expected)
        if all(abs(float(row[k]) - float(v)) < 1e-9 for k, v in want.items() if k != "day") and row["day"] == want["day"]
    )
    print(f"    check: {same} of {len(expected)} days equal the generator's expected metrics")
    print(f"4/4 rendering the report into {out}/")
    try:
        from .reports.run import render_report
    except ImportError as exc:  # reports not installed in this build
        print(f"    report skipped: {exc}", file=sys.stderr)
        index = None
    else:
        index = render_report(start=start, end=DEMO_END, site=None, out=out, tz="UTC", settings=settings)
    print(f"done in {time.monotonic() - started:.1f}s.")
    print(f"  warehouse: {Path(settings.warehouse).resolve()}")
    if index is not None:
        print(f"  report:    {Path(index).resolve()}  (open it in a browser)")
    print("  next:      site-stats query top_pages --start", start.isoformat(), "--end", DEMO_END.isoformat())
    return 0 if same == len(expected) else 1
