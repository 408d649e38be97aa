"""Small Arrow helpers every layer may use (sources, enrich, warehouse): no state, no project imports."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array; a single-chunk column is used as it is (``combine_chunks`` would copy it)."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def encode(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """A string column dictionary-encoded (its distinct values and each row's index into them); an
    already-encoded column is returned as it is, so a step handed one does not encode it again."""
    if isinstance(values, pa.DictionaryArray):
        return values
    values = flat(values)
    if values.type != pa.string():
        values = values.cast(pa.string())
    return pc.dictionary_encode(values)


def map_distinct(values: pa.Array | pa.ChunkedArray, fn: Callable, type_: pa.DataType) -> pa.Array:
    """Apply ``fn`` to each distinct value of ``values`` once and spread the results back (nothing remembered)."""
    encoded = pc.dictionary_encode(flat(values))
    uniques = [fn(v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(uniques, type=type_), encoded.indices)
