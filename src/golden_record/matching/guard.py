"""The household guard: evidence a household shares must not make two people one.

Members of a household share UPRN, postcode, landline, surname and sometimes an email,
so Fellegi-Sunter's independence assumption fails for them and their shared evidence can
outweigh a different forename or date of birth. Every rule here reads the trained model's
own weights (:mod:`golden_record.matching.levels`), so it adapts to the data it was trained on:

* **Conflict**: two records conflict when their forenames or their dates of birth fall in
  a level the model weighs at most ``CONFLICT_BITS`` (wholly different forenames in a
  council's records, −6 bits; in FEBRL, which replaces whole forenames, only −2.7, a
  slip). The clustering never puts conflicting records in one cluster, so spouses, twins
  and a parent and child of one name stay apart, however high a score links them. An NI
  number is issued to one person: the same one, or one keystroke off, outweighs a conflict
  (consecutive numbers, which twins may hold, only a date of birth).
* **Household rules**, only where the data shows households: places (UPRN, postcode and
  first line, or landline) holding two records that conflict (:class:`Households`). There
  a pair sharing a place is linked automatically only if its forename and personal
  details (date of birth, email, mobile, NI number, title) reach the auto-match weight on
  their own; and a pair of one source system sharing a place only if its personal details
  do. Data without households (FEBRL, a file of people with no shared
  addresses) has no such places, and the rules cost nothing there.

Such pairs go to clerical review instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import DamerauLevenshtein

from golden_record.extract.canonical import split_unique_ids
from golden_record.keys import as_arrow, held_in, one_array, positions_of_each
from golden_record.matching.levels import CONFLICT_BITS, LevelWeights, dob_level, forename_level
from golden_record.standardise.fields import UK_MOBILE_PREFIX

# Comparisons whose agreement belongs to one person, not to a household.
PERSONAL = ("date_of_birth", "email", "ni_number", "sex_from_title")
# Personal details agree when together they weigh at least this (16 times the odds, the
# clustering's settled margin): both records saying 'Mr' (+0.9 bits) says nothing.
AGREE_BITS = 4.0
# Of the places held by two or more records, the share holding two that conflict from
# which the data is taken to hold households (Households: 75% in a synthetic council,
# none in FEBRL).
HOUSEHOLD_SHARE = 0.05
PLACES_SAMPLED = 5_000
# The compared values the guard reads from a scored pair: the match may set the others
# aside while the guard runs (golden_record.matching.parked).
PAIR_VALUES_READ = ("email_l", "email_r", "phone_l", "phone_r")


class _AsSets:
    """A column of name-variant lists read as sets when a conflict asks (a few hundred
    thousand asks a night), not all made up front (3.6 s at a million records)."""

    def __init__(self, lists: list):
        self._lists = lists

    def __getitem__(self, position: int) -> set:
        held = self._lists[position]
        return set(held) if held is not None else set()

    def __len__(self) -> int:
        return len(self._lists)

    def extend(self, other: _AsSets) -> None:
        self._lists.extend(other._lists)


@dataclass(frozen=True)
class PersonKeys:
    """The fields a conflict is judged on, one entry per record (or identity), by position."""

    first_name: list
    variants: _AsSets
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
            variants=_AsSets(column("first_name_variants")),
            surname=column("surname"),
            date_of_birth=column("date_of_birth"),
            ni_number=column("ni_number"),
        )

    def __len__(self) -> int:
        return len(self.first_name)

    def extend(self, other: PersonKeys) -> None:
        """``other``'s entries added after these (positions ``len(self)`` onwards)."""
        self.first_name.extend(other.first_name)
        self.variants.extend(other.variants)
        self.surname.extend(other.surname)
        self.date_of_birth.extend(other.date_of_birth)
        self.ni_number.extend(other.ni_number)


