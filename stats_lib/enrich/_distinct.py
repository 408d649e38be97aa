"""Per-distinct-value computation with a result cache that lives across batches.

``DistinctCache(fn, schema)`` remembers, for every distinct input string it has seen, the row ``fn`` returned
(a tuple matching ``schema``); ``DistinctCache(None, schema, many=f)`` takes ``f(values) -> columns`` instead
(an Arrow array of new values in, one array or list per schema field out), for work that is cheaper on many
values at once. For a batch it dictionary-encodes the input (Arrow), finds the values it already
knows (``pc.index_in`` in C++), calls ``fn`` only for values never seen before, and spreads the result
columns back to the rows with ``take``. So a value seen in a hundred batches is computed once. Null inputs give
null outputs without calling ``fn``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import encode


class DistinctCache:
    """See the module docstring. Known values are found with ``pc.index_in`` against an Arrow array of the keys
    (C++). The row a value takes is its *code*: ``codes(values)`` gives it per row, ``keys`` the values by code.
    Codes hold until the cache starts over (when ``max_size`` would be exceeded)."""

    def __init__(
        self,
        fn: Callable[[str], tuple] | None,
        schema: pa.Schema,
        max_size: int = 1_000_000,
        many: Callable[[pa.Array], list] | None = None,
    ) -> None:
        if (fn is None) == (many is None):
            raise TypeError("give fn or many, not both")
        if many is None:
            assert fn is not None
            many = self._rows_to_columns(fn, len(schema))
        self.many = many
        self.schema = schema
        self.max_size = max_size
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.keys = pa.array([], pa.string())  # the values, by code
        self._columns = [pa.array([], f.type) for f in self.schema]

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def _rows_to_columns(fn: Callable[[str], tuple], width: int) -> Callable[[pa.Array], list]:
        def many(values: pa.Array) -> list:
            rows = [fn(v) for v in values.to_pylist()]
            return list(zip(*rows)) if rows else [[]] * width

        return many

    def _append(self, new_keys: pa.Array) -> None:
        self._columns = [
            pa.concat_arrays([col, new if isinstance(new, pa.Array) else pa.array(new, f.type)])
            for col, new, f in zip(self._columns, self.many(new_keys), self.schema)
        ]

    def _positions(self, uniques: pa.Array) -> pa.Array:
        positions = pc.index_in(uniques, value_set=self.keys)
        if positions.null_count:
            missing = pc.is_null(positions)
            new_keys = uniques.filter(missing)
            start = len(self.keys)
            self._append(new_keys)
            self.keys = pa.concat_arrays([self.keys, new_keys])
            # the new keys take rows start, start+1, ... in the order the mask lists them
            positions = pc.replace_with_mask(positions, missing, pa.array(range(start, start + len(new_keys)), pa.int32()))
        return positions

    def _rows(self, values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, list[pa.Array]]:
        """The code of each row (null for null) and the result columns, under the lock. ``values`` may be a
        ``DictionaryArray`` (``_arrow.encode``): a batch encodes a column once and hands it to every step."""
        encoded = encode(values)
        with self._lock:
            if len(self) + len(encoded.dictionary) > self.max_size:
                self.clear()
            rows = pc.take(self._positions(encoded.dictionary), encoded.indices)
            return rows, self._columns

    def codes(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The code of each value (int64; -1 for null): its position in ``keys``."""
        rows, _ = self._rows(values)
        return pc.fill_null(rows, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    def columns(self, values: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """One output column per schema field, aligned with ``values``."""
        rows, columns = self._rows(values)
        return {
            f.name: pa.nulls(len(rows), f.type) if col.null_count == len(col) else pc.take(col, rows)
            for f, col in zip(self.schema, columns)
        }
