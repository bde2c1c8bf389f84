"""The shape of the matching model: comparisons and blocking rules for person records.

Evidence that is really one thing is compared once: UPRN, postcode, first address line and
town are levels of a single ``address`` comparison, so that living at the same place is
not counted several times (households share it; it is evidence of address, not person).

A model is built for the columns the data holds (:func:`settings` with ``columns``): a
comparison or blocking rule over a field that is empty throughout would train nothing
and block nothing, and Splink refuses to train on it. The packaged model holds them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.dialects import SplinkDialect

from golden_record.standardise.fields import UK_MOBILE_PREFIX

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "default_model.json"
MODEL_SCHEMA_VERSION = 2

# Levels of date of birth that Python mirrors (golden_record.matching.levels): Splink's own
# absolute date difference, a month being 365.25 / 12 days and a year 365.25 days.
DOB_WITHIN_MONTH_DAYS = 365.25 / 12
DOB_WITHIN_YEAR_DAYS = 365.25
FORENAME_SIMILAR = 0.92
FORENAME_LOOSE = 0.8
SWAPPED_NAMES = 0.9


@dataclass(frozen=True)
class Rule:
    """A prediction blocking rule and the columns it needs to bring any pair together."""

    columns: tuple[str, ...]
    rule: Any
    why: str


PREDICTION_RULES: tuple[Rule, ...] = (
    Rule(("email",), block_on("email"), "one email address"),
    Rule(
        ("email",),
        block_on("split_part(email, '@', 1)"),
        "one user name at two providers, or a slip in the domain",
    ),
    Rule(("phone",), block_on("phone"), "one phone number"),
    # Either half of an NI number: one mistyped character leaves the other half intact.
    Rule(("ni_number",), block_on("substr(ni_number, 1, 5)"), "first half of an NI number"),
    Rule(("ni_number",), block_on("substr(ni_number, 5, 5)"), "second half of an NI number"),
    Rule(("first_name", "surname"), block_on("first_name", "surname"), "forename and surname"),
    Rule(
        ("first_name", "surname"),
        "l.first_name = r.surname and l.surname = r.first_name",
        "forename and surname swapped",
    ),
    Rule(("surname", "date_of_birth"), block_on("surname", "date_of_birth"), "surname, birth"),
    Rule(
        ("first_name", "date_of_birth"), block_on("first_name", "date_of_birth"), "forename, birth"
    ),
    Rule(
        ("postcode", "first_name"),
        block_on("postcode", "substr(first_name, 1, 1)"),
        "postcode and initial",
    ),
    Rule(("uprn", "first_name"), block_on("uprn", "substr(first_name, 1, 1)"), "UPRN, initial"),
    Rule(("postcode", "date_of_birth"), block_on("postcode", "date_of_birth"), "postcode, birth"),
)


@dataclass(frozen=True)
class LooseRule:
    """A rule that reaches pairs with slips in several fields but brings many pairs
    together: used only where its pairs fit the budget (:func:`loose_rules_within`)."""

    keys: tuple[str, ...]  # SQL expressions over one record's columns, all equal
    why: str

    @property
    def rule(self) -> Any:
        return block_on(*self.keys)


# In order of what they reach per pair they add (measured on FEBRL3, FEBRL4 and the
# synthetic council, blocking recall over the rules above): a slip in either name, then
# slips in both names beside a date of birth, then single fields.
LOOSE_RULES: tuple[LooseRule, ...] = (
    LooseRule(("first_name", "surname_sound"), "a slip in the surname"),
    LooseRule(("surname", "first_name_sound"), "a slip in the forename"),
    LooseRule(("date_of_birth", "substr(surname, 1, 1)"), "slips in both names"),
    LooseRule(("date_of_birth", "substr(first_name, 1, 1)"), "slips in both names"),
    LooseRule(("postcode", "surname"), "a household's surname at its postcode"),
    LooseRule(("surname", "substr(first_name, 1, 3)"), "a forename shortened"),
    LooseRule(("date_of_birth",), "date of birth alone"),
    LooseRule(("email_digits", "substr(first_name, 1, 1)"), "an email's numbers"),
    LooseRule(("surname",), "surname alone"),
    LooseRule(("first_name",), "forename alone"),
    LooseRule(("postcode",), "postcode alone"),
    LooseRule(("town", "substr(surname, 1, 1)"), "town and initial"),
)
# Pairs the loose rules may add on top of the others: a floor (small files are scored
# almost in full, as Splink's own examples do) or a few per record, whichever is more.
LOOSE_BUDGET_FLOOR = 2_000_000
LOOSE_BUDGET_PER_RECORD = 4


def loose_rules_within(
    records: Any, budget: int | None = None, prefer: Sequence[LooseRule] | None = None
) -> list[LooseRule]:
    """The loose rules whose pairs, counted exactly rule by rule, fit the budget together.

    ``prefer``: an earlier night's choice, kept while it still fits, so a night a little
    larger or smaller than the last blocks as it did and its pairs can be built on the
    last night's (:mod:`golden_record.matching.incremental`)."""
    import duckdb

    budget = budget or max(LOOSE_BUDGET_FLOOR, LOOSE_BUDGET_PER_RECORD * len(records))
    held = set(columns_held(records))
    connection = duckdb.connect()
    columns = sorted(
        {c for rule in LOOSE_RULES for c in _columns_in(rule.keys) if c in records.columns}
    )
    # As Arrow, not as Python objects: a million records' eight columns made 8 million
    # strings (0.5 GB and most of a second) to count groups.
    import pyarrow as pa

    connection.register("records", pa.Table.from_pandas(records[columns], preserve_index=False))

    def pairs_of(loose: LooseRule) -> int:
        keys = ", ".join(loose.keys)
        present = " and ".join(f"({k}) is not null" for k in loose.keys)
        found = connection.execute(
            f"select coalesce(sum(n * (n - 1) / 2), 0) from "
            f"(select count(*) as n from records where {present} group by {keys})"
        ).fetchone()
        return int(found[0]) if found else 0

    try:
        usable = prefer is not None and all(set(_columns_in(r.keys)) <= held for r in prefer)
        if prefer is not None and usable and sum(pairs_of(r) for r in prefer) <= budget:
            return list(prefer)
        chosen, spent = [], 0
        for loose in LOOSE_RULES:
            if not set(_columns_in(loose.keys)) <= held:
                continue
            pairs = pairs_of(loose)
            if spent + pairs <= budget:
                chosen.append(loose)
                spent += pairs
        return chosen
    finally:
        connection.close()


