"""Is ``--warehouse`` a warehouse? Checked before a command reads or writes, so a typo is an error, not "(no rows)".

A local warehouse is a folder holding at least one of the folders site-stats writes (``events/``, ``_ledger/``,
...). Reading needs one; writing accepts one, a new path or an empty folder, and refuses a folder holding other
things (a mistyped path pointing at someone's documents). An S3 warehouse needs its bucket; reading also needs
something under its prefix.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import NotAWarehouse

MARKERS = ("events", "_ledger", "rejects", "_salts", "rollups", "_erasures")
_WHERE = "check --warehouse (or SITE_STATS_WAREHOUSE)"


def require_warehouse(settings: Settings, *, writing: bool = False) -> None:
    """Raise ``NotAWarehouse`` (one line saying what to do) unless ``settings.warehouse`` can be used."""
    if settings.is_s3:
        _require_s3(settings, writing)
    else:
        _require_local(Path(settings.warehouse), writing)


def is_local_warehouse(root: Path) -> bool:
    return root.is_dir() and any((root / name).is_dir() for name in MARKERS)


def _require_local(root: Path, writing: bool) -> None:
    if root.exists() and not root.is_dir():
        raise NotAWarehouse(f"the warehouse {root} is a file, not a folder", f"{_WHERE}: it names a folder")
    if is_local_warehouse(root):
        return
    if writing:
        if not root.exists() or not any(root.iterdir()):
            return
        raise NotAWarehouse(f"{root} is a folder that is not a site-stats warehouse (no events/ or _ledger/ in it)",
                            f"{_WHERE}: name a new or empty folder, or an existing warehouse")
    if not root.exists():
        raise NotAWarehouse(f"there is no warehouse at {root}", f"{_WHERE}, or run site-stats ingest first")
    raise NotAWarehouse(f"{root} is not a site-stats warehouse (no events/ or _ledger/ in it)", _WHERE)


def _require_s3(settings: Settings, writing: bool) -> None:
    import pyarrow.fs as pafs

    from ..aws.session import split_uri
    from .s3 import filesystem

    bucket, prefix = split_uri(settings.warehouse)
    fs = filesystem(settings)
    if fs.get_file_info(bucket).type == pafs.FileType.NotFound:
        raise NotAWarehouse(f"the bucket {bucket} does not exist (or is not visible to you)",
                            f"{_WHERE}; create the bucket first for a new warehouse")
    if writing:
        return
    root = f"{bucket}/{prefix}" if prefix else bucket
    for name in MARKERS:
        selector = pafs.FileSelector(f"{root}/{name}", recursive=False, allow_not_found=True)
        if fs.get_file_info(selector):
            return
    raise NotAWarehouse(f"there is no warehouse at {settings.warehouse} (nothing under events/ or _ledger/)",
                        f"{_WHERE}, or run site-stats ingest first")
