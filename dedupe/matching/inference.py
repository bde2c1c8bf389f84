"""Score and cluster standardised records with a stored model (nightly; never trains).

Returns every scored pair above a floor (for review and explanations later) and each
record's cluster, with the match probability that joined it to its cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from splink import Linker
from splink.clustering import cluster_pairwise_predictions_at_threshold

from dedupe.matching.backend import default_db_api, register
from dedupe.matching.guard import blocked_by_guard
from dedupe.matching.model import DEFAULT_MODEL_PATH

AUTO_MATCH_PROBABILITY = 0.99
PAIR_FLOOR_PROBABILITY = 0.5


class ModelError(ValueError):
    """The model file is missing, unreadable or not a model for these records."""


PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight", "guarded"]


@dataclass
class MatchResult:
    pairs: pd.DataFrame  # PAIR_COLUMNS; ``guarded`` pairs never auto-match
    clusters: pd.DataFrame  # unique_id, cluster_id, cluster_match_probability


def load_model(path: Path | None = None) -> dict:
    path = Path(path or DEFAULT_MODEL_PATH)
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"model file not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"model file {path} is not valid JSON: {exc}") from exc
    if not isinstance(model, dict) or "comparisons" not in model:
        raise ModelError(f"model file {path} is not a Splink model (no 'comparisons')")
    return model


def predict_and_cluster(
    records: pd.DataFrame,
    model: dict,
    *,
    threshold: float = AUTO_MATCH_PROBABILITY,
    db_api: Any = None,
) -> MatchResult:
    if records.empty:
        return MatchResult(
            pairs=pd.DataFrame(columns=PAIR_COLUMNS),
            clusters=pd.DataFrame(columns=["unique_id", "cluster_id", "cluster_match_probability"]),
        )
    db_api = db_api or default_db_api()
    linker = Linker(register(db_api, records), model, log_level=None)
    scored = linker.inference.predict(
        threshold_match_probability=PAIR_FLOOR_PROBABILITY, warning_mode="never"
    )
    pairs = scored.as_pandas_dataframe()
    pairs["guarded"] = blocked_by_guard(pairs)
    pairs = pairs[PAIR_COLUMNS]
    edges = pairs.loc[~pairs["guarded"] & (pairs["match_probability"] >= threshold)]
    clustered = cluster_pairwise_predictions_at_threshold(
        records[["unique_id"]],
        edges[["unique_id_l", "unique_id_r", "match_probability"]],
        db_api,
        node_id_column_name="unique_id",
        threshold_match_probability=threshold,
    )
    clusters = clustered.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    clusters = clusters.merge(
        _strongest_link(pairs, clusters, threshold), on="unique_id", how="left"
    )
    return MatchResult(pairs=pairs.reset_index(drop=True), clusters=clusters)


def _strongest_link(pairs: pd.DataFrame, clusters: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per record, the highest match probability among its links inside its cluster."""
    linked = pairs[~pairs["guarded"] & (pairs["match_probability"] >= threshold)]
    both_ends = pd.concat(
        [
            linked.rename(columns={"unique_id_l": "unique_id"})[["unique_id", "match_probability"]],
            linked.rename(columns={"unique_id_r": "unique_id"})[["unique_id", "match_probability"]],
        ]
    )
    best = both_ends.groupby("unique_id", as_index=False)["match_probability"].max()
    return best.rename(columns={"match_probability": "cluster_match_probability"})
