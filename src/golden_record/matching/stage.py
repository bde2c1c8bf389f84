"""Match canonical person records: standardise, predict and cluster, in one call.

The thin public face of :mod:`golden_record.matching`: ``golden-record match`` and the nightly
DAG both call :func:`match_records`, so a file on a laptop and a night in Airflow are
matched by the same code with the same model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from golden_record.extract.canonical import conform_all, split_unique_ids
from golden_record.matching.backend import lists_as_objects
from golden_record.matching.inference import (
    MatchOptions,
    MatchResult,
    load_model,
    predict_and_cluster,
)
from golden_record.standardise.fields import standardise

XREF_COLUMNS = ["source_system", "source_record_id", "cluster_id", "match_probability"]


@dataclass(frozen=True)
class MatchOutput:
    """``result`` is keyed by ``unique_id`` throughout (what the night stores);
    ``xref`` and ``review_pairs`` are the same, split into source system and record id
    for people and files read outside the pipeline (``golden-record match``)."""

    standardised: pd.DataFrame
    result: MatchResult
    xref: pd.DataFrame  # XREF_COLUMNS: every input record and its cluster
    review_pairs: pd.DataFrame  # both records' source ids, probability, weight, reason


def _split_ids(frame: pd.DataFrame, column: str, suffix: str = "") -> pd.DataFrame:
    system, record_id = split_unique_ids(frame[column])
    return pd.DataFrame(
        {f"source_system{suffix}": system, f"source_record_id{suffix}": record_id},
        index=frame.index,
    )


def xref_with_source_ids(clusters: pd.DataFrame) -> pd.DataFrame:
    """``unique_id``, ``cluster_id``, ``match_probability`` → :data:`XREF_COLUMNS`, sorted
    by source system and record id."""
    xref = pd.concat([_split_ids(clusters, "unique_id"), clusters], axis=1)[XREF_COLUMNS]
    return xref.sort_values(["source_system", "source_record_id"]).reset_index(drop=True)


def review_with_source_ids(review: pd.DataFrame) -> pd.DataFrame:
    """Review (or settled) pairs keyed by ``unique_id_l``/``_r`` → both records' source
    ids, their other columns kept."""
    return pd.concat(
        [
            _split_ids(review, "unique_id_l", "_l"),
            _split_ids(review, "unique_id_r", "_r"),
            review.drop(columns=["unique_id_l", "unique_id_r"]),
        ],
        axis=1,
    )


def standardise_records(canonical: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    """Check the canonical contract, then standardise for matching."""
    return standardise(conform_all(canonical), as_of=as_of)


def match_standardised(
    standardised: pd.DataFrame,
    model_path: Path | None = None,
    options: MatchOptions | None = None,
) -> MatchOutput:
    """Predict and cluster standardised records with the model at ``model_path`` (the
    packaged model if None)."""
    result = predict_and_cluster(standardised, load_model(model_path), options)
    clusters = result.clusters.rename(columns={"cluster_match_probability": "match_probability"})
    return MatchOutput(
        standardised=standardised,
        result=result,
        xref=xref_with_source_ids(clusters),
        review_pairs=review_with_source_ids(result.review_pairs),
    )


def match_records(
    canonical: pd.DataFrame,
    model_path: Path | None = None,
    options: MatchOptions | None = None,
    as_of: date | None = None,
) -> MatchOutput:
    """Standardise, predict and cluster canonical person records.

    The scored pairs' list columns come back as plain objects, as pandas reads them from
    a file: a caller may save them with ``DataFrame.to_parquet``, which writes Arrow-held
    lists under a type name pandas cannot read back. (:func:`match_standardised` keeps
    them in Arrow for the night, which writes them with
    :func:`golden_record.atomic.write_parquet`.)"""
    output = match_standardised(standardise_records(canonical, as_of=as_of), model_path, options)
    pairs = lists_as_objects(output.result.pairs)
    return replace(output, result=replace(output.result, pairs=pairs))
