"""Privacy primitives: IP masking for anything written, IP prefixes, daily salts and visitor ids.

A raw client IP must never be written anywhere. ``mask_ips`` scrubs free text (reject records, messages);
``ip_prefix`` keeps the network part (IPv4 /24, IPv6 /48); ``visitor_ids`` hashes (daily salt, site, ip, ua)
with keyed BLAKE2b. Salts are random, one per UTC day, and are deleted once that day's logs can no longer arrive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import secrets
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

_IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
# IPv6: at least two colons with hex groups; covers compressed forms and embedded IPv4 tails.
_IPV6 = r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:.])"
_IP_RE = re.compile(f"{_IPV4}|{_IPV6}")
_MAX_LINE = 2000
_CLOCK = re.compile(r"(?:\d{4}:)?[0-2]?\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?")


def _mask_one(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        # A clock time (16:42:07, or 2012:16:42:07 in a CLF date) is not an address; anything else that looks
        # like part of an IPv6 address (a line cut short) is masked: masking too much is the safe error.
        if _CLOCK.fullmatch(text):
            return text
        return "<ip>"
    return ip_prefix_of(str(ip)) or "<ip>"


def mask_ips(text: str, cap: int = _MAX_LINE) -> str:
    """The text with every IP address replaced by its anonymised prefix, capped to ``cap`` characters."""
    if len(text) > cap:
        text = text[:cap] + "…"
    return _IP_RE.sub(_mask_one, text)


def _fast_v4_prefix(address: str) -> str | None:
    """The /24 of a plain dotted-quad IPv4 address without leading zeros, else None (use ``ipaddress``)."""
    parts = address.split(".")
    if len(parts) != 4:
        return None
    for part in parts:
        if not part.isascii() or not part.isdigit() or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
            return None
        if int(part) > 255:
            return None
    return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"


@lru_cache(maxsize=1 << 18)
def ip_prefix_of(address: str | None) -> str | None:
    """'203.0.113.7' -> '203.0.113.0/24'; '2001:db8:1:2::1' -> '2001:db8:1::/48'; None when not an IP."""
    if not address:
        return None
    fast = _fast_v4_prefix(address)
    if fast is not None:
        return fast
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return f"{ipaddress.IPv4Address(int(ip) & 0xFFFFFF00)}/24"
    return f"{ipaddress.IPv6Address(int(ip) >> 80 << 80)}/48"


def ip_prefixes(ips: pa.Array) -> pa.Array:
    """``ip_prefix_of`` over an Arrow array, computed once per distinct address (remembered across batches)."""
    return _prefix_cache().columns(ips)["ip_prefix"]


@lru_cache(maxsize=1)
def _prefix_cache():
    from ._distinct import DistinctCache

    return DistinctCache(lambda ip: (ip_prefix_of(ip),), pa.schema([("ip_prefix", pa.string())]))


def map_distinct(values: pa.Array, fn, type_: pa.DataType) -> pa.Array:
    """Apply ``fn`` to each distinct value of ``values`` once and spread the results back."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    uniques = [fn(v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(uniques, type=type_), encoded.indices)


class ExpiredSaltWarning(UserWarning):
    """An ingest needed a day whose salt was already deleted: its visitors will not match earlier ones."""


@dataclass
class SaltStore:
    """Daily random salts kept in a folder of the warehouse (``_salts/YYYY-MM-DD.key``).

    A salt is created on first use for a day and deleted ``retention_days`` after that day ends; a tombstone
    (``YYYY-MM-DD.deleted``, no secret inside) remembers that it existed so a late ingest can warn.
    """

    folder: Path
    retention_days: int = 2
    today: dt.date | None = None
    _cache: dict[str, bytes] = field(default_factory=dict)
    expired_days_used: set[str] = field(default_factory=set)
    _ids: object = field(default=None, repr=False, compare=False)  # visitor ids already hashed (DistinctCache)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    def salt(self, day: str) -> bytes:
        if day in self._cache:
            return self._cache[day]
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self.folder / f"{day}.key"
        if key.exists():
            value = bytes.fromhex(key.read_text().strip())
        else:
            if (self.folder / f"{day}.deleted").exists() and day not in self.expired_days_used:
                self.expired_days_used.add(day)
                warnings.warn(
                    f"the salt for {day} was already deleted: visitors of this ingest on {day} get new ids and "
                    "will not match the ones counted before",
                    ExpiredSaltWarning,
                    stacklevel=2,
                )
            value = secrets.token_bytes(32)
            tmp = key.with_suffix(".tmp")
            tmp.write_text(value.hex())
            tmp.replace(key)
        self._cache[day] = value
        return value

    def purge(self) -> list[str]:
        """Delete the salts of days older than the retention window; return those days."""
        today = self.today or dt.datetime.now(dt.timezone.utc).date()
        cutoff = today - dt.timedelta(days=self.retention_days)
        removed = []
        for key in sorted(self.folder.glob("*.key")) if self.folder.exists() else []:
            try:
                day = dt.date.fromisoformat(key.stem)
            except ValueError:
                continue
            if day < cutoff:
                (self.folder / f"{key.stem}.deleted").touch()
                key.unlink()
                self._cache.pop(key.stem, None)
                removed.append(key.stem)
        if removed and self._ids is not None:
            self._ids.clear()
        return removed


def visitor_id(salt: bytes, site: str | None, ip: str | None, user_agent: str | None) -> str:
    h = hashlib.blake2b(key=salt, digest_size=16)
    h.update(f"{site or ''}\x00{ip or ''}\x00{user_agent or ''}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def visitor_ids(days: pa.Array, sites: pa.Array, ips: pa.Array, uas: pa.Array, salts: SaltStore) -> pa.Array:
    """Visitor ids for aligned arrays, hashing each distinct (day, site, ip, ua) combination once."""
    table = pa.table({"d": days, "s": sites, "i": ips, "u": uas})
    keys = pc.binary_join_element_wise(
        *(pc.fill_null(table[c], "") for c in ("d", "s", "i", "u")), "\x1f"
    )
    if salts._ids is None:
        from ._distinct import DistinctCache

        def one(key: str) -> tuple[str]:
            d, _, rest = key.partition("\x1f")
            if rest.count("\x1f") == 2:  # the usual case: hash "site\0ip\0ua" as visitor_id would, directly
                data = rest.replace("\x1f", "\x00").encode("utf-8", "surrogatepass")
                return (hashlib.blake2b(data, key=salts.salt(d), digest_size=16).hexdigest(),)
            s, i, u = rest.split("\x1f", 2)
            return (visitor_id(salts.salt(d), s, i, u),)

        salts._ids = DistinctCache(one, pa.schema([("visitor_id", pa.string())]), max_size=2_000_000, arrow_keys=False)
    return salts._ids.columns(keys)["visitor_id"]
