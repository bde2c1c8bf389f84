"""DuckDB's string similarities on Spark, so one model decides alike on both engines.

A model's comparison levels are thresholds on Jaro-Winkler similarity and
Damerau-Levenshtein distance (``jaro_winkler_similarity(first_name_l, first_name_r) >=
0.92``). On Spark, Splink's jar names these ``jaro_winkler`` and ``damerau_levenshtein``
and computes them with Apache Commons Text, which finds a different Jaro match set from
DuckDB's: on 50,000 random ASCII pairs 15,541 Jaro-Winkler values differed (by up to
0.02, enough to move a pair across a level's threshold), and on non-ASCII text both
functions differed, Commons Text counting characters where DuckDB counts UTF-8 bytes. At
the compose sample's 20,000 people that moved one golden record: switching backends
changed the change feed.

So the session's ``jaro_winkler`` and ``damerau_levenshtein`` are replaced by vectorised
(Arrow) UDFs computing what DuckDB computes: RapidFuzz's Jaro and unrestricted
Damerau-Levenshtein over the values' UTF-8 bytes (DuckDB's own functions come from the
same C++ library), with Winkler's prefix boost rounded once as DuckDB's compiled fused
multiply-add rounds it, two empty strings scoring 0 as in DuckDB and a null on either side
giving null. ``tests/test_similarity_on_spark.py`` holds them to DuckDB's value, bit for
bit, on random pairs ASCII and not; ``tests/test_spark.py`` to the same level for every
pair a night scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def jaro_winkler(left: pd.Series, right: pd.Series) -> pd.Series:
    """DuckDB's ``jaro_winkler_similarity`` of each pair (null where either is null)."""
    from rapidfuzz.distance import Jaro

    present = (left.notna() & right.notna()).to_numpy()
    out = pd.Series(pd.NA, index=left.index, dtype="Float64")
    if not present.any():
        return out
    encoded_left = [value.encode() for value in left[present]]
    encoded_right = [value.encode() for value in right[present]]
    jaro = _pairwise(encoded_left, encoded_right, Jaro.similarity, np.float64)
    prefix = _common_prefix(encoded_left, encoded_right)
    # Winkler's boost, as DuckDB's compiled C++ computes it: one fused multiply-add,
    # rounded once (the same sum rounded twice differs in its last bit for one pair in
    # a few hundred, and a level is a threshold).
    boosted = _fused_multiply_add(prefix * 0.1, 1.0 - jaro, jaro)
    scores = np.where(jaro > 0.7, boosted, jaro)
    both_empty = np.array(
        [not a and not b for a, b in zip(encoded_left, encoded_right, strict=True)]
    )
    out[present] = np.where(both_empty, 0.0, scores)
    return out


def damerau_levenshtein(left: pd.Series, right: pd.Series) -> pd.Series:
    """DuckDB's ``damerau_levenshtein`` of each pair (null where either is null)."""
    from rapidfuzz.distance import DamerauLevenshtein

    present = (left.notna() & right.notna()).to_numpy()
    out = pd.Series(pd.NA, index=left.index, dtype="Int64")
    if present.any():
        out[present] = _pairwise(
            [value.encode() for value in left[present]],
            [value.encode() for value in right[present]],
            DamerauLevenshtein.distance,
            np.int64,
        )
    return out


def _pairwise(left: list[bytes], right: list[bytes], scorer: Any, dtype: Any) -> np.ndarray:
    """``scorer`` of each pair, over bytes as DuckDB compares them, in ``dtype`` (float64:
    a float32 score can fall the other side of a level's threshold)."""
    from rapidfuzz.process import cpdist

    return np.asarray(cpdist(left, right, scorer=scorer, dtype=dtype, workers=1))


def _common_prefix(left: list[bytes], right: list[bytes]) -> np.ndarray:
    """How many of the first four bytes each pair shares before they differ."""
    width = 4
    first_left = np.array(left, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
    first_right = np.array(right, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
    shared = np.cumprod(first_left == first_right, axis=1).sum(axis=1)
    # Short values are padded with zero bytes, which would "match" past their end.
    shortest = np.minimum([len(value) for value in left], [len(value) for value in right])
    return np.minimum(shared, np.minimum(shortest, width)).astype(np.float64)


def _fused_multiply_add(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``a * b + c`` rounded once to the nearest double, as the CPU's FMA instruction
    gives it (``math.fma`` arrives in Python 3.13): the product and the sum split into
    their rounded values and exact errors (Dekker, Knuth), and the errors' sum rounded to
    odd, after which the last rounding is the exact one (Boldo and Melquiond, 2008)."""
    product, product_error = _two_product(a, b)
    total, sum_error = _two_sum(product, c)
    rest, rest_error = _two_sum(sum_error, product_error)
    even = (rest.view(np.int64) & 1) == 0
    towards = np.where(rest_error > 0, np.inf, -np.inf)
    rest = np.where((rest_error != 0) & even, np.nextafter(rest, towards), rest)
    return total + rest


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = a + b
    b_part = total - a
    return total, (a - (total - b_part)) + (b - b_part)


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    return product, error


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as a high and a low half of 26 bits each (Veltkamp's splitting)."""
    scaled = 134217729.0 * x  # 2**27 + 1
    high = scaled - (scaled - x)
    return high, x - high


def register(spark: Any) -> None:
    """Put :func:`jaro_winkler` and :func:`damerau_levenshtein` on ``spark`` under the names
    Splink's Spark SQL calls, in place of the jar's (register after Splink's API, which
    registers the jar's when it is made)."""
    from pyspark.sql.pandas.functions import pandas_udf

    # PySpark's stubs type a pandas UDF's arguments as pandas-stubs' Series, not ours.
    similarity = pandas_udf(jaro_winkler, "double")  # type: ignore[call-overload]
    distance = pandas_udf(damerau_levenshtein, "int")  # type: ignore[call-overload]
    spark.udf.register("jaro_winkler", similarity)
    spark.udf.register("damerau_levenshtein", distance)
