"""The household guard: evidence a household shares must not make two people one.

Members of a household share UPRN, postcode, landline, surname and sometimes an email,
so Fellegi-Sunter's independence assumption fails for them and their shared evidence can
outweigh a different forename or date of birth. A pair whose forenames plainly disagree,
or whose dates of birth plainly disagree, is therefore never auto-matched, however high
its score: spouses, twins and a parent and child with the same name stay apart.
"""

from __future__ import annotations

import pandas as pd

# Splink numbers a comparison's levels from the else level (0) upwards; null is -1.
ELSE_LEVEL = 0


def blocked_by_guard(pairs: pd.DataFrame) -> pd.Series:
    """True for pairs the guard keeps from auto-matching (needs ``gamma_*`` columns)."""
    forenames_differ = pairs["gamma_first_name"] == ELSE_LEVEL
    birth_dates_differ = pairs["gamma_date_of_birth"] == ELSE_LEVEL
    return forenames_differ | birth_dates_differ
