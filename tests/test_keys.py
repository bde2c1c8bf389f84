"""held_in and positions_in: Arrow's kernels give pandas' isin and reindex answers on every
key kind."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from golden_record.keys import held_in, positions_in, positions_of_each


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


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["rev:3", None, "hou:2", "por:9", "rev:3"]),
        pd.Series(["rev:3", None, "hou:2", "por:9", "rev:3"], dtype=object),
        pa.chunked_array([["rev:3", None], ["hou:2", "por:9", "rev:3"]], type=pa.large_string()),
    ],
    ids=["arrow text", "object", "large text in chunks"],
)
def test_positions_in_are_reindex_positions_and_minus_one_where_absent(values):
    among = pd.Series(["rev:1", "hou:2", "rev:3", "hou:2"])  # hou:2 twice: the first
    found = positions_in(values, among)
    assert found.tolist() == [2, -1, 1, -1, 2]
    assert found.dtype == np.int64


def test_positions_of_nothing_are_empty_whatever_the_columns_types():
    assert positions_in(np.array([], dtype=object), pd.Series(["rev:1"])).tolist() == []
    assert positions_in(pd.Series(["rev:1"]), np.array([], dtype=object)).tolist() == [-1]


def test_positions_of_each_column_are_positions_in_each_alone():
    among = pd.Series(["rev:1", "hou:2", "rev:3", "hou:2"])
    left = pd.Series(["rev:3", None, "hou:2"])
    right = pa.chunked_array([["por:9"], ["rev:1", "rev:3"]], type=pa.large_string())
    empty = pd.Series([], dtype=object)
    found = positions_of_each([left, right, empty], among)
    assert [f.tolist() for f in found] == [[2, -1, 1], [-1, 0, 2], []]
    assert [f.tolist() for f in positions_of_each([left], pd.Series([], dtype=object))] == [
        [-1, -1, -1]
    ]
