"""Which of a night's review pairs keep the scored detail the store holds already.

Each night's review items are stored with their scored detail (both records' values and
each comparison's weight) as JSON; serialising the detail of every doubtful pair again
took ~3.5 s of a quiet night's 25 s golden task at a million records, though nearly all
of them are pairs kept from the night before. On an incremental night a pair between two
records whose content did not change is the earlier night's scored pair, copied
(:mod:`golden_record.matching.incremental`), so its detail is the one stored with that
night's review item: its hash is carried, and only the other pairs are serialised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from golden_record.keys import positions_of_each
from golden_record.matching.incremental import same_content

CARRIED_COLUMNS = ["record_a", "record_b", "detail_hash"]


def ordered_pair(pairs: pd.DataFrame) -> pd.DataFrame:
    """record_a, record_b: each pair's ids in the order review items are keyed by."""
    left = pairs["unique_id_l"].to_numpy(dtype=object)
    right = pairs["unique_id_r"].to_numpy(dtype=object)
    first = left <= right
    return pd.DataFrame(
        {"record_a": np.where(first, left, right), "record_b": np.where(first, right, left)},
        index=pairs.index,
    )


def carried_detail(
    review_pairs: pd.DataFrame,
    scored_tonight: pd.DataFrame,
    scored_earlier: pd.DataFrame,
    earlier_items: pd.DataFrame,
) -> pd.DataFrame:
    """:data:`CARRIED_COLUMNS` for each review pair whose two records were scored, with
    the same content hash, both tonight and on the earlier night tonight's scoring built
    on (``scored_*``: unique_id, content_hash) and which that night's review items
    (``earlier_items``: :data:`CARRIED_COLUMNS`) hold with detail."""
    if review_pairs.empty or earlier_items.empty:
        return pd.DataFrame(columns=CARRIED_COLUMNS)
    same = same_content(scored_tonight, scored_earlier)
    keys = ordered_pair(review_pairs)
    # Each pair's two records looked up among tonight's scored ids as Arrow holds them:
    # the unchanged ids taken out as a million Python strings, then made Arrow again for
    # each look-up, were 1.3 s of a quiet night's golden task.
    at_a, at_b = positions_of_each(
        [keys["record_a"], keys["record_b"]], scored_tonight["unique_id"]
    )
    unchanged = np.append(same, False)  # position -1, a record not scored tonight, is not
    both = unchanged[at_a] & unchanged[at_b]
    kept = keys[both].astype(object).drop_duplicates()
    earlier = earlier_items[CARRIED_COLUMNS].astype(object)
    return kept.merge(earlier, on=["record_a", "record_b"], how="inner")[CARRIED_COLUMNS]
