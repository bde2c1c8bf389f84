"""Columns parked while the match's guard and clustering run come back as they were."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from golden_record.matching.parked import NOTHING_PARKED, park


def _pairs(rows: int = 2_000) -> pd.DataFrame:
    names = pa.array([f"name{i % 37}" if i % 11 else None for i in range(rows)])
    variants = pa.array([[f"v{i % 5}", "w"] if i % 7 else None for i in range(rows)])
    return pd.DataFrame(
        {
            "unique_id_l": pd.array([f"r{i}" for i in range(rows)], dtype="str"),
            "first_name_l": pd.array(names, dtype="str"),
            "match_weight": [float(i) if i % 3 else float("nan") for i in range(rows)],
            "first_name_variants_l": pd.array(variants, dtype=pd.ArrowDtype(variants.type)),
            "gamma_first_name": pd.array([i % 4 for i in range(rows)], dtype="int32"),
        },
        index=pd.RangeIndex(10, 10 + rows),
    )


def test_parked_columns_come_back_in_place_with_their_types_and_missing_values():
    pairs = _pairs()
    kept, parked = park(pairs, keep=["unique_id_l"])
    # Arrow-held columns not kept are parked; NumPy columns and kept ones stay.
    assert list(kept.columns) == ["unique_id_l", "match_weight", "gamma_first_name"]
    assert parked.size > 0
    restored = parked.restore(kept)
    pd.testing.assert_frame_equal(restored, pairs)
    assert list(restored.columns) == list(pairs.columns)


def test_parking_holds_less_than_the_columns_it_takes():
    pairs = _pairs(20_000)
    _, parked = park(pairs, keep=["unique_id_l"])
    taken = pairs[["first_name_l", "first_name_variants_l"]].memory_usage(deep=True).sum()
    assert parked.size < taken / 2


def test_a_frame_with_nothing_to_park_is_returned_as_it_is():
    pairs = _pairs()
    kept, parked = park(pairs, keep=list(pairs.columns))
    assert kept is pairs
    assert parked.restore(kept) is kept
    assert NOTHING_PARKED.restore(kept) is kept


def test_an_empty_frame_parks_and_comes_back():
    pairs = _pairs().iloc[:0]
    kept, parked = park(pairs, keep=["unique_id_l"])
    pd.testing.assert_frame_equal(parked.restore(kept), pairs)
