"""Per-distinct-value computation with a result cache that lives across batches.

``DistinctCache(fn, schema)`` remembers, for every distinct input string it has seen, the row ``fn`` returned
(a tuple matching ``schema``). For a batch it dictionary-encodes the input (Arrow), looks each distinct value up
in a dict, calls ``fn`` only for values never seen before, and spreads the result columns back to the rows with
``take``. So a value seen in a hundred batches is computed once. Null inputs give null outputs without calling
``fn``. (A C++ ``index_in`` against an ever-growing Arrow key array was tried first: rebuilding its hash table
every batch cost more than the dict.)
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


def encode(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """``dictionary_encode`` of a string array, remembered for the last few arrays.

    The pipeline hands the same column (``user_agent``, ``client_ip``) to several steps; each would otherwise
    hash it again. The memo keeps a reference to every array it holds, so their buffers cannot be freed and
    their addresses cannot be reused by another array while they serve as keys.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
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
    def __init__(self, fn: Callable[[str], tuple], schema: pa.Schema, max_size: int = 1_000_000) -> None:
        self.fn = fn
        self.schema = schema
        self.max_size = max_size
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self._ids: dict[str, int] = {}  # value -> row of the result columns
        self._pending: list[tuple] = []  # results not yet in the Arrow columns
        self._columns = [pa.array([], f.type) for f in self.schema]

    def __len__(self) -> int:
        return len(self._ids)

    def columns(self, values: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """One output column per schema field, aligned with ``values``."""
        encoded = encode(values)
        uniques = encoded.dictionary.to_pylist()
        with self._lock:
            ids = self._ids
            if len(ids) + len(uniques) > self.max_size:
                self.clear()
                ids = self._ids
            fn, pending = self.fn, self._pending
            positions = []
            for value in uniques:
                row = ids.get(value)
                if row is None:
                    row = ids[value] = len(ids)
                    pending.append(fn(value))
                positions.append(row)
            if pending:
                self._columns = [
                    pa.concat_arrays([col, pa.array([r[i] for r in pending], f.type)])
                    for i, (col, f) in enumerate(zip(self._columns, self.schema))
                ]
                pending.clear()
            columns = self._columns
        rows = pc.take(pa.array(positions, pa.int32()), encoded.indices)
        return {f.name: pc.take(col, rows) for f, col in zip(self.schema, columns)}
