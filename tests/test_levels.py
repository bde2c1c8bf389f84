"""The guard's Python levels are the model's SQL levels, pair for pair."""

from __future__ import annotations

import pandas as pd

from devtools.generate.typo_profile import typo_profile
from golden_record.matching.inference import load_model, score
from golden_record.matching.levels import (
    DOB_LEVELS,
    FORENAME_LEVELS,
    LevelWeights,
    dob_level,
    forename_level,
)
from golden_record.matching.stage import standardise_records


def _gamma(level: int | None, levels: tuple) -> int:
    """Splink numbers the non-null levels from the top down to 0; null is -1."""
    return -1 if level is None else len(levels) - 1 - level


def test_python_levels_equal_splinks_on_every_scored_pair():
    # Heavily mistyped records reach every level of both comparisons.
    canonical, _, _ = typo_profile(400, seed=5)
    records = standardise_records(canonical)
    pairs = score(records, load_model(), threshold=0.0)
    assert len(pairs) > 1000

    def as_set(value) -> set:
        return set(value) if isinstance(value, list | tuple) or hasattr(value, "tolist") else set()

    forenames = [
        _gamma(
            forename_level(
                *(None if pd.isna(v) else v for v in (fl, fr, sl, sr)), as_set(vl), as_set(vr)
            ),
            FORENAME_LEVELS,
        )
        for fl, fr, sl, sr, vl, vr in zip(
            pairs["first_name_l"],
            pairs["first_name_r"],
            pairs["surname_l"],
            pairs["surname_r"],
            pairs["first_name_variants_l"],
            pairs["first_name_variants_r"],
            strict=True,
        )
    ]
    assert forenames == pairs["gamma_first_name"].tolist()
    births = [
        _gamma(dob_level(None if pd.isna(a) else a, None if pd.isna(b) else b), DOB_LEVELS)
        for a, b in zip(pairs["date_of_birth_l"], pairs["date_of_birth_r"], strict=True)
    ]
    assert births == pairs["gamma_date_of_birth"].tolist()
    # Every level was met (but initials, which this profile never writes), so the
    # comparison above covered each of them.
    initial = _gamma(FORENAME_LEVELS.index("Initial matches"), FORENAME_LEVELS)
    assert set(pairs["gamma_first_name"]) == {-1, *range(len(FORENAME_LEVELS))} - {initial}
    assert set(pairs["gamma_date_of_birth"]) == {-1, *range(len(DOB_LEVELS))}


def test_weights_are_the_models_own():
    model = load_model()
    weights = LevelWeights.of(model)
    levels = {
        c["output_column_name"]: [
            lv for lv in c["comparison_levels"] if not lv.get("is_null_level")
        ]
        for c in model["comparisons"]
    }
    import math

    exact = levels["date_of_birth"][0]
    assert weights.weight("date_of_birth", 0) == math.log2(
        exact["m_probability"] / exact["u_probability"]
    )
    assert weights.weight("date_of_birth", None) == 0.0
    assert weights.weight("no_such_comparison", 3) == 0.0
    # In a council's records a wholly different forename keeps two records apart.
    assert 7 in weights.conflicting("first_name")
