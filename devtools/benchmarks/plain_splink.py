"""Plain Splink, as its documentation sets it up, on the same records as ours.

The yardstick every accuracy row is read against: Splink's own comparison library with its
defaults (``NameComparison``, ``DateOfBirthComparison``, ``EmailComparison``,
``PostcodeComparison``, Damerau-Levenshtein for identifiers and street lines, exact town
with term frequencies), blocking on single fields as Splink's deduplication examples do,
trained unsupervised on the data being matched (deterministic rules for the prior,
random sampling for u, expectation maximisation on first name + surname and on date of
birth), then Splink's connected components at the auto-match threshold.

It reads our standardised records (lower-case names, ISO dates, E.164 phones, spaced
postcodes), the preparation any Splink user does first, so the comparison is of matching,
not of cleaning. Only comparisons and rules whose columns hold values are used: Splink
refuses to train on a field that is empty throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

DETERMINISTIC_RECALL = 0.7
MAX_PAIRS_FOR_U = 5e6


@dataclass(frozen=True)
class PlainResult:
    clusters: pd.DataFrame  # unique_id, cluster_id
    scored_pairs: int
    blocking_rules: list[str]


def _present(records: pd.DataFrame, column: str) -> bool:
    return column in records and bool(records[column].notna().any())


def _uk_postcodes(records: pd.DataFrame) -> bool:
    return "postcode_valid" in records and records["postcode_valid"].mean() > 0.5


def plain_settings(records: pd.DataFrame) -> tuple[Any, list, list, list]:
    """Splink settings for the columns these records hold, with training rules."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    present = [c for c in records.columns if _present(records, c)]
    comparisons: list[Any] = []
    if "first_name" in present:
        comparisons.append(cl.NameComparison("first_name"))
    if "surname" in present:
        comparisons.append(cl.NameComparison("surname"))
    if "date_of_birth" in present:
        comparisons.append(cl.DateOfBirthComparison("date_of_birth", input_is_string=True))
    if "postcode" in present:
        comparisons.append(
            cl.PostcodeComparison("postcode")
            if _uk_postcodes(records)
            else cl.DamerauLevenshteinAtThresholds("postcode", [1, 2])
        )
    if "address_key" in present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("address_key", [1, 2]))
    if "town" in present:
        comparisons.append(cl.ExactMatch("town").configure(term_frequency_adjustments=True))
    if "email" in present:
        comparisons.append(cl.EmailComparison("email"))
    if "phone" in present:
        comparisons.append(cl.ExactMatch("phone"))
    if "ni_number" in present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("ni_number", [1, 2]))
    if "uprn" in present:
        comparisons.append(cl.ExactMatch("uprn"))

    single = [
        c
        for c in ("first_name", "surname", "date_of_birth", "postcode", "email", "ni_number")
        if c in present
    ]
    blocking: list[Any] = [block_on(c) for c in single]
    deterministic = []
    if {"first_name", "surname", "date_of_birth"} <= set(present):
        deterministic.append(block_on("first_name", "surname", "date_of_birth"))
    for identifier in ("email", "ni_number"):
        if identifier in present:
            deterministic.append(block_on(identifier))
    em_rules = []
    if {"first_name", "surname"} <= set(present):
        em_rules.append(block_on("first_name", "surname"))
    if "date_of_birth" in present:
        em_rules.append(block_on("date_of_birth"))
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    return settings, blocking, deterministic, em_rules


def plain_splink(
    records: pd.DataFrame,
    threshold: float,
    seed: int = 42,
    max_pairs_for_u: float = MAX_PAIRS_FOR_U,
) -> PlainResult:
    """Train plain Splink on ``records`` (standardised), predict, cluster at ``threshold``.

    ``max_pairs_for_u`` is the random sample for u; the benchmark samples as many pairs as
    our training does, the tests' floors fewer (Splink's own examples use a million)."""
    from splink import DuckDBAPI, Linker

    columns = [
        c
        for c in (
            "unique_id",
            "first_name",
            "surname",
            "date_of_birth",
            "postcode",
            "postcode_valid",
            "address_key",
            "town",
            "email",
            "phone",
            "ni_number",
            "uprn",
        )
        if c in records
    ]
    frame = records[columns].astype(object)
    frame = frame.where(frame.notna(), None)
    settings, blocking, deterministic, em_rules = plain_settings(records[columns])
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=None)
    if deterministic:
        linker.training.estimate_probability_two_random_records_match(
            deterministic, recall=DETERMINISTIC_RECALL
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_for_u, seed=seed)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    scored = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        scored, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    scored_pairs = len(scored.as_pandas_dataframe())
    return PlainResult(
        clusters=clusters[["unique_id", "cluster_id"]],
        scored_pairs=scored_pairs,
        blocking_rules=[rule.get_blocking_rule("duckdb").blocking_rule_sql for rule in blocking],
    )