def _columns_in(keys: tuple[str, ...]) -> list[str]:
    import re

    found = []
    for key in keys:
        found += [w for w in re.findall(r"[a-z_]+", key) if w not in ("substr",)]
    return found


def _names_swapped(db_dialect: str) -> cll.CustomLevel:
    """Forename and surname swapped in one record, each perhaps with a slip."""
    # Splink's own levels name the backend's Jaro-Winkler function; a custom level must.
    jaro_winkler = SplinkDialect.from_string(db_dialect).jaro_winkler_function_name
    return cll.CustomLevel(
        f"{jaro_winkler}(first_name_l, surname_r) >= {SWAPPED_NAMES} "
        f"and {jaro_winkler}(surname_l, first_name_r) >= {SWAPPED_NAMES}",
        label_for_charts="Forename and surname swapped",
    )


def _first_name(db_dialect: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
            _names_swapped(db_dialect),
            cll.JaroWinklerLevel("first_name", FORENAME_SIMILAR),
            cll.DamerauLevenshteinLevel("first_name", 1).configure(
                label_for_charts="One letter differs"
            ),
            cll.ArrayIntersectLevel("first_name_variants", 1).configure(
                label_for_charts="Nickname or formal form"
            ),
            cll.CustomLevel(
                "(length(first_name_l) = 1 or length(first_name_r) = 1) "
                "and substr(first_name_l, 1, 1) = substr(first_name_r, 1, 1)",
                label_for_charts="Initial matches",
            ),
            cll.JaroWinklerLevel("first_name", FORENAME_LOOSE),
            cll.ElseLevel(),
        ],
    )


