"""The shape of the matching model: comparisons and blocking rules for council records.

Evidence that is really one thing is compared once: UPRN, postcode and first address
line are levels of a single ``address`` comparison, so that living at the same place is
not counted three times (households share it; it is evidence of address, not person).
"""

from __future__ import annotations

from pathlib import Path

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.dialects import SplinkDialect

from dedupe.standardise import UK_MOBILE_PREFIX

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "default_model.json"
MODEL_SCHEMA_VERSION = 1

PREDICTION_BLOCKING_RULES = (
    block_on("email"),
    block_on("phone"),
    block_on("ni_number"),
    # Either half of an NI number: one mistyped character leaves the other half intact.
    block_on("substr(ni_number, 1, 5)"),
    block_on("substr(ni_number, 5, 5)"),
    block_on("first_name", "surname"),
    # Forename and surname swapped ('Spicer, Anika' typed into the wrong boxes).
    "l.first_name = r.surname and l.surname = r.first_name",
    block_on("surname", "date_of_birth"),
    block_on("first_name", "date_of_birth"),
    block_on("postcode", "substr(first_name, 1, 1)"),
    block_on("uprn", "substr(first_name, 1, 1)"),
    block_on("postcode", "date_of_birth"),
)


def _names_swapped(db_dialect: str):
    """Forename and surname swapped in one record, each perhaps with a slip."""
    # Splink's own levels name the backend's Jaro-Winkler function; a custom level must.
    jaro_winkler = SplinkDialect.from_string(db_dialect).jaro_winkler_function_name
    return cll.CustomLevel(
        f"{jaro_winkler}(first_name_l, surname_r) >= 0.9 "
        f"and {jaro_winkler}(surname_l, first_name_r) >= 0.9",
        label_for_charts="Forename and surname swapped",
    )


def _first_name(db_dialect: str):
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
            _names_swapped(db_dialect),
            cll.JaroWinklerLevel("first_name", 0.92),
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
            cll.JaroWinklerLevel("first_name", 0.8),
            cll.ElseLevel(),
        ],
    )


def _surname(db_dialect: str):
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


def _date_of_birth():
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
            cll.CustomLevel(
                "substr(date_of_birth_l, 1, 4) = substr(date_of_birth_r, 1, 4)",
                label_for_charts="Same year",
            ),
            cll.ElseLevel(),
        ],
    )


def _address():
    both_postcodes = "postcode_l is not null and postcode_r is not null"
    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.CustomLevel(
                "(uprn_l is null or uprn_r is null) and (postcode_l is null or postcode_r is null)"
                " and (address_key_l is null or address_key_r is null)",
                label_for_charts="Address missing",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("uprn").configure(label_for_charts="Same UPRN"),
            cll.And(cll.ExactMatchLevel("postcode"), cll.ExactMatchLevel("address_key")).configure(
                label_for_charts="Same postcode and first line"
            ),
            cll.And(
                cll.ExactMatchLevel("postcode"), cll.JaroWinklerLevel("address_key", 0.9)
            ).configure(label_for_charts="Same postcode, similar first line"),
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
            cll.ElseLevel(),
        ],
    )


def _email():
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            # Only a user name that says more than the person's name: 'kyle.hawkins' at
            # two providers may be two Kyle Hawkinses (dedupe.standardise).
            cll.ExactMatchLevel("email_user").configure(
                label_for_charts="Same distinctive user name"
            ),
            cll.ElseLevel(),
        ],
    )


def _phone():
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


def _ni_number():
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


def settings(db_dialect: str = "duckdb") -> SettingsCreator:
    """The untrained model: comparisons, blocking rules and retained columns, with SQL
    for the backend that will train it (``db_api.sql_dialect.sql_dialect_str``)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _first_name(db_dialect),
            _surname(db_dialect),
            cl.ExactMatch("middle_names"),
            _date_of_birth(),
            _address(),
            _email(),
            _phone(),
            _ni_number(),
        ],
        blocking_rules_to_generate_predictions=list(PREDICTION_BLOCKING_RULES),
        additional_columns_to_retain=["source_system", "source_record_id"],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )
