"""Priors fill what a training sample cannot show, and nothing else."""

from __future__ import annotations

import math

import pandas as pd
from splink import Linker

from golden_record.extract.canonical import CANONICAL_COLUMNS, conform_all
from golden_record.matching.backend import default_db_api, register
from golden_record.matching.model import settings
from golden_record.matching.priors import M_FLOOR, PRIOR_M, apply_priors
from golden_record.standardise.fields import standardise


def _linker() -> Linker:
    canonical = pd.DataFrame(
        {
            "source_system": ["a", "b"],
            "source_record_id": ["1", "2"],
            "first_name": ["Ann", "Bob"],
            "surname": ["Lee", "Ray"],
            "source_updated_at": ["2026-01-01T00:00:00"] * 2,
        }
    ).reindex(columns=list(CANONICAL_COLUMNS))
    records = standardise(conform_all(canonical.astype("string")))
    return Linker(register(default_db_api(), records), settings(), log_level=None)


def _level(linker: Linker, comparison: str, label: str):
    for c in linker._settings_obj.comparisons:
        if c.output_column_name == comparison:
            for level in c.comparison_levels:
                if level.label_for_charts == label:
                    return level
    raise KeyError((comparison, label))


def _train_everything_but(linker: Linker, untrained: set[tuple[str, str]]) -> None:
    """Stand in for EM: every level trained (m and u) except the ones named."""
    for c in linker._settings_obj.comparisons:
        levels = [level for level in c.comparison_levels if not level.is_null_level]
        trained = [
            level
            for level in levels
            if (c.output_column_name, level.label_for_charts) not in untrained
        ]
        for level in levels:
            level.u_probability = 0.01
        for level in trained:
            level.m_probability = 1 / len(trained)


def test_untrained_levels_take_their_prior_and_trained_ones_make_room():
    linker = _linker()
    initial = ("first_name", "Initial matches")
    _train_everything_but(linker, {initial})
    before = {
        level.label_for_charts: level.m_probability
        for level in linker._settings_obj.comparisons[0].comparison_levels
        if not level.is_null_level and level.label_for_charts != initial[1]
    }
    applied = apply_priors(linker, pairs_sampled_for_u=1e6)

    assert _level(linker, *initial).m_probability == PRIOR_M[initial]
    first_name = [level for level in linker._settings_obj.comparisons[0].comparison_levels]
    total = sum(level.m_probability for level in first_name if not level.is_null_level)
    assert math.isclose(total, 1.0)
    exact = _level(linker, "first_name", "Exact match on first_name")
    assert exact.m_probability < before["Exact match on first_name"]
    assert {"comparison": "first_name", "level": "Initial matches", "parameter": "m"}.items() <= (
        applied[0].items()
    )


def test_a_level_the_sample_calls_impossible_is_floored():
    linker = _linker()
    _train_everything_but(linker, set())
    typo = _level(linker, "date_of_birth", "One character differs")
    typo.m_probability = 1e-12  # a sample with no mistyped dates of birth
    applied = apply_priors(linker, pairs_sampled_for_u=1e6)
    assert typo.m_probability == M_FLOOR
    assert [a["reason"] for a in applied] == ["floor"]


def _neither_trained_nor_sampled(key: tuple[str, str], pairs_sampled: float):
    """A level EM could not estimate and random sampling never met, after the priors."""
    linker = _linker()
    _train_everything_but(linker, {key})
    level = _level(linker, *key)
    level._u_probability = None
    apply_priors(linker, pairs_sampled_for_u=pairs_sampled)
    return level


def test_an_identifier_never_met_by_sampling_gets_a_u_of_one_in_the_pairs_sampled():
    exact_ni = ("ni_number", "Exact match on ni_number")
    level = _neither_trained_nor_sampled(exact_ni, 5e6)
    assert level.u_probability == 1 / 5e6
    assert level.m_probability == PRIOR_M[exact_ni]


def test_a_level_without_u_gets_no_prior_m():
    """An initial never sampled has no u: a prior m beside none would invent evidence."""
    level = _neither_trained_nor_sampled(("first_name", "Initial matches"), 5e6)
    assert not level._m_is_trained
    assert not level._u_is_trained
