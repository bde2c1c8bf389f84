"""held_in: Arrow's membership kernel gives pandas' isin answers on every key kind."""

import numpy as np
import pandas as pd
import pytest

from golden_record.keys import held_in


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["rev:1", None, "hou:2", "rev:3"]),
        pd.Series(["rev:1", None, "hou:2", "rev:3"], dtype=object),
        pd.Index(["rev:1", "hou:2", "rev:3", "por:4"]),
    ],
    ids=["arrow text", "object", "index"],
)
@pytest.mark.parametrize(
    "among",
    [
        ["rev:1", "rev:3"],
        {"hou:2": 1}.keys(),
        pd.Series(["rev:3", None], dtype=object),
        pd.Index(["nothing"]),
        set(),
    ],
    ids=["list", "dict keys", "object series", "index", "empty"],
)
def test_held_in_agrees_with_isin_and_never_holds_a_missing_value(values, among):
    listed = list(among)
    expected = [value in listed and pd.notna(value) for value in values]
    found = held_in(values, among)
    assert found.dtype == bool
    assert found.tolist() == expected


def test_held_in_numbers_and_empty_input():
    assert held_in(pd.Series([1, 2, 3]), np.array([2, 5])).tolist() == [False, True, False]
    assert held_in(pd.Series([], dtype="str"), ["a"]).tolist() == []
