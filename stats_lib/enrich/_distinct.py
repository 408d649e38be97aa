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

from .._arrow import encode, flat


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
        self._key_chunks: list[pa.Array] = []  # the values, by code, in chunks (see ``_add``)
        self._column_chunks: list[list[pa.Array]] = [[] for _ in self.schema]
        self._size = 0
        self._flat_keys: pa.Array | None = pa.array([], pa.string())
        self._code_of: dict[str, int] | None = None  # value -> code, once the cache is large (``_positions``)

    def __len__(self) -> int:
        return self._size

    @property
    def keys(self) -> pa.Array:
        """The values, by code."""
        if self._flat_keys is None:
            self._key_chunks = [pa.concat_arrays(self._key_chunks)] if self._key_chunks else []
            self._flat_keys = self._key_chunks[0] if self._key_chunks else pa.array([], pa.string())
        return self._flat_keys

    @property
    def _columns(self) -> list[pa.Array | pa.ChunkedArray]:
        return [pa.chunked_array(chunks, f.type) for chunks, f in zip(self._column_chunks, self.schema)]

    @staticmethod
    def _rows_to_columns(fn: Callable[[str], tuple], width: int) -> Callable[[pa.Array], list]:
        def many(values: pa.Array) -> list:
            rows = [fn(v) for v in values.to_pylist()]
            return list(zip(*rows)) if rows else [[]] * width

        return many

    def _append(self, new_keys: pa.Array) -> None:
        for chunks, new, f in zip(self._column_chunks, self.many(new_keys), self.schema):
            _add(chunks, new if isinstance(new, pa.Array) else pa.array(new, f.type))
        if self._code_of is not None:
            self._code_of.update(zip(new_keys.to_pylist(), range(self._size, self._size + len(new_keys))))
        _add(self._key_chunks, new_keys)
        self._flat_keys = None
        self._size += len(new_keys)

    def _positions(self, uniques: pa.Array) -> pa.Array:
        """The code of each distinct value, null for those not known yet. ``pc.index_in`` builds a hash set of the
        keys on every call: right while the cache is small next to the batch; once it is large (hundreds of
        thousands of addresses), a dict kept across batches answers in time proportional to the batch only."""
        if self._size <= _INDEX_IN_RATIO * len(uniques):
            return pc.index_in(uniques, value_set=self.keys)
        if self._code_of is None:
            self._code_of = dict(zip(self.keys.to_pylist(), range(self._size)))
        code_of = self._code_of
        return pa.array([code_of.get(v) for v in uniques.to_pylist()], pa.int32())

    def _known(self, uniques: pa.Array) -> pa.Array:
        positions = self._positions(uniques)
        if positions.null_count:
            missing = pc.is_null(positions)
            new_keys = uniques.filter(missing)
            start = len(self)
            self._append(new_keys)
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
            rows = pc.take(self._known(encoded.dictionary), encoded.indices)
            return rows, self._columns

    def unknown(self, values: pa.Array | pa.ChunkedArray) -> list[str]:
        """The distinct non-null values not in the cache (nothing is computed or added)."""
        encoded = encode(values)
        with self._lock:
            positions = self._positions(encoded.dictionary)
        return encoded.dictionary.filter(pc.is_null(positions)).to_pylist()

    def codes(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The code of each value (int64; -1 for null): its position in ``keys``."""
        rows, _ = self._rows(values)
        return pc.fill_null(rows, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    def columns(self, values: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """One output column per schema field, aligned with ``values``."""
        rows, columns = self._rows(values)
        return {
            f.name: pa.nulls(len(rows), f.type) if col.null_count == len(col) else flat(pc.take(col, rows))
            for f, col in zip(self.schema, columns)
        }


_INDEX_IN_RATIO = 8  # _positions: pc.index_in while the cache holds at most this many times the batch's values


def _add(chunks: list[pa.Array], new: pa.Array) -> None:
    """Append ``new`` to a list of chunks kept few: neighbours of similar length are merged (as a binary counter
    merges), so a value is copied O(log n) times over a run instead of at every batch."""
    if len(new) == 0:
        return
    chunks.append(new)
    while len(chunks) > 1 and len(chunks[-2]) <= 2 * len(chunks[-1]):
        last = chunks.pop()
        chunks[-1] = pa.concat_arrays([chunks[-1], last])
