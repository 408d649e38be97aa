"""Geolocation from the full client IP (geoip2) and CloudFront edge codes. Placeholder until wired in."""

from __future__ import annotations

import pyarrow as pa


class GeoDatabaseError(RuntimeError):
    """The configured geolocation database is missing or unreadable."""


class GeoLocator:
    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path

    def columns(self, ips: pa.Array) -> dict[str, pa.Array]:
        n = len(ips)
        out = {c: pa.nulls(n, pa.string()) for c in ("country_code", "country", "region", "city")}
        out.update({c: pa.nulls(n, pa.float64()) for c in ("latitude", "longitude")})
        return out

    def edge_columns(self, codes: pa.Array) -> dict[str, pa.Array]:
        n = len(codes)
        return {
            "edge_city": pa.nulls(n, pa.string()),
            "edge_latitude": pa.nulls(n, pa.float64()),
            "edge_longitude": pa.nulls(n, pa.float64()),
        }