class Conflicts:
    """Whether two records (by position in ``keys``) conflict, by the model's weights: the
    forename level, the date-of-birth level, or the two together weigh at most
    ``CONFLICT_BITS``. Together: in heavily mistyped data a wholly different forename
    (−3.4 bits) or date of birth (−3.2) is often a slip, but both at once seldom are."""

    def __init__(self, keys: PersonKeys, weights: LevelWeights):
        self.keys = keys
        self.weights = weights

    def forename_weight(self, a: int, b: int) -> float:
        k = self.keys
        level = forename_level(
            k.first_name[a], k.first_name[b], k.surname[a], k.surname[b], k.variants[a],
            k.variants[b],
        )  # fmt: skip
        return self.weights.weight("first_name", level)

    def dob_weight(self, a: int, b: int) -> float:
        level = dob_level(self.keys.date_of_birth[a], self.keys.date_of_birth[b])
        return self.weights.weight("date_of_birth", level)

    def __call__(self, a: int, b: int) -> bool:
        ni_a, ni_b = self.keys.ni_number[a], self.keys.ni_number[b]
        if ni_a is not None and ni_a == ni_b:
            return False
        # An NI number one keystroke from the other is one person's number mistyped: it
        # outweighs a forename or a date of birth that disagrees (two people's numbers are
        # almost never one keystroke apart). Not so for consecutive numbers, which twins
        # may be issued together: those outweigh only a date of birth (twins share theirs).
        ni_typo = (
            ni_a is not None and ni_b is not None and DamerauLevenshtein.distance(ni_a, ni_b) <= 1
        )
        if ni_typo and not consecutive_ni_numbers(ni_a, ni_b):
            return False
        forename = self.forename_weight(a, b)
        if forename <= CONFLICT_BITS:
            return True
        if ni_typo:
            return False
        dob = self.dob_weight(a, b)
        return dob <= CONFLICT_BITS or forename + dob <= CONFLICT_BITS


def consecutive_ni_numbers(a: str, b: str) -> bool:
    """Numbers one apart with the same letters: perhaps issued to twins together."""
    if a[:2] != b[:2] or a[8:] != b[8:] or not (a[2:8].isdigit() and b[2:8].isdigit()):
        return False
    return abs(int(a[2:8]) - int(b[2:8])) == 1


def namesakes_without_birth_date(records: pd.DataFrame, weights: LevelWeights) -> pd.Series:
    """Records that cannot be told from a namesake living at the same postcode.

    Where one forename, surname and postcode carry two dates of birth the model calls two
    people (a father and his junior), a record of that name there without a date of birth
    could be either, so no link of it is taken automatically. (Treating two undated records
    of one name in one system as namesakes too was tried: it kept 12 more synthetic
    households apart but cost FEBRL3 five points of recall, because real systems do hold
    their own undated duplicates.)
    """
    key = ["first_name", "surname", "postcode"]
    against = weights.conflicting("date_of_birth")
    undated = records["date_of_birth"].isna()
    if not against or not undated.any():
        return pd.Series(False, index=records.index)
    # The four columns alone: dropping rows of every column copied all the records.
    distinct = records[[*key, "date_of_birth"]].dropna().drop_duplicates()
    several = distinct[distinct.duplicated(key, keep=False)]
    dates = several.groupby(key)["date_of_birth"].agg(list)
    namesakes = [
        name
        for name, held in dates.items()
        if any(dob_level(x, y) in against for i, x in enumerate(held) for y in held[i + 1 :])
    ]
    # Only the undated records can be such a namesake: only their names are looked up.
    found = pd.Series(False, index=records.index, dtype=bool)
    if namesakes:
        index = pd.MultiIndex.from_frame(records.loc[undated, key].astype(object))
        found[undated] = index.isin(namesakes)  # type: ignore[arg-type]  # as the stubs ask
    return found


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
    if "email_l" not in pairs:
        return pd.Series(result, index=pairs.index)
    # Only differing emails can be one extended (a tenth of the pairs with both).
    differ = (_both(pairs, "email") & (pairs["email_l"] != pairs["email_r"])).fillna(False)
    differing = differ.to_numpy(dtype=bool)
    result[differing] = [
        one_extends_the_other(a, b)
        for a, b in zip(
            pairs.loc[differing, "email_l"], pairs.loc[differing, "email_r"], strict=True
        )
    ]
    return pd.Series(result, index=pairs.index)


def _mobile(pairs: pd.DataFrame, side: str) -> pd.Series:
    return pairs[f"phone_{side}"].astype("string").str.startswith(UK_MOBILE_PREFIX).fillna(False)


@dataclass(frozen=True)
class PersonalEvidence:
    """Per scored pair: the model's weight of its personal details, summed.

    Name, address, surname and a landline are shared by a household; a date of birth, an
    email, a mobile, an NI number and a title's sex belong to one person. Two phones count
    as personal only when both are UK mobiles (``UK_MOBILE_PREFIX``): a landline is the
    household's. An email that is the other with digits added is a second portal account
    and weighs nothing either way. Read from Splink's per-comparison match weights.
    """

    weight: pd.Series
    second_account: pd.Series

    @property
    def agree(self) -> pd.Series:
        return self.weight >= AGREE_BITS

    @classmethod
    def of(cls, pairs: pd.DataFrame) -> PersonalEvidence:
        two_accounts = second_account(pairs)
        total = pd.Series(0.0, index=pairs.index)
        for comparison in PERSONAL:
            column = f"mw_{comparison}"
            if column in pairs:
                weight = pairs[column].astype(float).fillna(0.0)
                if comparison == "email":
                    weight = weight.where(~two_accounts, 0.0)
                total += weight
        if "mw_phone" in pairs:
            mobiles = (_mobile(pairs, "l") & _mobile(pairs, "r")).to_numpy(dtype=bool)
            total += pairs["mw_phone"].astype(float).fillna(0.0).where(mobiles, 0.0)
        return cls(weight=total, second_account=two_accounts)


