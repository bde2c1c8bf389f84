"""Identifiers that identify nobody: a value held by many different people.

An email, phone or NI number agreeing is strong evidence of one person only when it is
one person's. A council's switchboard number given as every caller's phone, a care
home's email for all its residents, a placeholder NI number keyed for thousands: agreeing
on such a value says nothing, yet the model weighs it as it weighs a personal one, and a
night would join the care home's residents into one. (On the test council with one phone
and one email given to every record, the packaged model's precision fell to 0.38.)

So, as entity-centric matchers do, a value is taken for what it identifies: one held by
records of more than ``MAX_SURNAMES`` different surnames (by sound, so a surname's slips
count once) identifies no one, and is left out of matching for every record holding it.
A household shares a landline or an email under one or two surnames; a blended family
under three. Kept in the records themselves and in the golden record: only matching
ignores it.
"""

from __future__ import annotations

import logging

import pandas as pd

log = logging.getLogger(__name__)

MAX_SURNAMES = 3
# Each identifier, and the columns derived from it that must go with it.
IDENTIFIERS = {
    "email": ("email", "email_user", "email_digits"),
    "phone": ("phone",),
    "ni_number": ("ni_number",),
}


def generic_values(records: pd.DataFrame, column: str) -> pd.Index:
    """The values of ``column`` held under more than ``MAX_SURNAMES`` surnames."""
    if column not in records or "surname_sound" not in records:
        return pd.Index([])
    held = records[[column, "surname_sound"]].dropna()
    if held.empty:
        return pd.Index([])
    surnames = held.groupby(column, sort=False)["surname_sound"].nunique()
    return surnames.index[surnames.to_numpy() > MAX_SURNAMES]


def without_generic_identifiers(records: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """``records`` with every generic identifier value left out (as missing) of the
    columns matching compares; and how many values of each identifier were generic."""
    found: dict[str, int] = {}
    cleaned = records
    for identifier, columns in IDENTIFIERS.items():
        generic = generic_values(records, identifier)
        if not len(generic):
            continue
        holding = records[identifier].isin(generic).to_numpy()
        if cleaned is records:
            cleaned = records.copy()
        for column in (c for c in columns if c in cleaned):
            cleaned.loc[holding, column] = pd.NA
        found[identifier] = len(generic)
        # Counts only: the values themselves are residents' details (or a council's).
        log.warning(
            "%s: %d value(s) held by more than %d surnames each (%d records) left out of "
            "matching as identifying no one",
            identifier,
            len(generic),
            MAX_SURNAMES,
            int(holding.sum()),
        )
    return cleaned, found
