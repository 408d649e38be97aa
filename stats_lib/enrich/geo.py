"""Geolocation from the full client IP (geoip2 / MaxMind DB format) and from CloudFront edge codes.

``GeoLocator(path)`` opens a MaxMind-format City or Country database (MaxMind GeoLite2/GeoIP2, DB-IP City Lite)
once, checks it is one (type and a probe lookup), and raises ``GeoDatabaseError`` with what to do when it is
missing, unreadable, corrupt or of another kind, so a bad setting fails at start, never per line. With
``None`` every geo column is null.

``columns(ips)`` gives country code and English name, first subdivision, city and coordinates per address; an
address the database does not know, or a value that is not an address, gives nulls. New distinct addresses are
walked through the database's search tree together (``_mmdb_tree``) and each distinct *record* they reach is
decoded once, so a city's thousand addresses cost one decode.
``edge_columns(codes)`` turns a CloudFront POP code (``FRA56-P7``) into its airport's city and coordinates
(``airportsdata``, IATA), a coarse location that needs no database.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from maxminddb.errors import InvalidDatabaseError

from . import _mmdb_tree
from ._addresses import pack
from ._distinct import DistinctCache

GEO_COLUMNS = ("country_code", "country", "region", "city", "latitude", "longitude")
EDGE_COLUMNS = ("edge_city", "edge_latitude", "edge_longitude")
_FLOATS = {"latitude", "longitude", "edge_latitude", "edge_longitude"}
_PROBES = ("1.1.1.1", "81.2.69.142", "2001:4860:4860::8888", "::1")
_HELP = (
    "set --geoip-db / SITE_STATS_GEOIP_DB to a MaxMind-format City or Country database (.mmdb: MaxMind "
    "GeoLite2-City or DB-IP City Lite), or reinstall the demo one with `make install`"
)


class GeoDatabaseError(ValueError):
    """The configured geolocation database is missing, unreadable, corrupt or not a City/Country database."""


def _open(path: str):
    import geoip2.database
    import maxminddb

    p = Path(path).expanduser()
    if not p.is_file():
        raise GeoDatabaseError(f"geolocation database not found: {path}; {_HELP}")
    try:
        reader = geoip2.database.Reader(str(p))
    except (InvalidDatabaseError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise GeoDatabaseError(f"geolocation database {path} is unreadable or corrupt ({exc}); {_HELP}") from None
    kind = reader.metadata().database_type
    if "City" not in kind and "Country" not in kind:
        reader.close()
        raise GeoDatabaseError(
            f"geolocation database {path} is a {kind!r} database, not a City or Country one; {_HELP}"
        )
    raw = maxminddb.open_database(str(p), maxminddb.MODE_AUTO)
    try:  # a corrupt search tree or data section only shows on lookups
        for probe in _PROBES:
            if raw.metadata().ip_version == 4 and ":" in probe:
                continue
            record = raw.get(probe)
            if record is not None and not isinstance(record, dict):
                raise InvalidDatabaseError(f"record for a probe address is a {type(record).__name__}")
    except (InvalidDatabaseError, ValueError, UnicodeDecodeError, TypeError, KeyError) as exc:
        raw.close()
        reader.close()
        raise GeoDatabaseError(f"geolocation database {path} is corrupt ({exc}); {_HELP}") from None
    reader.close()
    return raw


def _schema(names: tuple[str, ...]) -> pa.Schema:
    return pa.schema([(c, pa.float64() if c in _FLOATS else pa.string()) for c in names])


def _name(obj) -> str | None:
    if not isinstance(obj, dict):
        return None
    names = obj.get("names")
    if isinstance(names, dict):
        return names.get("en") or next(iter(names.values()), None)
    return None


class GeoLocator:
    """Look-ups in one City/Country database; see the module docstring."""

    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path
        self._reader = _open(db_path) if db_path else None
        self.database_type = self._reader.metadata().database_type if self._reader else None
        self._tree = None
        if self._reader is not None:
            try:
                self._tree = _mmdb_tree.SearchTree(str(Path(str(db_path)).expanduser()), self._reader.metadata())
            except (ValueError, OSError) as exc:
                self.close()
                raise GeoDatabaseError(f"geolocation database {db_path} is corrupt ({exc}); {_HELP}") from None
        self._by_record: dict[int, tuple] = {}  # data record position -> its row
        self.schema = _schema(GEO_COLUMNS)
        self._columns_cache = DistinctCache(None, self.schema, max_size=1_000_000, many=self.many_columns)
        self._edges = DistinctCache(edge_location, _schema(EDGE_COLUMNS))

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._tree = None

    def lookup(self, ip: str | None) -> tuple:
        """(country_code, country, region, city, latitude, longitude) for one address; nulls when unknown."""
        empty = (None,) * 6
        if self._reader is None or not ip:
            return empty
        try:
            record = self._reader.get(ip.strip().strip("[]"))
        except (ValueError, InvalidDatabaseError):  # not an IP address ('-', 'localhost'), IPv6 in an IPv4-only
            record = None  # database, or a damaged corner of the database that the start-up probes did not touch
        out: tuple = empty
        if isinstance(record, dict):
            country = record.get("country") or record.get("registered_country") or {}
            subdivisions = record.get("subdivisions") or []
            location = record.get("location") or {}
            lat, lon = location.get("latitude"), location.get("longitude")
            out = (
                country.get("iso_code"),
                _name(country),
                _name(subdivisions[0]) if subdivisions else None,
                _name(record.get("city")),
                float(lat) if lat is not None else None,
                float(lon) if lon is not None else None,
            )
        return out

    def lookup_many(self, ips: pa.Array | list[str | None]) -> list[tuple]:
        """``lookup`` for many addresses: one search-tree walk for all, one decode per distinct record."""
        columns = [c.to_pylist() for c in self.many_columns(ips)]
        return list(zip(*columns))

    def many_columns(self, ips: pa.Array | list[str | None]) -> list[pa.Array]:
        """The geo columns (``schema``) of many addresses: the search tree walked once for all of them, each
        distinct record decoded once (and remembered), its columns spread to the addresses that reach it."""
        if not isinstance(ips, pa.Array):
            ips = pa.array(ips, pa.string())
        if self._tree is None:
            return [pa.nulls(len(ips), f.type) for f in self.schema]
        records = self._tree.records(*pack(ips))
        distinct, first, inverse = np.unique(records, return_index=True, return_inverse=True)
        by_record = self._by_record
        if len(by_record) > 1_000_000:
            by_record.clear()
        empty = (None,) * len(GEO_COLUMNS)
        rows = []
        for record, at in zip(distinct.tolist(), first.tolist()):
            if record == _mmdb_tree.NOT_FOUND or record == _mmdb_tree.UNKNOWN:
                rows.append(empty)  # UNKNOWN rows are asked address by address below
            else:
                row = by_record.get(record)
                if row is None:
                    row = by_record[record] = self.lookup(ips[at].as_py())
                rows.append(row)
        table = [pa.array(list(values), f.type) for values, f in zip(zip(*rows), self.schema)] if rows else None
        index = pa.array(inverse.ravel().astype(np.int32))
        columns = [col.take(index) for col in table] if table else [pa.nulls(0, f.type) for f in self.schema]
        unknown = np.flatnonzero(records == _mmdb_tree.UNKNOWN)
        if unknown.size:  # not a plain address (a zone id, a host name) or a damaged corner: the reader decides
            asked = [self.lookup(ips[int(i)].as_py()) for i in unknown]
            mask = np.zeros(len(records), bool)
            mask[unknown] = True
            mask = pa.array(mask)
            columns = [
                pc.replace_with_mask(col, mask, pa.array(list(values), col.type))
                for col, values in zip(columns, zip(*asked))
            ]
        return columns

    def columns(self, ips: pa.Array) -> dict[str, pa.Array]:
        """The geo columns for each client IP, one look-up per distinct address."""
        if self._reader is None:
            return {f.name: pa.nulls(len(ips), f.type) for f in self.schema}
        return self._columns_cache.columns(ips)

    def edge_columns(self, codes: pa.Array) -> dict[str, pa.Array]:
        """edge_city, edge_latitude, edge_longitude from CloudFront edge location codes."""
        return self._edges.columns(codes)


_EDGE = re.compile(r"^([A-Za-z]{3})\d*(?:-|$)")


@cache
def _airport_table() -> dict:
    """airportsdata's IATA table, loaded once per process (0.3 s): read-only reference data."""
    import airportsdata

    return airportsdata.load("IATA")


def edge_location(code: str | None) -> tuple[str | None, float | None, float | None]:
    """'FRA56-P7' -> ('Frankfurt', 50.03..., 8.57...); unknown codes -> nulls."""
    if not code:
        return (None, None, None)
    m = _EDGE.match(code.strip())
    if not m:
        return (None, None, None)
    airport = _airport_table().get(m.group(1).upper())
    if not airport:
        return (None, None, None)
    city = airport.get("city") or airport.get("name")
    lat, lon = airport.get("lat"), airport.get("lon")
    return (city or None, float(lat) if lat is not None else None, float(lon) if lon is not None else None)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False