@dataclass
class Households:
    """Whether the data holds households, and whether a pair shares a place.

    A place is a UPRN, a postcode with its first line, or a landline. The data holds
    households when, of its places held by two or more records, at least
    ``HOUSEHOLD_SHARE`` hold two records that conflict (the model calls them two people):
    a synthetic council's (seed 11, with a model trained on it: 75% of such places) and the
    mistyped profile's, where 6% of people live in couples (6.0%); not FEBRL3's or FEBRL4's
    (none), where records at one address are one person's. Judged on up to ``PLACES_SAMPLED`` such
    places, chosen by a hash of the place so the same records give the same answer.
    """

    records: pd.DataFrame
    weights: LevelWeights

    def __post_init__(self) -> None:
        self._places = self.places(self.records)
        self.share = self._share_with_conflicts()
        self.present = self.share >= HOUSEHOLD_SHARE

    @staticmethod
    def places(records: pd.DataFrame) -> dict[str, pd.Series]:
        """Per kind of place, each record's value (missing where it has none), held in
        Arrow: as Python objects the three were 0.2 GB at a million records."""

        def column(name: str) -> pd.Series:
            if name in records:
                return records[name].astype("string[pyarrow]")
            return pd.Series(pd.NA, index=records.index, dtype="string[pyarrow]")

        phone = column("phone")
        kinds = {
            "uprn": column("uprn"),
            "address": column("postcode") + "|" + column("address_key"),
            "landline": phone.where(~phone.str.startswith(UK_MOBILE_PREFIX).fillna(True)),
        }
        return {k: v.reset_index(drop=True) for k, v in kinds.items()}

    def _share_with_conflicts(self) -> float:
        held = pd.DataFrame(
            {"place": self._places["uprn"].fillna(self._places["address"])}
        ).dropna()
        if held.empty:
            return 0.0
        held["position"] = held.index
        sizes = held["place"].value_counts(sort=False)
        shared = sizes.index[sizes.to_numpy() > 1].to_numpy(dtype=object)
        if not len(shared):
            return 0.0
        # Lists are gathered for the sampled places only: per-group Python over every
        # place took 17 s at a million records.
        order = pd.util.hash_array(shared).argsort(kind="stable")
        sampled = held[held["place"].isin(shared[order[:PLACES_SAMPLED]])]
        groups = sampled.groupby("place")["position"].agg(list)
        rank = pd.Series(np.arange(len(order)), index=shared[order])
        chosen = groups.iloc[rank.reindex(groups.index).to_numpy().argsort(kind="stable")]
        # The sampled places' records alone are read for conflicts (a few thousand): every
        # record's keys as Python objects were 0.4 GB at a million, at the match's peak.
        positions = np.unique(sampled["position"].to_numpy())
        conflicts = Conflicts(
            PersonKeys.from_records(self.records.iloc[positions].reset_index(drop=True)),
            self.weights,
        )
        local = dict(zip(positions.tolist(), range(len(positions)), strict=True))
        with_conflict = sum(
            any(conflicts(local[a], local[b]) for i, a in enumerate(g) for b in g[i + 1 :])
            for g in chosen
        )
        return with_conflict / len(chosen)

    def shared(self, pairs: pd.DataFrame) -> pd.Series:
        """Pairs whose two records share a place (only where the data holds households)."""
        result = np.zeros(len(pairs), dtype=bool)
        if not self.present or pairs.empty:
            return pd.Series(result, index=pairs.index)
        # In Arrow: pandas' reindex by the pairs' Arrow-held ids and a Python comparison
        # per pair and kind of place took 1.8 s of a quiet night's match at a million.
        ids = one_array(self.records["unique_id"])
        left, right = (
            pa.array(found)
            for found in positions_of_each([pairs["unique_id_l"], pairs["unique_id_r"]], ids)
        )
        for values in self._places.values():
            held = as_arrow(values)
            same = pc.equal(held.take(left), held.take(right))
            result |= same.fill_null(False).to_numpy(zero_copy_only=False)
        return pd.Series(result, index=pairs.index)


