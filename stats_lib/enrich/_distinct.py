"""Per-distinct-value computation with a result cache that lives across batches, kept in Arrow.

``DistinctCache(fn, schema)`` remembers, for every distinct input string it has seen, the row ``fn`` returned
(a tuple matching ``schema``). For a batch it dictionary-encodes the input, finds the already known values with
``pc.index_in`` (C++ hashing), calls ``fn`` in Python only for the new ones, and spreads the cached result
columns back to the rows with ``take``. So a value seen in a hundred batches is computed once, and a batch whose
values are all known costs no Python call per value at all. Null inputs give null outputs without calling ``fn``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


class DistinctCache:
    def __init__(self, fn: Callable[[str], tuple], schema: pa.Schema, max_size: int = 1_000_000) -> None:
        self.fn = fn
        self.schema = schema
        self.max_size = max_size
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self._keys = pa.array([], pa.string())
        self._columns = [pa.array([], f.type) for f in self.schema]

    def __len__(self) -> int:
        return len(self._keys)

    def columns(self, values: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """One output column per schema field, aligned with ``values``."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if values.type != pa.string():
            values = values.cast(pa.string())
        encoded = pc.dictionary_encode(values)
        uniques = encoded.dictionary
        with self._lock:
            if len(self._keys) + len(uniques) > self.max_size:
                self.clear()
            positions = pc.index_in(uniques, value_set=self._keys)
            missing = pc.is_null(positions)
            if pc.any(missing).as_py():
                new_keys = uniques.filter(missing)
                rows = [self.fn(v) for v in new_keys.to_pylist()]
                new_columns = [pa.array([r[i] for r in rows], f.type) for i, f in enumerate(self.schema)]
                start = len(self._keys)
                self._keys = pa.concat_arrays([self._keys, new_keys])
                self._columns = [pa.concat_arrays([old, new]) for old, new in zip(self._columns, new_columns)]
                # the new keys take the positions start, start+1, ... in the order they were filtered
                new_positions = pa.array(range(start, start + len(new_keys)), pa.int32())
                filled = pc.replace_with_mask(
                    positions.cast(pa.int32()), missing, new_positions
                )
                positions = filled
            columns = self._columns
        row_positions = pc.take(positions, encoded.indices)
        return {f.name: pc.take(col, row_positions) for f, col in zip(self.schema, columns)}
