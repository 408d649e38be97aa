"""``make bench`` section ``visitors``: the visitor-id step (``enrich.visitors.VisitorIds.ids``) on its own.

Two batches, each built in memory with a fixed seed and handed to the step as plain string columns (as a source
gives them, so encoding them is part of what is timed):

- a hosting provider's log: 300 sites in one batch (1 million rows at scale ``default`` and ``large``, 100
  thousand at ``small``), 3 days, a visitor (address, agent, site) per 20 rows;
- more than 2**24 distinct addresses in one batch (2**24 + 1000 rows, each its own address; 2**20 + 1000 at
  ``small``), 300 sites, 2 days, 7 user agents: the size at which the old 24-bit address codes overflowed.

Reports the distinct combinations (what is hashed), wall and CPU seconds of the step and microseconds per row. The figures count only if the ids are right:
1,000 rows spread over each batch, the first and last included, are checked against the definition computed
here with ``hashlib`` alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.visitors import VisitorIds
from ..warehouse.salts import SaltStore

SITES_ROWS = {"small": 100_000, "default": 1_000_000, "large": 1_000_000}
ADDRESS_BITS = {"small": 20, "default": 24, "large": 24}
FIRST_DAY = dt.date(2026, 11, 7)


def _pick(values: list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(values).take(pa.array(codes))


def _addresses(numbers: np.ndarray) -> pa.Array:
    """Dotted quads of 32-bit numbers, with Arrow kernels."""
    octet = pa.array([str(i) for i in range(256)])
    return pc.binary_join_element_wise(*(octet.take(pa.array((numbers >> s) & 255)) for s in (24, 16, 8, 0)), ".")


def sites_batch(rows: int) -> list[pa.Array]:
    """(days, sites, ips, uas): 300 sites, 3 days, one visitor (an address, an agent and a site) per 20 rows,
    addresses from 50,000 and agents from 2,000."""
    rng = np.random.default_rng(300)
    visitors = max(1, rows // 20)
    days = [(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(3)]
    agents = [f"Mozilla/5.0 (X11; Linux x86_64) Firefox/{i}.0" for i in range(2000)]
    visitor = rng.integers(0, visitors, rows)
    address = rng.integers(0, 50_000, visitors)[visitor]
    return [_pick(days, rng.integers(0, 3, rows)), _pick([f"site{i}.example" for i in range(300)], visitor % 300),
            _addresses(address + (198 << 24)), _pick(agents, rng.integers(0, 2000, visitors)[visitor])]


def addresses_batch(rows: int) -> list[pa.Array]:
    """(days, sites, ips, uas): one distinct address a row, 300 sites, 2 days, 7 user agents."""
    index = np.arange(rows)
    days = [(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(2)]
    return [_pick(days, index % 2), _pick([f"s{i}.example" for i in range(300)], index % 300),
            _addresses(index + (10 << 24)), _pick([f"agent {i}" for i in range(7)], index % 7)]


def _definition(salt: bytes, site: str, ip: str, ua: str) -> int:
    """The visitor id as the contract defines it (keyed BLAKE2b of site, ip, ua joined by NUL, its first 8 bytes
    as a signed 64-bit integer), with hashlib."""
    digest = hashlib.blake2b(f"{site}\x00{ip}\x00{ua}".encode(), key=salt, digest_size=16).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def time_step(columns: list[pa.Array]) -> dict[str, float]:
    """Wall and CPU seconds of one ``VisitorIds.ids`` call on the batch, after checking a sample of its ids."""
    with tempfile.TemporaryDirectory() as folder:
        salts = SaltStore.in_folder(os.path.join(folder, "salts"))
        for day in set(columns[0].unique().to_pylist()):
            salts.salt(day)  # the salt files exist before the clock starts
        wall, cpu = time.perf_counter(), time.process_time()
        ids = VisitorIds(salts).ids(*columns)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows = len(ids)
        for i in np.unique(np.linspace(0, rows - 1, 1000).astype(np.int64)).tolist():
            day, site, ip, ua = (c[i].as_py() for c in columns)
            if ids[i].as_py() != _definition(salts.salt(day), site, ip, ua):
                raise AssertionError(f"visitor id of row {i} differs from the definition: figures not valid")
    names = ["day", "site", "ip", "ua"]
    combinations = pa.Table.from_arrays(columns, names=names).group_by(names).aggregate([]).num_rows
    return {"rows": rows, "combinations": combinations, "wall": wall, "cpu": cpu}


def run(options) -> str:
    scale = getattr(options, "scale", "default")
    bits = ADDRESS_BITS.get(scale, 24)
    cases = [  # (label, batch builder, rows): each batch is built when its turn comes, then let go
        ("300 sites", sites_batch, SITES_ROWS.get(scale, SITES_ROWS["default"])),
        (f"2**{bits} + 1000 distinct addresses", addresses_batch, (1 << bits) + 1000),
    ]
    lines = ["## visitors", "",
             "The visitor-id step (`VisitorIds.ids`: encode the columns, number the distinct (day, site, ua, ip) "
             "combinations, one keyed BLAKE2b each, spread back) on in-memory batches of plain string columns; "
             "1,000 ids of each batch checked against the definition (hashlib) before the figure counts. "
             f"Load average at the start: {os.getloadavg()[0]:.1f}.", "",
             "| batch | rows | distinct (day, site, ip, ua) | wall s | CPU s | µs per row |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, build, rows in cases:
        figures = time_step(build(rows))
        lines.append(f"| {label} | {figures['rows']:,} | {figures['combinations']:,} | {figures['wall']:.1f} | "
                     f"{figures['cpu']:.1f} | "
                     f"{figures['wall'] / figures['rows'] * 1e6:.2f} |")
    return "\n".join(lines) + "\n"
