"""IP address text as numbers, for many addresses at once."""

from __future__ import annotations

import socket

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..privacy import DOTTED_QUAD


def pack(addresses: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(n x 16 uint8 array, n int8 array of 4/6/0): each address as 16 bytes (IPv4 as ``::a.b.c.d``) and its
    family; 0 where the text is not an address (null, a zone id, a host name), left for the caller.

    Plain IPv4 addresses are split by Arrow kernels; the others (IPv6, surrounding blanks or brackets) go through
    the C library one by one."""
    n = len(addresses)
    out = np.zeros((n, 16), np.uint8)
    family = np.zeros(n, np.int8)
    is_v4 = pc.fill_null(pc.match_substring_regex(addresses, DOTTED_QUAD), False)
    v4_rows = np.flatnonzero(is_v4.to_numpy(zero_copy_only=False))
    if v4_rows.size:
        octets = pc.list_flatten(pc.split_pattern(addresses.filter(is_v4), "."))
        out[v4_rows, 12:] = octets.cast(pa.uint8()).to_numpy().reshape(-1, 4)
        family[v4_rows] = 4
    rest = pc.and_(pc.invert(is_v4), pc.is_valid(addresses))
    rest_rows = np.flatnonzero(rest.to_numpy(zero_copy_only=False))
    inet_pton = socket.inet_pton
    for i, text in zip(rest_rows.tolist(), addresses.filter(rest).to_pylist()):
        text = text.strip().strip("[]")
        for fam, code, pad in ((socket.AF_INET, 4, 12), (socket.AF_INET6, 6, 0)):
            try:
                out[i, pad:] = np.frombuffer(inet_pton(fam, text), np.uint8)
            except (OSError, ValueError):
                continue
            family[i] = code
            break
    return out, family
