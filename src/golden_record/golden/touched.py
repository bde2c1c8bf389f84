"""Which of tonight's clusters a night must rebuild, and which it leaves as they were.

A golden record is a function of its source records' presentable values and the
survivorship rules alone. A cluster whose records are exactly one golden record's
records, none of them changed since that golden record was built, keeps that golden ID
and those attributes: the persistent-ID policy gives it no other ID
(:mod:`golden_record.golden.identity`, case "unchanged") and survivorship would choose the
same values. Such a cluster is *settled*; a night assigns IDs to, rebuilds and compares
only the rest, with the earlier records of every golden ID they reach, and the result is
the same as over the whole population (``tests/test_store_incremental.py`` checks it
night by night). On a night where 1% of records changed, that is a few per cent of the
population instead of all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from golden_record.keys import held_in, one_array, positions_in


@dataclass
class Touched:
    settled: pd.DataFrame  # unique_id, golden_id: records of clusters left as they were
    clusters: pd.DataFrame  # tonight's rows of the clusters to rebuild
    previous: pd.DataFrame  # earlier rows (unique_id, golden_id) of the golden IDs they reach

    @property
    def settled_golden_ids(self) -> int:
        return int(self.settled["golden_id"].nunique())


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value's code (0, 1, … in first-seen order; -1 where missing) and the distinct
    values by code, by Arrow's dictionary encoding: pandas' factorize of a million record
    ids (as Python objects) was most of this module's time."""
    encoded = one_array(values).dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, np.asarray(encoded.dictionary.to_pylist(), dtype=object)


def split_settled(
    clusters: pd.DataFrame,
    previous: pd.DataFrame,
    changed: pd.Series | np.ndarray,
) -> Touched:
    """``clusters``: unique_id, cluster_id (every record tonight); ``previous``: unique_id,
    golden_id (the store's current records); ``changed``: by tonight's ``clusters`` row,
    True where a record is new or its values differ from when its golden record was built.
    """
    # Each record's golden ID code, by its row in ``previous`` (-1: none yet).
    golden_code, golden_ids = _codes(previous["golden_id"])
    row = positions_in(clusters["unique_id"], previous["unique_id"])
    known = row >= 0
    codes = np.full(len(clusters), -1, dtype=np.int64)
    codes[known] = golden_code[row[known]]
    known &= codes >= 0
    cluster, _ = _codes(clusters["cluster_id"])
    # Whole-column group reductions: a Python step per cluster is seconds at a million.
    frame = pd.DataFrame(
        {
            "cluster": cluster,
            "code": codes,
            "changed": np.asarray(changed, dtype=bool),
        }
    )
    groups = frame.groupby("cluster")
    low = groups["code"].transform("min").to_numpy()
    high = groups["code"].transform("max").to_numpy()
    size = groups["code"].transform("size").to_numpy()
    any_changed = groups["changed"].transform("max").to_numpy()
    earlier_size = np.bincount(golden_code[golden_code >= 0], minlength=len(golden_ids))
    size_was = np.zeros(len(frame), dtype=np.int64)
    size_was[known] = earlier_size[codes[known]]
    settled = (low == high) & (low >= 0) & ~any_changed & (size == size_was)

    reached = set(golden_ids[codes[~settled & known]])
    gone = ~held_in(previous["unique_id"], clusters["unique_id"])
    reached |= set(previous.loc[gone, "golden_id"])
    kept = previous[held_in(previous["golden_id"], reached)]
    return Touched(
        settled=pd.DataFrame(
            {
                "unique_id": clusters["unique_id"].to_numpy(object)[settled],
                "golden_id": golden_ids[codes[settled]],
            }
        ),
        clusters=clusters[~settled],
        previous=kept.astype({"unique_id": object, "golden_id": object}),
    )
