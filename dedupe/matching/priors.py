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
# Levels of an identifier issued to one person: if random sampling met no two records
# agreeing, the chance is taken as one in the pairs sampled.
IDENTIFIER_LEVELS = {
    ("ni_number", "Exact match on ni_number"),
    ("ni_number", "One character differs"),
}


def _levels(linker: Any):
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
