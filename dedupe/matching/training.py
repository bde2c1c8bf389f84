"""Estimate the matching model's parameters from standardised records (run rarely).

u-probabilities from random sampling, the prior from deterministic rules, and the
m-probabilities by expectation maximisation over several blocking passes, each of which
leaves the compared fields free to be estimated; then priors fill what the sample could
not show (:mod:`dedupe.matching.priors`). Writes Splink's model JSON plus a
metadata sidecar (``<model>.meta.json``) recording when, on what and by which version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from splink import Linker, block_on

from dedupe import __version__
from dedupe.atomic import write_text
from dedupe.matching.backend import default_db_api, register
from dedupe.matching.blocking import pairs_blocked
from dedupe.matching.model import MODEL_SCHEMA_VERSION, settings
from dedupe.matching.priors import apply_priors
from dedupe.standardise import UK_MOBILE_PREFIX

SHARED_MOBILE = f"l.phone = r.phone and l.phone like '{UK_MOBILE_PREFIX}%'"
MIN_PAIRS_FOR_EM = 1000


def fingerprint(records: pd.DataFrame) -> str:
    """A content hash of the training records, independent of row order."""
    hashed = pd.util.hash_pandas_object(
        records.drop(columns=["first_name_variants"], errors="ignore").astype("string"),
        index=False,
    )
    return hashlib.sha256(hashed.sort_values().to_numpy().tobytes()).hexdigest()


def metadata_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + ".meta.json")


def train(
    records: pd.DataFrame,
    model_path: Path,
    *,
    seed: int = 42,
    max_pairs_for_u: float = 5e6,
    db_api: Any = None,
    charts: bool = False,
) -> dict:
    """Train on standardised records and write the model and its metadata; return metadata."""
    db_api = db_api or default_db_api()
    table = register(db_api, records)
    linker = Linker(table, settings(db_api.sql_dialect.sql_dialect_str), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email", "date_of_birth"), block_on("first_name", "surname", "date_of_birth")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_for_u, seed=seed)
    # Never block EM on address, email or phone alone: those pairs are dominated by
    # members of one household, and EM would learn that a different forename is common
    # among matches. Name blocks estimate everything but the names; the names are
    # estimated where date of birth and postcode agree, which households rarely share.
    # No name may appear in that second rule: both name comparisons read both name
    # columns (the swapped-names level), and Splink fixes any comparison whose columns
    # the blocking rule uses.
    rules = [block_on("first_name", "surname"), block_on("date_of_birth", "postcode")]
    # A mobile is one person's, so pairs sharing one are mostly one person; they are the
    # only block where records without a date of birth (waste contacts, 'Mr D Williams')
    # show how their names differ from the same person's elsewhere.
    if pairs_blocked(table, SHARED_MOBILE) >= MIN_PAIRS_FOR_EM:
        rules.append(SHARED_MOBILE)
    for rule in rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    priors = apply_priors(linker, pairs_sampled_for_u=max_pairs_for_u)
    model = linker.misc.save_model_to_json()
    write_text(json.dumps(model, indent=2) + "\n", Path(model_path))
    chart_files = {}
    if charts:
        chart_files = _write_parameter_charts(linker, Path(model_path))
    meta = {
        "model_schema_version": MODEL_SCHEMA_VERSION,
        "package_version": __version__,
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_records": len(records),
        "training_fingerprint": fingerprint(records),
        "seed": seed,
        "priors": priors,
        "charts": chart_files,
    }
    write_text(json.dumps(meta, indent=2) + "\n", metadata_path(Path(model_path)))
    return meta


def _write_parameter_charts(linker: Linker, model_path: Path) -> dict[str, str]:
    """Match weights and m/u parameter charts beside the model, as offline HTML."""
    import vl_convert

    charts = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
    }
    written = {}
    for name, chart in charts.items():
        path = model_path.with_name(f"{model_path.stem}.{name}.html")
        write_text(vl_convert.vegalite_to_html(chart.chart_dict, bundle=True), path)
        written[name] = path.name
    return written