def _surname(db_dialect: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="surname",
        comparison_levels=[
            cll.NullLevel("surname"),
            cll.ExactMatchLevel("surname", term_frequency_adjustments=True),
            _names_swapped(db_dialect),
            cll.JaroWinklerLevel("surname", 0.92),
            cll.ArrayIntersectLevel("surname_parts", 1).configure(
                label_for_charts="Shares a part of a double-barrelled surname"
            ),
            cll.JaroWinklerLevel("surname", 0.8),
            cll.ElseLevel(),
        ],
    )


def _date_of_birth() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.NullLevel("date_of_birth"),
            cll.ExactMatchLevel("date_of_birth"),
            cll.DamerauLevenshteinLevel("date_of_birth", 1).configure(
                label_for_charts="One character differs"
            ),
            cll.CustomLevel(
                "substr(date_of_birth_l, 6, 2) = substr(date_of_birth_r, 9, 2) "
                "and substr(date_of_birth_l, 9, 2) = substr(date_of_birth_r, 6, 2) "
                "and substr(date_of_birth_l, 1, 4) = substr(date_of_birth_r, 1, 4)",
                label_for_charts="Day and month swapped",
            ),
            cll.AbsoluteDateDifferenceLevel(
                "date_of_birth", input_is_string=True, threshold=1, metric="month"
            ).configure(label_for_charts="Within a month"),
            cll.AbsoluteDateDifferenceLevel(
                "date_of_birth", input_is_string=True, threshold=1, metric="year"
            ).configure(label_for_charts="Within a year"),
            cll.ElseLevel(),
        ],
    )


def _address() -> cl.CustomComparison:
    both_postcodes = "postcode_l is not null and postcode_r is not null"
    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.CustomLevel(
                "(uprn_l is null or uprn_r is null) and (postcode_l is null or postcode_r is null)"
                " and (address_key_l is null or address_key_r is null)"
                " and (town_l is null or town_r is null)",
                label_for_charts="Address missing",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("uprn").configure(label_for_charts="Same UPRN"),
            cll.And(cll.ExactMatchLevel("postcode"), cll.ExactMatchLevel("address_key")).configure(
                label_for_charts="Same postcode and first line"
            ),
            cll.And(
                cll.ExactMatchLevel("postcode"), cll.JaroWinklerLevel("address_key", 0.9)
            ).configure(label_for_charts="Same postcode, similar first line"),
            # Where a postcode spans several towns (FEBRL's Australian ones), the town
            # says more; where it lies in one (a UK postcode), EM weighs the two alike.
            cll.And(cll.ExactMatchLevel("postcode"), cll.ExactMatchLevel("town")).configure(
                label_for_charts="Same postcode and town"
            ),
            cll.ExactMatchLevel("postcode").configure(label_for_charts="Same postcode"),
            cll.ExactMatchLevel("address_key").configure(label_for_charts="Same first line"),
            # A slip in the street line and another in the postcode ('70 willoughbt
            # crescent' in 6117 beside '70 willoughby crescent' in 6171).
            cll.JaroWinklerLevel("address_key", 0.9).configure(
                label_for_charts="Similar first line, postcode differs"
            ),
            cll.CustomLevel(
                f"{both_postcodes} and "
                "split_part(postcode_l, ' ', 1) = split_part(postcode_r, ' ', 1)",
                label_for_charts="Same postcode district",
            ),
            cll.ExactMatchLevel("town").configure(label_for_charts="Same town"),
            cll.JaroWinklerLevel("town", 0.88).configure(label_for_charts="Similar town"),
            cll.ElseLevel(),
        ],
    )


def _email() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            # Only a user name that says more than the person's name: 'kyle.hawkins' at
            # two providers may be two Kyle Hawkinses (golden_record.standardise.fields).
            cll.ExactMatchLevel("email_user").configure(
                label_for_charts="Same distinctive user name"
            ),
            # One or two slips, the numbers the same. Jaro-Winkler would call
            # 'hazel.watts@' and 'hazel.martin@' at one provider similar (addresses built
            # from names share their start), and relatives' addresses often differ only
            # in a year ('davies.jonathan1990@' beside 'davies.jonathan1988@').
            cll.And(
                cll.DamerauLevenshteinLevel("email", 2), cll.ExactMatchLevel("email_digits")
            ).configure(label_for_charts="Email with a slip, same numbers"),
            cll.ElseLevel(),
        ],
    )


