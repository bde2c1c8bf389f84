"""Spark's similarity functions are DuckDB's, value for value (no Spark needed: the
functions Spark is given are plain pandas functions)."""

from __future__ import annotations

import random

import duckdb
import numpy as np
import pandas as pd

from golden_record.matching.similarity_on_spark import damerau_levenshtein, jaro_winkler


def _random_pairs(count: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    # Few letters, so strings share many; accents and a non-Latin letter, whose UTF-8 is
    # several bytes; the empty string and nulls.
    alphabet = "abcde AEé-'ø"

    def text() -> str | None:
        roll = rng.random()
        if roll < 0.03:
            return None
        if roll < 0.06:
            return ""
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 22)))

    frame = pd.DataFrame({"a": [text() for _ in range(count)], "b": [text() for _ in range(count)]})
    frame.loc[len(frame)] = ["", ""]
    frame.loc[len(frame)] = ["MARTHA", "MARHTA"]
    return frame.astype("string")


def test_jaro_winkler_and_damerau_levenshtein_are_duckdbs_for_every_pair():
    pairs = _random_pairs(40_000, seed=7)
    expected = duckdb.sql(
        "select jaro_winkler_similarity(a, b) as jw, damerau_levenshtein(a, b) as dl from pairs"
    ).df()
    jw = jaro_winkler(pairs["a"], pairs["b"])
    dl = damerau_levenshtein(pairs["a"], pairs["b"])

    null = pairs["a"].isna() | pairs["b"].isna()
    assert null.sum() > 1000
    assert jw[null].isna().all() and dl[null].isna().all()
    assert expected["jw"][null].isna().all()
    known = ~null.to_numpy()
    # Exactly: a level is a threshold, and a last bit can cross it.
    assert np.array_equal(jw[known].to_numpy(float), expected["jw"][known].to_numpy(float))
    assert np.array_equal(dl[known].to_numpy(int), expected["dl"][known].to_numpy(int))
    assert jw.iloc[-2] == 0.0 and abs(jw.iloc[-1] - 0.9611111111111111) < 1e-12


def test_a_batch_of_nulls_alone_gives_nulls():
    nulls = pd.Series([None, None], dtype="string")
    assert jaro_winkler(nulls, nulls).isna().all()
    assert damerau_levenshtein(nulls, pd.Series(["a", "b"], dtype="string")).isna().all()


def test_names_as_councils_hold_them_score_as_in_duckdb():
    """Standardised names and addresses (upper case, spaces, hyphens, apostrophes), each
    against a slip of itself and against another: the values levels are thresholds on."""
    from nicknames import NickNamer

    names = sorted({n.upper() for n in NickNamer().nicknames_of("william") | {"O'NEILL"}})
    rng = random.Random(11)
    lefts, rights = [], []
    for _ in range(30_000):
        left = rng.choice(names) + rng.choice(["", " SMITH", "-JONES", " 12 HIGH STREET"])
        slipped = list(left)
        slipped[rng.randrange(len(slipped))] = rng.choice("AEIOU ")
        lefts.append(left)
        rights.append("".join(slipped) if rng.random() < 0.5 else rng.choice(names))
    pairs = pd.DataFrame({"a": lefts, "b": rights}, dtype="string")
    expected = duckdb.sql("select jaro_winkler_similarity(a, b) as jw from pairs").df()["jw"]
    assert np.array_equal(jaro_winkler(pairs["a"], pairs["b"]).to_numpy(float), expected)


def test_the_fused_multiply_add_is_rounded_once():
    from fractions import Fraction

    from golden_record.matching.similarity_on_spark import _fused_multiply_add

    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, 20_000) * 2.0 ** rng.integers(-30, 30, 20_000)
    b = rng.uniform(-1, 1, 20_000) * 2.0 ** rng.integers(-30, 30, 20_000)
    c = rng.uniform(-1, 1, 20_000) * 2.0 ** rng.integers(-60, 30, 20_000)
    got = _fused_multiply_add(a, b, c)
    exact = [
        float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c, strict=True)
    ]
    assert np.array_equal(got, exact)
    # Rounded twice, a plain multiply then add differs in the last bit somewhere.
    assert not np.array_equal(a * b + c, exact)
