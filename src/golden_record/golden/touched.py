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

from golden_record.keys import held_in


@dataclass
class Touched:
    settled: pd.DataFrame  # unique_id, golden_id: records of clusters left as they were
    clusters: pd.DataFrame  # tonight's rows of the clusters to rebuild
    previous: pd.DataFrame  # earlier rows (unique_id, golden_id) of the golden IDs they reach

    @property
    def settled_golden_ids(self) -> int:
        return int(self.settled["golden_id"].nunique())


def split_settled(
    clusters: pd.DataFrame,
    previous: pd.DataFrame,
    changed: pd.Series,
) -> Touched:
    """``clusters``: unique_id, cluster_id (every record tonight); ``previous``: unique_id,
    golden_id (the store's current records); ``changed``: by tonight's ``clusters`` row,
    True where a record is new or its values differ from when its golden record was built.
    """
    previous = previous.astype({"unique_id": object, "golden_id": object})
    golden_of = previous.set_index("unique_id")["golden_id"]
    was = golden_of.reindex(clusters["unique_id"]).to_numpy()
    codes, golden_ids = pd.factorize(was)  # -1 for a record with no golden ID yet
    cluster = pd.factorize(clusters["cluster_id"].to_numpy())[0]
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
    earlier_size = previous.groupby("golden_id").size()
    size_was = np.zeros(len(frame), dtype=np.int64)
    known = codes >= 0
    size_was[known] = earlier_size.reindex(golden_ids[codes[known]]).to_numpy()
    settled = (low == high) & (low >= 0) & ~any_changed & (size == size_was)

    reached = set(golden_ids[codes[~settled & known]])
    gone = ~held_in(previous["unique_id"], clusters["unique_id"])
    reached |= set(previous.loc[gone, "golden_id"])
    return Touched(
        settled=pd.DataFrame(
            {
                "unique_id": clusters["unique_id"].to_numpy()[settled],
                "golden_id": was[settled],
            }
        ),
        clusters=clusters[~settled],
        previous=previous[held_in(previous["golden_id"], reached)],
    )