def _phone() -> cl.CustomComparison:
    # A mobile is one person's; a landline is the household's: the same one is far weaker
    # evidence of one person, and EM learns each weight apart.
    return cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            cll.CustomLevel(f"phone_l = phone_r and phone_l like '{UK_MOBILE_PREFIX}%'").configure(
                label_for_charts="Same mobile"
            ),
            cll.ExactMatchLevel("phone").configure(label_for_charts="Same landline"),
            cll.ElseLevel(),
        ],
    )


def _ni_number() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="ni_number",
        comparison_levels=[
            cll.NullLevel("ni_number"),
            cll.ExactMatchLevel("ni_number"),
            cll.DamerauLevenshteinLevel("ni_number", 1).configure(
                label_for_charts="One character differs"
            ),
            cll.ElseLevel(),
        ],
    )


def _sex_from_title() -> cl.CustomComparison:
    # 'Mr' beside 'Mrs': a couple's commonest difference where a shared nickname ('chris')
    # or an initial would not tell them apart; EM learns how often a title is mistyped.
    return cl.CustomComparison(
        output_column_name="sex_from_title",
        comparison_levels=[
            cll.NullLevel("sex_from_title"),
            cll.ExactMatchLevel("sex_from_title").configure(label_for_charts="Same sex by title"),
            cll.ElseLevel().configure(label_for_charts="Titles of two sexes"),
        ],
    )


# Each comparison with the columns any of which gives it something to compare.
COMPARISONS: tuple[tuple[tuple[str, ...], Callable[[str], Any]], ...] = (
    (("first_name",), _first_name),
    (("surname",), _surname),
    (("middle_names",), lambda _: cl.ExactMatch("middle_names")),
    (("date_of_birth",), lambda _: _date_of_birth()),
    (("uprn", "postcode", "address_key", "town"), lambda _: _address()),
    (("email",), lambda _: _email()),
    (("phone",), lambda _: _phone()),
    (("ni_number",), lambda _: _ni_number()),
    (("sex_from_title",), lambda _: _sex_from_title()),
)
ALL_COLUMNS = frozenset(c for columns, _ in COMPARISONS for c in columns)


def prediction_rules(columns: Iterable[str] | None = None) -> list[Rule]:
    """The prediction blocking rules whose columns all hold values (all, if not said)."""
    held = ALL_COLUMNS if columns is None else set(columns)
    return [rule for rule in PREDICTION_RULES if set(rule.columns) <= held]


def settings(db_dialect: str = "duckdb", columns: Iterable[str] | None = None) -> SettingsCreator:
    """The untrained model: comparisons, blocking rules and retained columns, with SQL
    for the backend that will train it (``db_api.sql_dialect.sql_dialect_str``).

    ``columns``: the standardised columns that hold at least one value; comparisons and
    rules over other columns are left out. All of them if not given.
    """
    held = None if columns is None else set(columns)
    comparisons = [
        build(db_dialect)
        for needs, build in COMPARISONS
        if held is None or any(column in held for column in needs)
    ]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[r.rule for r in prediction_rules(held)],
        additional_columns_to_retain=["source_system", "source_record_id"],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


def columns_held(records: Any) -> list[str]:
    """Standardised columns with at least one value (lists count when not empty)."""
    return [column for column in records.columns if records[column].notna().any()]


def loose_rule_sql(rule: LooseRule, dialect: str) -> str:
    return str(rule.rule.get_blocking_rule(dialect).blocking_rule_sql)


def with_loose_rules(
    model: dict, records: Any, dialect: str, prefer: Sequence[str] | None = None
) -> dict:
    """The model with the loose blocking rules these records' size allows added
    (``prefer``: an earlier night's rules, by their SQL, kept while they fit)."""
    preferred = None
    if prefer is not None:
        by_sql = {loose_rule_sql(rule, dialect): rule for rule in LOOSE_RULES}
        preferred = [by_sql[sql] for sql in prefer if sql in by_sql]
    loose = [
        {"blocking_rule": loose_rule_sql(rule, dialect), "sql_dialect": dialect}
        for rule in loose_rules_within(records, prefer=preferred)
    ]
    if not loose:
        return model
    rules = model["blocking_rules_to_generate_predictions"]
    return {**model, "blocking_rules_to_generate_predictions": [*rules, *loose]}
