"""``make bench``: the speed figures of site-stats, measured, never asserted in tests.

Each section is a module of this package with ``run(options) -> str`` returning a Markdown section (its
figures, with what was compared in the same run); ``python -m stats_lib.benchmarks`` runs them in order and
writes ``BENCHMARKS.md`` with the machine's description. Sections: ``ingest`` (site-stats ingest vs GoAccess
and zcat on the same files), ``dashboard`` (every report query over a large synthetic warehouse),
``collector`` (accepted events per second and latency under concurrent clients), ``visitors`` (the visitor-id
step alone, for 300 sites and for 2**24+ addresses in one batch).
"""

SECTIONS = ("ingest", "dashboard", "collector", "visitors")
