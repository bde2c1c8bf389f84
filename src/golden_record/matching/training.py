"""Estimate the matching model's parameters from standardised records (run rarely).

The model is built for the columns the records hold, then trained unsupervised on them:
u-probabilities from random sampling, the prior from deterministic rules (counted, then
scaled by the share of matches they find, which the trained m-probabilities give), and the
m-probabilities by expectation maximisation over blocking passes chosen from the columns
the data has, each leaving the compared fields free to be estimated; then priors fill what
the sample could not show (:mod:`golden_record.matching.priors`) and a level training never saw
weighs nothing. Writes Splink's model JSON plus a metadata sidecar (``<model>.meta.json``)
recording when, on what, which passes and by which version.

Above ``MAX_TRAINING_RECORDS`` a seeded random sample is trained on: sampling records at
random keeps the share of matches among blocked pairs, the u-probabilities and the prior,
and keeps training to about a minute at a million records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from splink import Linker, block_on

from golden_record import __version__
from golden_record.atomic import write_text
from golden_record.matching.backend import default_db_api, register
from golden_record.matching.blocking import pairs_blocked
from golden_record.matching.generic import without_generic_identifiers
from golden_record.matching.model import ALL_COLUMNS, MODEL_SCHEMA_VERSION, columns_held, settings
from golden_record.matching.priors import (
    apply_priors,
    correct_u_for_matches,
    count_once,
    neutralise_untrained,
)
from golden_record.standardise.fields import UK_MOBILE_PREFIX

SHARED_MOBILE = f"l.phone = r.phone and l.phone like '{UK_MOBILE_PREFIX}%'"
MIN_PAIRS_FOR_MOBILE_EM = 1000
# Fewer pairs than this in a pass and its estimates are noise (Splink asks for "at least a
# few hundred").
MIN_PAIRS_FOR_EM = 100
MAX_PAIRS_FOR_EM = 2e6
MAX_TRAINING_RECORDS = 300_000
# Where training starts from; the prior is estimated again from the trained model.
DETERMINISTIC_RECALL = 0.7
MIN_DETERMINISTIC_RECALL = 0.01


class TrainingError(ValueError):
    """The records cannot train a model: too few, or too few pairs to learn from."""


@dataclass(frozen=True)
class Pass:
    """A blocking pass: its columns (all must hold values) and what it is for."""

    columns: tuple[str, ...]
    rule: Any


# Estimates everything but the names.
NAMES_PASS = Pass(("first_name", "surname"), block_on("first_name", "surname"))
# Estimate the names, the first that yields enough pairs: no name may appear in them, as
# both name comparisons read both name columns (the swapped-names level) and Splink fixes
# any comparison whose columns its blocking rule uses. Never address, email or phone
# alone where a date of birth can be had: those pairs are dominated by members of one
# household, and EM would learn that a different forename is common among matches.
OTHER_PASSES = (
    Pass(("date_of_birth", "postcode"), block_on("date_of_birth", "postcode")),
    Pass(("date_of_birth", "town"), block_on("date_of_birth", "town")),
    Pass(("date_of_birth",), block_on("date_of_birth")),
    Pass(("email",), block_on("email")),
    Pass(("ni_number",), block_on("ni_number")),
    # Last resorts, for data with neither a date of birth nor an identifier: a shared
    # address or phone brings households together too, so names come out weaker than
    # they are, but weaker is better than not estimated at all.
    Pass(("phone",), block_on("phone")),
    Pass(("postcode", "address_key"), block_on("postcode", "address_key")),
    Pass(("uprn",), block_on("uprn")),
)
# The prior: pairs these agree on are nearly all one person.
DETERMINISTIC = (
    Pass(("email", "date_of_birth"), block_on("email", "date_of_birth")),
    Pass(
        ("first_name", "surname", "date_of_birth"),
        block_on("first_name", "surname", "date_of_birth"),
    ),
    Pass(("ni_number",), block_on("ni_number")),
)


def fingerprint(records: pd.DataFrame) -> str:
    """A content hash of the training records, independent of row order."""
    hashed = pd.util.hash_pandas_object(
        records.drop(columns=["first_name_variants"], errors="ignore").astype("string"),
        index=False,
    )
    return hashlib.sha256(hashed.sort_values().to_numpy().tobytes()).hexdigest()


def metadata_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + ".meta.json")


def training_sample(records: pd.DataFrame, seed: int, limit: int) -> pd.DataFrame:
    """All records, or a seeded random ``limit`` of them (the same for the same input)."""
    if len(records) <= limit:
        return records
    order = records.sort_values("unique_id").reset_index(drop=True)
    return order.sample(n=limit, random_state=seed).reset_index(drop=True)


def _usable(passes: Iterable[Pass], held: set[str], table: Any) -> list[tuple[Pass, int]]:
    return [(p, pairs_blocked(table, p.rule)) for p in passes if set(p.columns) <= held]


def train(
    records: pd.DataFrame,
    model_path: Path,
    *,
    seed: int = 42,
    max_pairs_for_u: float = 5e6,
    db_api: Any = None,
    charts: bool = False,
    max_records: int = MAX_TRAINING_RECORDS,
) -> dict:
    """Train on standardised records and write the model and its metadata; return metadata.

    Raises :class:`TrainingError` when the records cannot train a model, saying which
    fields they hold and how many pairs each training pass found.
    """
    # Generic identifiers (a switchboard, a care home's email) are left out, as in matching.
    sample, _ = without_generic_identifiers(training_sample(records, seed, max_records))
    if len(sample) < 2:
        raise TrainingError(f"{len(sample)} record(s): at least two are needed to train")
    held = set(columns_held(sample))
    db_api = db_api or default_db_api()
    table = register(db_api, sample)
    linker = Linker(table, settings(db_api.sql_dialect.sql_dialect_str, held), log_level=None)

    names = _usable([NAMES_PASS], held, table)
    others = _usable(OTHER_PASSES, held, table)
    chosen = [p for p, n in names if n >= MIN_PAIRS_FOR_EM]
    chosen += [p for p, n in others if n >= MIN_PAIRS_FOR_EM][:1]
    if not chosen:
        found = ", ".join(f"{' + '.join(p.columns)}: {n:,}" for p, n in names + others)
        fields = ", ".join(sorted(held & ALL_COLUMNS)) or "no field to compare"
        raise TrainingError(
            f"{len(sample):,} records holding {fields} give "
            f"too few pairs to train on (pairs per training pass: {found or 'no pass fits'}; "
            f"each needs at least {MIN_PAIRS_FOR_EM}). Match with a stored model instead "
            "(--model, or the packaged one)."
        )
    # A mobile is one person's, so pairs sharing one are mostly one person; they are the
    # only block where records without a date of birth (waste contacts, 'Mr D Williams')
    # show how their names differ from the same person's elsewhere.
    phone_chosen = any(p.columns == ("phone",) for p in chosen)
    mobile_pairs = pairs_blocked(table, SHARED_MOBILE) if "phone" in held else 0
    if mobile_pairs >= MIN_PAIRS_FOR_MOBILE_EM and not phone_chosen:
        chosen.append(Pass(("phone",), SHARED_MOBILE))

    deterministic = [p for p, n in _usable(DETERMINISTIC, held, table) if n > 0]
    if deterministic:
        linker.training.estimate_probability_two_random_records_match(
            [p.rule for p in deterministic], recall=DETERMINISTIC_RECALL
        )
        prior_from = [" + ".join(p.columns) for p in deterministic]
    else:
        # Nothing near-certain to count: at most one other record of each person.
        linker._settings_obj._probability_two_random_records_match = 1.0 / len(sample)
        prior_from = ["one duplicate per record at most"]
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_for_u, seed=seed)
    for training_pass in chosen:
        linker.training.estimate_parameters_using_expectation_maximisation(
            training_pass.rule,
            estimate_without_term_frequencies=True,
            max_pairs=MAX_PAIRS_FOR_EM,
        )
    recall = None
    if deterministic:
        # The prior again, now with the share of matches the rules find that the trained
        # m-probabilities imply instead of the assumed DETERMINISTIC_RECALL: where every
        # duplicate carries an error (RLdata10000), exact agreement on all of a rule's
        # columns finds a few percent of matches, and the assumed 70% made the prior 70
        # times too small (recall 0.05).
        # Splink's estimate is the rules' count over the recall: rescaled, not recounted.
        recall = deterministic_recall(linker, deterministic, sample)
        settings_obj = linker._settings_obj
        settings_obj._probability_two_random_records_match = min(
            1.0, settings_obj._probability_two_random_records_match * DETERMINISTIC_RECALL / recall
        )
    priors = apply_priors(linker, pairs_sampled_for_u=max_pairs_for_u)
    priors += correct_u_for_matches(linker)
    priors += count_once(linker)
    priors += neutralise_untrained(linker, pairs_sampled_for_u=max_pairs_for_u)
    model = linker.misc.save_model_to_json()
    write_text(json.dumps(model, indent=2) + "\n", Path(model_path))
    chart_files = {}
    if charts:
        chart_files = _write_parameter_charts(linker, Path(model_path))
    meta = {
        "model_schema_version": MODEL_SCHEMA_VERSION,
        "package_version": __version__,
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_records": len(sample),
        "records_given": len(records),
        "training_fingerprint": fingerprint(sample),
        "seed": seed,
        "columns": sorted(held),
        "expectation_maximisation_passes": [" + ".join(p.columns) for p in chosen],
        "prior_from": prior_from,
        "deterministic_recall": None if recall is None else round(recall, 4),
        "priors": priors,
        "charts": chart_files,
    }
    write_text(json.dumps(meta, indent=2) + "\n", metadata_path(Path(model_path)))
    return meta


def deterministic_recall(linker: Linker, rules: list[Pass], records: pd.DataFrame) -> float:
    """The share of true matches the deterministic rules find, from the trained model.

    A rule finds a match when both records hold each of its columns (the share of pairs of
    ``records`` that do: a waste contact has no date of birth) and each agrees exactly,
    which the model says happens with probability m(exact) per column, under the
    independence it assumes; the rules together find it unless each misses it. At least
    ``MIN_DETERMINISTIC_RECALL``: below that, the count of a few exact pairs is too small to
    scale up by."""
    exact = {}
    for comparison in linker._settings_obj.comparisons:
        levels = comparison._comparison_levels_excluding_null
        if levels and levels[0].m_probability is not None:
            exact[comparison.output_column_name] = float(levels[0].m_probability)
    missed = 1.0
    for rule in rules:
        held = float(records[list(rule.columns)].notna().all(axis=1).mean())
        found = held * held
        for column in rule.columns:
            found *= exact.get(column, 1.0)
        missed *= 1.0 - found
    return min(max(1.0 - missed, MIN_DETERMINISTIC_RECALL), 1.0)


def _write_parameter_charts(linker: Linker, model_path: Path) -> dict[str, str]:
    """Match weights and m/u parameter charts beside the model, as offline HTML."""
    import vl_convert

    charts: dict[str, Any] = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
    }
    written = {}
    for name, chart in charts.items():
        path = model_path.with_name(f"{model_path.stem}.{name}.html")
        write_text(vl_convert.vegalite_to_html(chart.chart_dict, bundle=True), path)
        written[name] = path.name
    return written
