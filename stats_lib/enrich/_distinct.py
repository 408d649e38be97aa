"""Per-distinct-value computation with a result cache that lives across batches.

``DistinctCache(fn, schema)`` remembers, for every distinct input string it has seen, the row ``fn`` returned
(a tuple matching ``schema``); ``DistinctCache(None, schema, many=f)`` takes ``f(values) -> columns`` instead
(an Arrow array of new values in, one array or list per schema field out), for work that is cheaper on many
values at once. For a batch it dictionary-encodes the input (Arrow), finds the values it already
knows (``pc.index_in`` in C++, or a dict), calls ``fn`` only for values never seen before, and spreads the result
columns back to the rows with ``take``. So a value seen in a hundred batches is computed once. Null inputs give
null outputs without calling ``fn``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


_MEMO_SIZE = 4
_memo: list[tuple[tuple, pa.Array, pa.DictionaryArray]] = []
_memo_lock = threading.Lock()


def _identity(values: pa.Array) -> tuple:
    return (values.type, values.offset, len(values), *(b.address if b is not None else 0 for b in values.buffers()))


def flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array; a single-chunk column is used as it is (``combine_chunks`` would copy it)."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def encode(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """``dictionary_encode`` of a string array, remembered for the last few arrays.

    The pipeline hands the same column (``user_agent``, ``client_ip``) to several steps; each would otherwise
    hash it again. The memo keeps a reference to every array it holds, so their buffers cannot be freed and
    their addresses cannot be reused by another array while they serve as keys.
    """
    values = flat(values)
    if values.type != pa.string():
        values = values.cast(pa.string())
    key = _identity(values)
    with _memo_lock:
        for ident, _array, encoded in _memo:
            if ident == key:
                return encoded
    encoded = pc.dictionary_encode(values)
    with _memo_lock:
        _memo.append((key, values, encoded))
        del _memo[:-_MEMO_SIZE]
    return encoded


class DistinctCache:
    """See the module docstring. ``arrow_keys``: find known values with ``pc.index_in`` against an Arrow array of
    the keys (C++; best for up to a few hundred thousand short keys), else with a Python dict (for many long
    keys, where copying the key array on every growth would cost more)."""

    def __init__(
        self,
        fn: Callable[[str], tuple] | None,
        schema: pa.Schema,
        max_size: int = 1_000_000,
        arrow_keys: bool = True,
        many: Callable[[pa.Array], list] | None = None,
    ) -> None:
        if (fn is None) == (many is None):
            raise TypeError("give fn or many, not both")
        self.many = many if many is not None else self._rows_to_columns(fn, len(schema))
        self.schema = schema
        self.max_size = max_size
        self.arrow_keys = arrow_keys
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self._ids: dict[str, int] = {}  # value -> row of the result columns (dict mode)
        self._keys = pa.array([], pa.string())  # the values, in row order (Arrow mode)
        self._columns = [pa.array([], f.type) for f in self.schema]

    def __len__(self) -> int:
        return len(self._keys) if self.arrow_keys else len(self._ids)

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

    def _positions_arrow(self, uniques: pa.Array) -> pa.Array:
        positions = pc.index_in(uniques, value_set=self._keys)
        if positions.null_count:
            missing = pc.is_null(positions)
            new_keys = uniques.filter(missing)
            start = len(self._keys)
            self._append(new_keys)
            self._keys = pa.concat_arrays([self._keys, new_keys])
            # the new keys take rows start, start+1, ... in the order the mask lists them
            positions = pc.replace_with_mask(positions, missing, pa.array(range(start, start + len(new_keys)), pa.int32()))
        return positions

    def _positions_dict(self, uniques: pa.Array) -> pa.Array:
        ids = self._ids
        positions, new_values = [], []
        for value in uniques.to_pylist():
            row = ids.get(value)
            if row is None:
                row = ids[value] = len(ids)
                new_values.append(value)
            positions.append(row)
        if new_values:
            self._append(pa.array(new_values, pa.string()))
        return pa.array(positions, pa.int32())

    def columns(self, values: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """One output column per schema field, aligned with ``values``."""
        encoded = encode(values)
        uniques = encoded.dictionary
        with self._lock:
            if len(self) + len(uniques) > self.max_size:
                self.clear()
            positions = self._positions_arrow(uniques) if self.arrow_keys else self._positions_dict(uniques)
            columns = self._columns
        rows = pc.take(positions, encoded.indices)
        return {f.name: pc.take(col, rows) for f, col in zip(self.schema, columns)}
