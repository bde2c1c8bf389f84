"""Identifiers that identify nobody: a value held by many different people.

An email, phone or NI number agreeing is strong evidence of one person only when it is
one person's. A council's switchboard number given as every caller's phone, a care
home's email for all its residents, a placeholder NI number keyed for thousands: agreeing
on such a value says nothing, yet the model weighs it as it weighs a personal one, and a
night would join the care home's residents into one. (On the test council with one phone
and one email given to every record, the packaged model's precision fell to 0.38.)

So, as entity-centric matchers do, a value is taken for what it identifies: the records
holding it are counted in *names*, a record joining the name of the first record before
it whose surname or forename it shares by sound (a slip in one rarely comes with a slip
in the other; joining only a name's first record keeps the Johns and the Smiths of a
switchboard apart). A value held under more than ``MAX_NAMES`` names, none of them
holding half its records, identifies no one, and is left out of matching for every record
holding it. A household shares a landline or an email under one surname; a blended
family under two or three; one person's records, however mistyped (nicknames, swapped
names, slips in both), mostly bear that person's name. Kept in the records themselves and
in the golden record: only matching ignores it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MAX_NAMES = 3
# Each identifier, and the columns derived from it that must go with it.
IDENTIFIERS = {
    "email": ("email", "email_user", "email_digits"),
    "phone": ("phone",),
    "ni_number": ("ni_number",),
}


def _nobodys(limit: int, surnames: list, forenames: list) -> bool:
    """Whether records (their surname and forename sounds) bear more than ``limit`` names,
    none holding half of them."""
    founders: list[tuple[object, object]] = []
    sizes: list[int] = []
    for surname, forename in zip(surnames, forenames, strict=True):
        for position, (known_surname, known_forename) in enumerate(founders):
            if (surname is not None and surname == known_surname) or (
                forename is not None and forename == known_forename
            ):
                sizes[position] += 1
                break
        else:
            founders.append((surname, forename))
            sizes.append(1)
    return len(founders) > limit and 2 * max(sizes) < len(surnames)


def _may_bear_more_names(held: pd.DataFrame, column: str) -> pd.Index:
    """The values of ``column`` that may bear more than ``MAX_NAMES`` names.

    The names :func:`_nobodys` counts differ pairwise in surname, so a value bears at most
    as many as its distinct surnames plus its records without one; likewise forenames. A
    value within ``MAX_NAMES`` by either count is nobody's generic value, and its records
    are not walked in Python (most such values are a household's landline: one surname)."""
    by_value = held[column].to_numpy()
    bounds = []
    for sound in ("surname_sound", "first_name_sound"):
        values = held[sound]
        distinct = values.groupby(by_value, sort=False).nunique()
        missing = values.isna().groupby(by_value, sort=False).sum()
        bounds.append(distinct + missing.reindex(distinct.index))
    surnames, forenames = bounds[0], bounds[1].reindex(bounds[0].index)
    bound = np.minimum(surnames.to_numpy(), forenames.to_numpy())
    return surnames.index[bound > MAX_NAMES]


def generic_values(records: pd.DataFrame, column: str) -> pd.Index:
    """The values of ``column`` held under more than ``MAX_NAMES`` names, none holding
    half of its records."""
    wanted = [column, "unique_id", "surname_sound", "first_name_sound"]
    if any(c not in records for c in wanted):
        return pd.Index([])
    held = records[wanted].dropna(subset=[column])
    # Only a value held by more records than names allowed can bear more names.
    counts = held[column].value_counts()
    frequent = counts.index[counts.to_numpy() > MAX_NAMES]
    held = held[held[column].isin(frequent)]
    held = held[held[column].isin(_may_bear_more_names(held, column))]
    held = held.sort_values([column, "unique_id"], kind="stable")
    if held.empty:
        return pd.Index([])
    sounds = held[["surname_sound", "first_name_sound"]].astype(object)
    sounds = sounds.where(sounds.notna(), None)
    generic = [
        value
        for value, rows in sounds.groupby(held[column].to_numpy(), sort=True)
        if _nobodys(MAX_NAMES, rows["surname_sound"].tolist(), rows["first_name_sound"].tolist())
    ]
    return pd.Index(generic)


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
            # The columns changed are replaced, the rest shared: a copy of every record
            # (half a gigabyte at a million) for one switchboard's number was most nights'.
            cleaned = records.copy(deep=False)
        for column in (c for c in columns if c in cleaned):
            cleaned[column] = cleaned[column].mask(holding)
        found[identifier] = len(generic)
        # Counts only: the values themselves are residents' details (or a council's).
        log.warning(
            "%s: %d value(s) held under more than %d names each (%d records) left out of "
            "matching as identifying no one",
            identifier,
            len(generic),
            MAX_NAMES,
            int(holding.sum()),
        )
    return cleaned, found
