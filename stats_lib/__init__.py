"""site-stats: privacy-first web analytics from access logs and beacon events.

Public surface::

    stats_lib.ingest(["logs/"], format="auto", site=None)   -> IngestSummary
    stats_lib.query("daily", start="2026-11-01", end="2026-11-07", site=None)  -> pandas.DataFrame
    stats_lib.Settings.from_env(warehouse="./warehouse")
"""

from .api import query
from .config import Settings
from .ingest import IngestSummary, ingest

__all__ = ["IngestSummary", "Settings", "ingest", "query"]
__version__ = "0.1.0"
