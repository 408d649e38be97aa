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


def test_a_large_cache_answers_as_the_plain_computation():
    """Past ``_INDEX_IN_RATIO`` times a batch's values the cache looks values up in a dict and keeps its columns
    in merged chunks: every batch still gives exactly ``fn`` of each row (the plain computation), and each value
    is computed once."""
    import random

    from stats_lib.enrich import _distinct

    calls: list[str] = []

    def fn(value: str) -> tuple:
        calls.append(value)
        return (value[::-1], len(value))

    cache = DistinctCache(fn, pa.schema([("rev", pa.string()), ("n", pa.int64())]))
    rng = random.Random(7)
    universe = [f"10.{i // 256}.{i % 256}.{rng.randint(1, 254)}" for i in range(6000)]
    used_dict = False
    for size in [3000, *[rng.randint(1, 300) for _ in range(60)]]:
        batch = [rng.choice(universe) if rng.random() > 0.05 else None for _ in range(size)]
        used_dict = used_dict or len(cache) > _distinct._INDEX_IN_RATIO * len(set(batch))
        out = cache.columns(pa.array(batch, pa.string()))
        assert out["rev"].to_pylist() == [None if v is None else v[::-1] for v in batch]
        assert out["n"].to_pylist() == [None if v is None else len(v) for v in batch]
        codes = cache.codes(pa.array(batch, pa.string())).tolist()
        assert [cache.keys[c].as_py() if c >= 0 else None for c in codes] == batch
    assert used_dict and cache._code_of is not None
    assert len(calls) == len(set(calls)) == len(cache)
    assert len(cache._column_chunks[0]) < 12  # merged as it grew


def test_unknown_lists_the_values_never_seen_and_adds_nothing():
    calls: list[str] = []
    cache = DistinctCache(lambda v: (calls.append(v) or v.upper(),), pa.schema([("up", pa.string())]))
    cache.columns(pa.array(["a", "b", None, "a"]))
    assert sorted(cache.unknown(pa.array(["b", "c", None, "c", "d"]))) == ["c", "d"]
    assert len(cache) == 2 and calls == ["a", "b"]
    assert cache.unknown(pa.chunked_array([["a"], ["b"]])) == []
