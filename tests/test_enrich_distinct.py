"""The per-distinct-value cache every enrichment step uses: each value computed once, across batches."""

from __future__ import annotations

import pyarrow as pa

from stats_lib.enrich._distinct import DistinctCache


def test_each_distinct_value_is_computed_once_across_batches():
    calls: list[str] = []

    def fn(value: str) -> tuple:
        calls.append(value)
        return (value.upper(), float(len(value)))

    cache = DistinctCache(fn, pa.schema([("up", pa.string()), ("n", pa.float64())]))
    first = cache.columns(pa.array(["a", "bb", None, "a"]))
    assert first["up"].to_pylist() == ["A", "BB", None, "A"]
    assert first["n"].to_pylist() == [1.0, 2.0, None, 1.0]
    second = cache.columns(pa.chunked_array([["ccc", "bb"], [None, "a"]]))
    assert second["up"].to_pylist() == ["CCC", "BB", None, "A"]
    assert calls == ["a", "bb", "ccc"]
    assert len(cache) == 3
    assert cache.keys.to_pylist() == ["a", "bb", "ccc"]
    assert cache.codes(pa.array(["ccc", None, "a"])).tolist() == [2, -1, 0]


def test_the_cache_is_bounded():
    cache = DistinctCache(lambda v: (v,), pa.schema([("v", pa.string())]), max_size=3)
    cache.columns(pa.array(["a", "b"]))
    out = cache.columns(pa.array(["c", "d"]))  # would exceed 3: starts over
    assert out["v"].to_pylist() == ["c", "d"]
    assert len(cache) == 2
