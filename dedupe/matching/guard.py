"""The household guard: evidence a household shares must not make two people one.

Members of a household share UPRN, postcode, landline, surname and sometimes an email,
so Fellegi-Sunter's independence assumption fails for them and their shared evidence can
outweigh a different forename or date of birth. Two records *conflict* when their
forenames plainly disagree or their dates of birth plainly disagree (both present). An
NI number is issued to one person, so two records carrying the same one, or one keystroke
apart, do not conflict on names or dates (consecutive numbers, which twins may hold, only
excuse a date); a different NI number is left to the model's weights, since a wrong
one is typed more often than a second person appears with the same name and birth. (In
FEBRL3, 420 of the 937 true pairs whose numbers differ hold wholly different numbers;
calling two people every pair whose numbers and forenames both differ cost FEBRL3 recall
0.9598 → 0.9397 to keep one pair of synthetic twins apart.) The clustering never puts
conflicting records in one cluster, however high a score links them, so spouses, twins
and a parent and child with the same name stay apart. Such pairs go to clerical review
instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from dedupe.nicknames import formal_names_of, names_one_slip_from
from dedupe.standardise import UK_MOBILE_PREFIX

# The model's 'similar forename' level: from 0.8 to 0.92 it weighs about -1 bit, no
# evidence of one person, and Jaro-Winkler's prefix bonus puts 'josh' and 'josephine'
# (spouses in the demo council) at 0.87.
SIMILAR_FORENAME = 0.92
# Comparison levels (Splink's gamma values) from which a personal detail agrees.
GAMMA_AGREES = {"date_of_birth": 2, "email": 1, "ni_number": 1}


@dataclass(frozen=True)
class PersonKeys:
    """The fields a conflict is judged on, one tuple per record, by position."""

    first_name: list
    variants: list
    surname: list
    date_of_birth: list
    ni_number: list

    @classmethod
    def from_records(cls, records: pd.DataFrame) -> PersonKeys:
        def column(name: str) -> list:
            values = records[name].astype(object)
            return values.where(values.notna(), None).tolist()

        return cls(
            first_name=column("first_name"),
            variants=[set(v) if v is not None else set() for v in column("first_name_variants")],
            surname=column("surname"),
            date_of_birth=column("date_of_birth"),
            ni_number=column("ni_number"),
        )


def _same_name(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and DamerauLevenshtein.distance(a, b) <= 1


def _slipped_form_of(slipped: str, other: str, other_variants: set) -> bool:
    """``slipped`` is one keystroke from a name that is ``other`` or a form of it.

    One hop only: 'mandy' is a slip from 'sandy', a nickname of Alexander, as 'alex' is;
    two nicknames of one formal name and a slip besides are too far to call one person.
    """
    near = names_one_slip_from(slipped)
    return bool(near & other_variants) or any(other in formal_names_of(n) for n in near)


def forenames_conflict(keys: PersonKeys, a: int, b: int) -> bool:
    first_a, first_b = keys.first_name[a], keys.first_name[b]
    if first_a is None or first_b is None or first_a == first_b:
        return False
    if (len(first_a) == 1 or len(first_b) == 1) and first_a[0] == first_b[0]:
        return False
    # Forename and surname swapped in one record, perhaps with a slip. Both ways round:
    # one way only is 'William Williams' beside 'Jane Williams'.
    if _same_name(first_a, keys.surname[b]) and _same_name(first_b, keys.surname[a]):
        return False
    if keys.variants[a] & keys.variants[b]:
        return False  # nickname and formal name
    if _slipped_form_of(first_a, first_b, keys.variants[b]) or _slipped_form_of(
        first_b, first_a, keys.variants[a]
    ):
        return False  # a nickname or formal name with a slip ('harrry' beside 'henry')
    if DamerauLevenshtein.distance(first_a, first_b) <= 1:
        return False  # one slip of the keyboard, which Jaro-Winkler punishes in short names
    return JaroWinkler.similarity(first_a, first_b) < SIMILAR_FORENAME


def birth_dates_conflict(keys: PersonKeys, a: int, b: int) -> bool:
    dob_a, dob_b = keys.date_of_birth[a], keys.date_of_birth[b]
    if dob_a is None or dob_b is None or dob_a == dob_b:
        return False
    if DamerauLevenshtein.distance(dob_a, dob_b) <= 1:
        return False  # one mistyped digit
    day_month_swapped = (
        dob_a[:4] == dob_b[:4] and dob_a[5:7] == dob_b[8:10] and dob_a[8:10] == dob_b[5:7]
    )
    return not day_month_swapped


def consecutive_ni_numbers(a: str, b: str) -> bool:
    """Numbers one apart with the same letters: perhaps issued to twins together."""
    if a[:2] != b[:2] or a[8:] != b[8:] or not (a[2:8].isdigit() and b[2:8].isdigit()):
        return False
    return abs(int(a[2:8]) - int(b[2:8])) == 1


def conflict(keys: PersonKeys, a: int, b: int) -> bool:
    ni_a, ni_b = keys.ni_number[a], keys.ni_number[b]
    if ni_a is not None and ni_a == ni_b:
        return False
    # An NI number one keystroke from the other is one person's number mistyped: it
    # outweighs a forename or a date of birth that disagrees (two people's numbers are
    # almost never one keystroke apart). Not so for consecutive numbers, which twins may
    # be issued together: those outweigh only a date of birth (twins share theirs).
    ni_typo = ni_a is not None and ni_b is not None and DamerauLevenshtein.distance(ni_a, ni_b) <= 1
    if ni_typo and not consecutive_ni_numbers(ni_a, ni_b):
        return False
    if forenames_conflict(keys, a, b):
        return True
    if ni_typo:
        return False
    return birth_dates_conflict(keys, a, b)


def namesakes_without_birth_date(records: pd.DataFrame) -> pd.Series:
    """Records that cannot be told from a namesake living at the same postcode.

    Where one forename, surname and postcode carry two different years of birth, two
    people of that name live there (a father and his junior); a record of that name there
    without a date of birth could be either, so no link of it is taken automatically.
    (Treating two undated records of one name in one system as namesakes too was tried:
    it kept 12 more synthetic households apart but cost FEBRL3 five points of recall,
    because real systems do hold their own undated duplicates.)
    """
    key = ["first_name", "surname", "postcode"]
    known = records.dropna(subset=[*key, "date_of_birth"])
    years = known["date_of_birth"].str[:4]
    namesakes = years.groupby([known[k] for k in key]).nunique()
    namesakes = namesakes[namesakes > 1].index
    index = pd.MultiIndex.from_frame(records[key].astype(object))
    return pd.Series(index.isin(namesakes), index=records.index) & records["date_of_birth"].isna()


def _both(pairs: pd.DataFrame, column: str) -> pd.Series:
    return pairs[f"{column}_l"].notna() & pairs[f"{column}_r"].notna()


def second_account(pairs: pd.DataFrame) -> pd.Series:
    """One email is the other with digits added before the @ ('aevans24@' beside
    'aevans@', 'alicesmith282@' beside 'alicesmith28@').

    The mark of a resident who opened a second portal account: taken as neither
    agreement nor disagreement between the two records. Two different numbers
    ('davies.jonathan1990@' beside 'davies.jonathan1988@') are two people, often a
    father and a son of one name.
    """

    def one_extends_the_other(a: object, b: object) -> bool:
        if not isinstance(a, str) or not isinstance(b, str) or a == b:
            return False
        user_a, _, domain_a = a.partition("@")
        user_b, _, domain_b = b.partition("@")
        if domain_a != domain_b:
            return False
        short, long = sorted((user_a, user_b), key=len)
        return long.startswith(short) and long[len(short) :].isdigit()

    result = np.zeros(len(pairs), dtype=bool)
    both = _both(pairs, "email").fillna(False).to_numpy(dtype=bool)
    result[both] = [
        one_extends_the_other(a, b)
        for a, b in zip(pairs.loc[both, "email_l"], pairs.loc[both, "email_r"], strict=True)
    ]
    return pd.Series(result, index=pairs.index)


def titles_of_two_sexes(pairs: pd.DataFrame) -> pd.Series:
    """'Mr' beside 'Mrs' (``sex_from_title``) where the forenames are not one name."""
    if "sex_from_title_l" not in pairs:
        return pd.Series(False, index=pairs.index)
    sexes_differ = _both(pairs, "sex_from_title") & (
        pairs["sex_from_title_l"] != pairs["sex_from_title_r"]
    )
    one_forename = _both(pairs, "first_name") & (pairs["first_name_l"] == pairs["first_name_r"])
    return (sexes_differ & ~one_forename.fillna(False)).fillna(False).astype(bool)


@dataclass(frozen=True)
class PersonalEvidence:
    """Per scored pair: whether a personal detail agrees, whether one disagrees, and
    whether the emails are one resident's two accounts. Computed once per night's pairs
    and read by every rule below.

    Name, address, surname and a landline are shared by a household; a date of birth,
    an email, a mobile and an NI number belong to one person. UK mobiles start
    ``UK_MOBILE_PREFIX``; other numbers are treated as a household's landline. Titles of
    the two sexes ('Mr' beside 'Mrs') disagree where the forenames are not one name: with
    an initial or a nickname a couple share ('chris'), the title is what tells them
    apart. With one forename in both, a slip of the title is likelier; and a title
    disagreeing is outweighed by an agreeing personal detail, as any disagreement is.
    """

    agree: pd.Series
    disagree: pd.Series
    second_account: pd.Series

    @classmethod
    def of(cls, pairs: pd.DataFrame) -> PersonalEvidence:
        mobile_l = pairs["phone_l"].astype("string").str.startswith(UK_MOBILE_PREFIX)
        mobile_r = pairs["phone_r"].astype("string").str.startswith(UK_MOBILE_PREFIX)
        both_mobile = mobile_l.fillna(False) & mobile_r.fillna(False)
        dob_both, email_both, ni_both = (
            _both(pairs, c) for c in ("date_of_birth", "email", "ni_number")
        )
        two_accounts = second_account(pairs)
        # Levels from the model: date of birth exact/one digit/day-month swapped are >= 2;
        # email exact or same distinctive user name >= 1; NI exact or one character off
        # >= 1. (GAMMA_AGREES; a test holds the packaged model to it.)
        dob, email, ni = (
            pairs[f"gamma_{c}"] >= GAMMA_AGREES[c] for c in ("date_of_birth", "email", "ni_number")
        )
        agree = (
            (dob_both & dob)
            | (email_both & email)
            | (both_mobile & (pairs["phone_l"] == pairs["phone_r"]))
            | (ni_both & ni)
        )
        disagree = (
            titles_of_two_sexes(pairs)
            | (dob_both & ~dob)
            | (email_both & ~email & ~two_accounts)
            | (both_mobile & (pairs["phone_l"] != pairs["phone_r"]))
            | (ni_both & ~ni)
        )
        return cls(
            agree=agree.fillna(False).astype(bool),
            disagree=disagree.fillna(False).astype(bool),
            second_account=two_accounts,
        )


def household_evidence_only(
    pairs: pd.DataFrame, evidence: PersonalEvidence | None = None
) -> pd.Series:
    """Scored pairs whose personal details disagree and none agree.

    A link resting on household evidence while the personal details it can compare all
    disagree is never auto-matched.
    """
    evidence = evidence or PersonalEvidence.of(pairs)
    return evidence.disagree & ~evidence.agree


def namesakes_in_one_system(
    pairs: pd.DataFrame,
    evidence: PersonalEvidence | None = None,
    systems_of: dict[str, frozenset[str]] | None = None,
) -> pd.Series:
    """Pairs from one source system at one postcode with no personal detail agreeing.

    A system seldom holds one resident twice at one address, but often a father and a son
    of one name there; with only name and address in common the two cannot be told
    apart, so such a pair is never auto-matched. (Measured on the synthetic council,
    seed 11: 60 of 73 such auto-match pairs were two people.) The exception is a second
    account (:func:`second_account`): on the synthetic council of seed 13 (20,000
    people), the 67 such pairs were all one person, the other 177 all two.

    ``systems_of`` names every system a scored record stands for, where identical
    records from other systems were scored through it: a father's portal record
    standing for his identical council-tax record is in the council-tax system too.
    """
    evidence = evidence or PersonalEvidence.of(pairs)
    agree = evidence.agree | evidence.second_account
    system_l = pairs["unique_id_l"].astype("string").str.split(":", n=1).str[0]
    system_r = pairs["unique_id_r"].astype("string").str.split(":", n=1).str[0]
    one_system = (system_l == system_r).fillna(False).to_numpy(dtype=bool, copy=True)
    if systems_of:
        stands_for = (
            pairs["unique_id_l"].isin(systems_of.keys())
            | pairs["unique_id_r"].isin(systems_of.keys())
        ).to_numpy(dtype=bool)
        for i in np.flatnonzero(stands_for & ~one_system):
            left = systems_of.get(pairs["unique_id_l"].iat[i], frozenset({system_l.iat[i]}))
            right = systems_of.get(pairs["unique_id_r"].iat[i], frozenset({system_r.iat[i]}))
            one_system[i] = bool(left & right)
    same_postcode = (pairs["postcode_l"] == pairs["postcode_r"]) | (
        pairs["uprn_l"] == pairs["uprn_r"]
    )
    return pd.Series(one_system, index=pairs.index) & (same_postcode & ~agree).fillna(False)
