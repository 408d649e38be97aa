"""The privacy rules for IP addresses, in one place for every layer: masking in free text, anonymised prefixes.

A raw client IP must never be written anywhere. ``mask_ips`` scrubs free text (reject records, error messages,
log messages); ``ip_prefix_of`` keeps the network part (IPv4 /24, IPv6 /48), the only form of an address that is
stored; ``ip_prefixes`` / ``prefixes_of`` do the same for Arrow arrays. Sources (rejects) and enrichment
(the stored prefix) both import it from here.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import flat

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
DOTTED_QUAD = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"  # a plain IPv4 address, as inet_pton accepts it
# Masking is by token, not by context: an address is found wherever it stands, glued to letters, digits, '_',
# '.' or ':' (a CloudFront line whose tab became '_'), so no lookaround guards the patterns. What they catch
# beyond addresses (a version number, a MAC address, a C++ '::') is masked too: masking too much is the safe error.
_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
# IPv6: at least two colons with hex groups; covers compressed forms and embedded IPv4 tails.
_IPV6 = r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
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
    prefix = ip_prefix_of(str(ip)) or "<ip>"
    if match.string.startswith(prefix[len(text):], match.end()) and prefix.startswith(text):
        return text  # already a prefix ('203.0.113.0/24'): masking twice must not give '203.0.113.0/24/24'
    return prefix


def mask_ips(text: str, cap: int = _MAX_LINE) -> str:
    """The text with every IP address replaced by its anonymised prefix, capped to ``cap`` characters (+ '…').

    Masking runs on a little more than will be kept, so an address cut by the cap is never left half-visible."""
    long = len(text) > cap
    masked = _IP_RE.sub(_mask_one, text[: cap + 64] if long else text)
    return masked[:cap] + "…" if long or len(masked) > cap else masked


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


def _fast_v6_prefix(address: str) -> str | None:
    """The /48 of a plain IPv6 address (or the /24 of an IPv4-mapped one) with the C library, else None."""
    try:
        packed = socket.inet_pton(socket.AF_INET6, address)
    except (OSError, ValueError):
        return None
    if packed[:12] == _MAPPED:
        return f"{packed[12]}.{packed[13]}.{packed[14]}.0/24"
    return socket.inet_ntop(socket.AF_INET6, packed[:6] + bytes(10)) + "/48"  # RFC 5952 text, as ipaddress


_MAPPED = bytes(10) + b"\xff\xff"


def ip_prefix_of(address: str | None) -> str | None:
    """'203.0.113.7' -> '203.0.113.0/24'; '2001:db8:1:2::1' -> '2001:db8:1::/48'; None when not an IP."""
    if not address:
        return None
    fast = _fast_v4_prefix(address) or _fast_v6_prefix(address)
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


def prefixes_of(addresses: pa.Array) -> list[pa.Array]:
    """``ip_prefix_of`` of distinct addresses: plain IPv4 addresses with Arrow string kernels, the rest (IPv6,
    mapped, odd spellings) in Python."""
    is_v4 = pc.match_substring_regex(addresses, DOTTED_QUAD)
    prefixes = pc.replace_substring_regex(addresses, r"\.\d+$", ".0/24")
    is_other = pc.invert(pc.fill_null(is_v4, False))
    if pc.any(is_other).as_py():
        others = [ip_prefix_of(ip) for ip in addresses.filter(is_other).to_pylist()]
        prefixes = pc.replace_with_mask(prefixes, is_other, pa.array(others, pa.string()))
    return [prefixes]


def ip_prefixes(ips: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``ip_prefix_of`` over an Arrow array, once per distinct address of the array."""
    encoded = pc.dictionary_encode(flat(ips))
    return pc.take(prefixes_of(encoded.dictionary)[0], encoded.indices)
