"""Membership of record keys, at a million keys in well under a second.

pandas 3 holds text in Arrow, and its ``Series.isin`` on such a column turns every value
sought into a Python scalar first: 2 s a call at a million record ids, eleven seconds of
an incremental night's match. Arrow's own ``is_in`` kernel does the same in tens of
milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_arrow(
    values: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray | Iterable,
) -> pa.Array:
    """``values`` in Arrow: without a copy where pandas holds them in Arrow (then, as
    pandas holds them, perhaps in chunks)."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, (pd.Series, pd.Index)):
        # Zero-copy for Arrow-backed text; numpy-backed columns are converted.
        return pa.array(values, from_pandas=True)
    if not isinstance(values, np.ndarray):
        values = list(values)
    return pa.array(values, from_pandas=True)


def one_array(values: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray) -> pa.Array:
    """``values`` as a single Arrow array (chunks joined): what a kernel's value set
    or a take's indices need."""
    found = as_arrow(values)
    return found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found


def positions_in(
    values: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray,
    among: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray,
) -> np.ndarray:
    """For each of ``values``, its position in ``among`` (the first, where it is there
    twice; -1 where it is not, or is missing): pandas' reindex by Arrow-held ids, or a
    dict of a million of them, took a second where this takes tens of milliseconds."""
    return positions_of_each([values], among)[0]


def positions_of_each(
    columns: Sequence[pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray],
    among: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray,
) -> list[np.ndarray]:
    """:func:`positions_in` for each of ``columns`` (a pair's two ids), looked up together:
    the look-up's table of ``among`` is built once (at a million ids, most of a call)."""
    found_in = one_array(among)
    sought = [one_array(column) for column in columns]
    # One type for all: ``among``'s, unless it has none of its own (an empty column, or
    # one of missing values only), then the first column's that has one.
    typed = [found_in.type, *(values.type for values in sought)]
    kind = next((t for t in typed if not pa.types.is_null(t)), pa.null())
    found_in = found_in.cast(kind)
    sought = [values.cast(kind) for values in sought]
    joined = pa.concat_arrays(sought) if sought else pa.array([], type=kind)
    found = pc.index_in(joined, value_set=found_in).fill_null(-1)
    positions = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
    ends = np.cumsum([len(values) for values in sought])[:-1]
    return np.split(positions, ends)


def joined_keys(
    parts: Sequence[pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray],
) -> pa.Array:
    """Each row's key of several columns as one text, its parts joined by a unit separator
    (as SQL writes it with ``char(31)``); a key of one column is that column as text."""
    texts = [one_array(part).cast(pa.string()) for part in parts]
    if len(texts) == 1:
        return texts[0]
    return pc.binary_join_element_wise(*texts, "\x1f")


def held_in(
    values: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | np.ndarray, among: Iterable
) -> np.ndarray:
    """For each of ``values``, whether it is one of ``among`` (a missing value never is)."""
    left = as_arrow(values)
    right = as_arrow(among)
    if len(left) == 0:
        return np.zeros(0, dtype=bool)
    if len(right) == 0:
        return np.zeros(len(left), dtype=bool)
    if right.type != left.type:
        right = right.cast(left.type)
    found = pc.is_in(left, value_set=right, skip_nulls=True)
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