def household_evidence_only(
    pairs: pd.DataFrame, evidence: PersonalEvidence, at_household: pd.Series, auto_match_bits: float
) -> pd.Series:
    """Pairs sharing a household's place whose personal details weigh against them, or
    that their forename and personal details do not carry to the auto-match weight.

    Where people live together the shared surname, address and landline say nothing of
    which of them a record is: only the forename and the personal details can. So there a
    link is taken automatically only if no personal detail weighs against it on balance (a
    parent and a child of one name differ in email or mobile) and the forename and personal
    details weigh, together, as much as the auto-match threshold asks of a whole pair (an
    exact forename, 8.3 bits, does; a forename with one letter wrong, 3.1 bits, needs a
    personal detail besides).
    """
    forename = (
        pairs["mw_first_name"].astype(float).fillna(0.0)
        if "mw_first_name" in pairs
        else pd.Series(0.0, index=pairs.index)
    )
    return at_household & ((evidence.weight < 0) | (forename + evidence.weight < auto_match_bits))


def one_system(pairs: pd.DataFrame, systems_of: dict[str, frozenset[str]] | None) -> np.ndarray:
    """Whether the two records come from one source system (a record scored for its
    identical copies stands for their systems too)."""
    system_l, _ = split_unique_ids(pairs["unique_id_l"])
    system_r, _ = split_unique_ids(pairs["unique_id_r"])
    same = (system_l == system_r).fillna(False).to_numpy(dtype=bool, copy=True)
    if systems_of:
        stands_for = held_in(pairs["unique_id_l"], systems_of.keys()) | held_in(
            pairs["unique_id_r"], systems_of.keys()
        )
        ids_l, ids_r = pairs["unique_id_l"].tolist(), pairs["unique_id_r"].tolist()
        names_l, names_r = system_l.tolist(), system_r.tolist()
        for i in np.flatnonzero(stands_for & ~same).tolist():
            left = systems_of.get(ids_l[i], frozenset({names_l[i]}))
            right = systems_of.get(ids_r[i], frozenset({names_r[i]}))
            same[i] = bool(left & right)
    return same


def namesakes_in_one_system(
    pairs: pd.DataFrame,
    evidence: PersonalEvidence,
    at_household: pd.Series,
    auto_match_bits: float,
    systems_of: dict[str, frozenset[str]] | None = None,
) -> pd.Series:
    """Pairs from one source system sharing a household's place whose personal details
    do not carry them to the auto-match weight (a father and his namesake son share the
    forename, so it does not count here).

    A system seldom holds one resident twice at one address, but often a father and a son
    of one name there; with only name and address in common the two cannot be told
    apart, so such a pair is never auto-matched. (Measured on the synthetic council,
    seed 11: 60 of 73 such auto-match pairs were two people.) A second account
    (:func:`second_account`) counts as agreement: on the synthetic council of seed 13
    (20,000 people), the 67 such pairs were all one person, the other 177 all two.
    """
    agree = (evidence.weight >= auto_match_bits) | evidence.second_account
    same_system = pd.Series(one_system(pairs, systems_of), index=pairs.index)
    return same_system & at_household & ~agree


def _level_of(gamma: pd.Series, levels: int) -> pd.Series:
    """Splink's gamma (highest for the closest level, −1 for null) as the index into the
    model's levels (0 for the closest) that :class:`LevelWeights` reads."""
    return (levels - 1 - gamma).where(gamma >= 0)


def forename_and_birth_date_conflict(pairs: pd.DataFrame, weights: LevelWeights) -> pd.Series:
    """Pairs whose forenames and dates of birth both fall in levels the model weighs at
    most ``CONFLICT_BITS``: whatever else they share (an address, a surname, an email, an
    identifier one copied from the other), two people. Measured on held-out sets, no such
    doubtful pair was one person (0 of 174 on a generated council, 0 of 385 on
    pseudopeople's town): they are decided without a steward."""
    both = pd.Series(True, index=pairs.index)
    for comparison in ("first_name", "date_of_birth"):
        gamma = f"gamma_{comparison}"
        levels = weights.by_comparison.get(comparison)
        if gamma not in pairs or not levels:
            return pd.Series(False, index=pairs.index)
        level = _level_of(pd.to_numeric(pairs[gamma], errors="coerce"), len(levels))
        both &= level.isin(list(weights.conflicting(comparison)))
    return both
