"""Match canonical person records: standardise, predict and cluster, in one call.

The thin public face of :mod:`golden_record.matching`: ``golden-record match`` and the nightly
DAG both call :func:`match_records`, so a file on a laptop and a night in Airflow are
matched by the same code with the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record.extract.canonical import conform_all
from golden_record.matching.inference import (
    MatchResult,
    Thresholds,
    load_model,
    predict_and_cluster,
)
from golden_record.standardise.fields import standardise

XREF_COLUMNS = ["source_system", "source_record_id", "cluster_id", "match_probability"]


@dataclass
class MatchOutput:
    standardised: pd.DataFrame
    result: MatchResult
    xref: pd.DataFrame  # XREF_COLUMNS: every input record and its cluster
    review_pairs: pd.DataFrame  # both records' source ids, probability, weight, reason


def _split_ids(frame: pd.DataFrame, column: str, suffix: str = "") -> pd.DataFrame:
    ids = frame[column].astype("string")
    return pd.DataFrame(
        {
            f"source_system{suffix}": ids.str.split(":", n=1).str[0],
            f"source_record_id{suffix}": ids.str.split(":", n=1).str[1],
        },
        index=frame.index,
    )


def standardise_records(canonical: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    """Check the canonical contract, then standardise for matching."""
    return standardise(conform_all(canonical), as_of=as_of)


def match_standardised(
    standardised: pd.DataFrame,
    *,
    model_path: Path | None = None,
    thresholds: Thresholds | None = None,
    cannot_link: set[frozenset[str]] | None = None,
    db_api: Any = None,
    household_guard: bool = True,
    must_link: set[frozenset[str]] | None = None,
) -> MatchOutput:
    result = predict_and_cluster(
        standardised,
        load_model(model_path),
        thresholds=thresholds,
        cannot_link=cannot_link,
        db_api=db_api,
        household_guard=household_guard,
        must_link=must_link,
    )
    clusters = result.clusters.rename(columns={"cluster_match_probability": "match_probability"})
    xref = pd.concat([_split_ids(clusters, "unique_id"), clusters], axis=1)[XREF_COLUMNS]
    review = result.review_pairs
    review_pairs = pd.concat(
        [
            _split_ids(review, "unique_id_l", "_l"),
            _split_ids(review, "unique_id_r", "_r"),
            review[["match_probability", "match_weight", "reason"]],
        ],
        axis=1,
    )
    return MatchOutput(
        standardised=standardised,
        result=result,
        xref=xref.sort_values(["source_system", "source_record_id"]).reset_index(drop=True),
        review_pairs=review_pairs,
    )


def match_records(
    canonical: pd.DataFrame,
    *,
    model_path: Path | None = None,
    thresholds: Thresholds | None = None,
    cannot_link: set[frozenset[str]] | None = None,
    must_link: set[frozenset[str]] | None = None,
    as_of: date | None = None,
    db_api: Any = None,
) -> MatchOutput:
    """Standardise, predict and cluster canonical person records."""
    return match_standardised(
        standardise_records(canonical, as_of=as_of),
        model_path=model_path,
        thresholds=thresholds,
        cannot_link=cannot_link,
        must_link=must_link,
        db_api=db_api,
    )
