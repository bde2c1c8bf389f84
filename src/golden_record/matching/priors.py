"""Prior parameters for what a training sample cannot show.

Expectation maximisation estimates a level's m-probability (how often true matches fall
in it) only from the pairs its blocks bring together, and random sampling its
u-probability only from the pairs it draws. Council data leave gaps: waste contacts carry
no date of birth, so a forename initial never meets the date-of-birth block that
estimates names; an NI number is held by one system, so two records carrying it are too
rare to be sampled; and a sample without one mistyped date of birth says true matches
never have one (m near 0: a weight of about -27 bits, which vetoes any pair with such a
typo while the household guard calls it a slip). A model with such gaps scores those
levels as no evidence at all, or as proof against.

So after training: a level EM could not estimate takes its prior m below, the levels EM
did estimate are scaled to leave room for it, and no level's m stays below ``M_FLOOR``
(rare among the sample's matches is not impossible). An identifier level random sampling
never met takes a u-probability of one in the pairs sampled, about the most the sample
allows, so its evidence is not overstated; a prior m needs a u beside it, so other
levels without one stay no evidence. The model's metadata lists every value set here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# (comparison, level label) -> share of true matches expected in that level.
PRIOR_M: dict[tuple[str, str], float] = {
    # Letters and waste contacts are addressed 'Mr D Williams'.
    ("first_name", "Initial matches"): 0.03,
    ("first_name", "Forename and surname swapped"): 0.005,
    ("surname", "Forename and surname swapped"): 0.005,
    ("surname", "Shares a part of a double-barrelled surname"): 0.01,
    # HMRC issues one number per person; most of one person's records that hold it agree.
    ("ni_number", "Exact match on ni_number"): 0.9,
    ("ni_number", "One character differs"): 0.03,
}
M_FLOOR = 0.001
NOT_OBSERVED = 1e-6
# Levels of an identifier issued to one person: if random sampling met no two records
# agreeing, the chance is taken as one in the pairs sampled.
IDENTIFIER_LEVELS = {
    ("ni_number", "Exact match on ni_number"),
    ("ni_number", "One character differs"),
}


def _levels(linker: Any) -> Iterator[tuple[str, list[Any]]]:
    for comparison in linker._settings_obj.comparisons:
        levels = [level for level in comparison.comparison_levels if not level.is_null_level]
        yield comparison.output_column_name, levels


def apply_priors(linker: Any, pairs_sampled_for_u: float) -> list[dict]:
    """Fill what training could not estimate; return what was set, for the metadata."""
    applied: list[dict] = []
    for comparison, levels in _levels(linker):
        for level in levels:
            key = (comparison, level.label_for_charts)
            if not level._u_is_trained and key in IDENTIFIER_LEVELS:
                level.u_probability = 1.0 / pairs_sampled_for_u
                applied.append(_entry(comparison, level, "u", "none in the pairs sampled"))
        # A prior m is only meaningful beside a u: without one the level stays no evidence.
        prior = {
            id(level): PRIOR_M[(comparison, level.label_for_charts)]
            for level in levels
            if not level._m_is_trained
            and level._u_is_trained
            and (comparison, level.label_for_charts) in PRIOR_M
        }
        trained = [level for level in levels if level._m_is_trained]
        trained_total = sum(level.m_probability for level in trained)
        room = 1.0 - sum(prior.values())
        if prior and trained_total > 0 and room > 0:
            for level in trained:
                level.m_probability = level.m_probability * room / trained_total
        for level in levels:
            if id(level) in prior:
                level.m_probability = prior[id(level)]
                applied.append(_entry(comparison, level, "m", "not estimable from the sample"))
            elif level._m_is_trained and level.m_probability < M_FLOOR:
                level.m_probability = M_FLOOR
                applied.append(_entry(comparison, level, "m", "floor"))
    return applied


def _entry(comparison: str, level: Any, parameter: str, reason: str) -> dict:
    value = level.m_probability if parameter == "m" else level.u_probability
    return {
        "comparison": comparison,
        "level": level.label_for_charts,
        "parameter": parameter,
        "value": value,
        "reason": reason,
    }


def neutralise_untrained(linker: Any, pairs_sampled_for_u: float) -> list[dict]:
    """A level training could not estimate weighs nothing, instead of Splink's defaults.

    Splink scores a level with no trained m (or u) from default values spread over the
    comparison's levels, which can weigh several bits either way for a level the data never
    showed (a postcode level in data without postcodes that meet). Here its m is set to
    its u, or both to Splink's 'not observed' value, so its weight is zero. A level seen
    among matches but never in the random sample takes a u of one in the pairs sampled,
    the most the sample allows.
    """
    applied: list[dict] = []
    for comparison, levels in _levels(linker):
        for level in levels:
            if level._m_is_trained and level._u_is_trained:
                continue
            if level._m_is_trained:
                level.u_probability = 1.0 / pairs_sampled_for_u
                applied.append(_entry(comparison, level, "u", "none in the pairs sampled"))
            elif level._u_is_trained:
                level.m_probability = level.u_probability
            else:
                level.m_probability = NOT_OBSERVED
                level.u_probability = NOT_OBSERVED
            applied.append(_entry(comparison, level, "m", "not estimable: weighs nothing"))
    return applied


# The swapped-names level sits in both name comparisons (each must see it before its
# fuzzy levels), but it is one piece of evidence: it weighs in the forename comparison
# only. Counted twice it gave a swapped pair some 26 bits, enough to join two FEBRL
# people whose dates of birth and identifiers differ.
COUNTED_ONCE = {("surname", "Forename and surname swapped")}
# Random sampling draws some pairs of one person too and counts them as non-matches, so
# a strong level's u is overstated where duplicates are common (FEBRL4: a tenth of a
# per cent of all pairs; fake data sets: several). At most a tenfold correction.
MAX_U_CORRECTION = 10.0


def correct_u_for_matches(linker: Any) -> list[dict]:
    """Take out of each level's u the share that true matches put there: u' = (u − λm)/(1 − λ)."""
    applied: list[dict] = []
    prior = linker._settings_obj._probability_two_random_records_match
    for comparison, levels in _levels(linker):
        for level in levels:
            if not (level._m_is_trained and level._u_is_trained):
                continue
            u, m = level.u_probability, level.m_probability
            corrected = max((u - prior * m) / (1 - prior), u / MAX_U_CORRECTION)
            if corrected < u * 0.99:
                level.u_probability = corrected
                applied.append(_entry(comparison, level, "u", "matches taken out of the sample"))
    return applied


def count_once(linker: Any) -> list[dict]:
    applied: list[dict] = []
    for comparison, levels in _levels(linker):
        for level in levels:
            if (comparison, level.label_for_charts) in COUNTED_ONCE and level._u_is_trained:
                level.m_probability = level.u_probability
                applied.append(_entry(comparison, level, "m", "counted in another comparison"))
    return applied
