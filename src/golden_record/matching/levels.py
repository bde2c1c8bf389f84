"""The trained model's weight of each comparison level, and the levels two records reach.

The household guard keeps apart records the model itself weighs strongly against: a
forename or date-of-birth level whose trained weight (log2 of m/u) is at most
``CONFLICT_BITS``. So the same rule reads a wholly different date of birth as two people
where one person's records almost never differ so (a council's, −5.8 bits) and as a slip
where they often do (FEBRL, −4.0; heavily typo'd files, less). The clustering asks this of
pairs Splink never scored (any two records a chain of links would put together), so the
forename and date-of-birth levels are computed here in Python exactly as the model's SQL
computes them (``tests/test_levels.py`` holds the two to each other on scored pairs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from golden_record.matching.model import (
    DOB_WITHIN_MONTH_DAYS,
    DOB_WITHIN_YEAR_DAYS,
    FORENAME_LOOSE,
    FORENAME_SIMILAR,
    SWAPPED_NAMES,
)

# Weight at or below which a level keeps two records apart: the model holds such a
# difference at least 32 times likelier between two people than within one person.
CONFLICT_BITS = -5.0

# The non-null levels of the two comparisons mirrored below, in the model's order.
FORENAME_LEVELS = (
    "Exact match on first_name",
    "Forename and surname swapped",
    f"Jaro-Winkler distance of first_name >= {FORENAME_SIMILAR}",
    "One letter differs",
    "Nickname or formal form",
    "Initial matches",
    f"Jaro-Winkler distance of first_name >= {FORENAME_LOOSE}",
    "All other comparisons",
)
DOB_LEVELS = (
    "Exact match on date_of_birth",
    "One character differs",
    "Day and month swapped",
    "Within a month",
    "Within a year",
    "All other comparisons",
)
MIRRORED = {"first_name": FORENAME_LEVELS, "date_of_birth": DOB_LEVELS}


class ModelShapeError(ValueError):
    """The model's levels are not the ones this version computes (an older model)."""


@dataclass(frozen=True)
class LevelWeights:
    """Per comparison, the weight in bits of each non-null level, in the model's order.

    A comparison the model lacks (its data held no such field) weighs nothing, as a level
    training could not estimate does (:mod:`golden_record.matching.training` neutralises them).
    """

    by_comparison: dict[str, tuple[float, ...]]
    labels: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, model: dict) -> LevelWeights:
        from splink.internals.settings_creator import SettingsCreator

        settings = SettingsCreator.from_path_or_dict(model).get_settings("duckdb")
        weights, labels = {}, {}
        for comparison in settings.comparisons:
            levels = [level for level in comparison.comparison_levels if not level.is_null_level]
            weights[comparison.output_column_name] = tuple(_weight_of(level) for level in levels)
            labels[comparison.output_column_name] = tuple(
                level.label_for_charts for level in levels
            )
        for name, expected in MIRRORED.items():
            if name in labels and labels[name] != expected:
                raise ModelShapeError(
                    f"the model's {name} levels are {list(labels[name])}, not the ones this "
                    f"version computes ({list(expected)}): retrain it with this version"
                )
        return cls(by_comparison=weights, labels=labels)

    def weight(self, comparison: str, level: int | None) -> float:
        if level is None:
            return 0.0
        levels = self.by_comparison.get(comparison)
        return levels[level] if levels else 0.0

    def conflicting(self, comparison: str) -> frozenset[int]:
        """The levels of a comparison at or below ``CONFLICT_BITS``."""
        levels = self.by_comparison.get(comparison, ())
        return frozenset(i for i, w in enumerate(levels) if w <= CONFLICT_BITS)


def _weight_of(level: Any) -> float:
    factor = level._bayes_factor
    if factor is None or factor <= 0 or factor == float("inf"):
        return 0.0
    import math

    return math.log2(factor)


def forename_level(
    first_a: str | None,
    first_b: str | None,
    surname_a: str | None,
    surname_b: str | None,
    variants_a: set,
    variants_b: set,
) -> int | None:
    """The model's forename level (index into ``FORENAME_LEVELS``); None when null."""
    if first_a is None or first_b is None:
        return None
    if first_a == first_b:
        return 0
    if (
        surname_a is not None
        and surname_b is not None
        and JaroWinkler.similarity(first_a, surname_b) >= SWAPPED_NAMES
        and JaroWinkler.similarity(surname_a, first_b) >= SWAPPED_NAMES
    ):
        return 1
    similarity = JaroWinkler.similarity(first_a, first_b)
    if similarity >= FORENAME_SIMILAR:
        return 2
    if DamerauLevenshtein.distance(first_a, first_b) <= 1:
        return 3
    if variants_a & variants_b:
        return 4
    if (len(first_a) == 1 or len(first_b) == 1) and first_a[0] == first_b[0]:
        return 5
    if similarity >= FORENAME_LOOSE:
        return 6
    return 7


def dob_level(dob_a: str | None, dob_b: str | None) -> int | None:
    """The model's date-of-birth level (index into ``DOB_LEVELS``); None when null."""
    if dob_a is None or dob_b is None:
        return None
    if dob_a == dob_b:
        return 0
    if DamerauLevenshtein.distance(dob_a, dob_b) <= 1:
        return 1
    if dob_a[:4] == dob_b[:4] and dob_a[5:7] == dob_b[8:10] and dob_a[8:10] == dob_b[5:7]:
        return 2
    try:
        days = abs((date.fromisoformat(dob_a) - date.fromisoformat(dob_b)).days)
    except ValueError:
        return 5
    if days <= DOB_WITHIN_MONTH_DAYS:
        return 3
    if days <= DOB_WITHIN_YEAR_DAYS:
        return 4
    return 5
