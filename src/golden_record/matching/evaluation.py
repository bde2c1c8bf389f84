"""Pairwise precision, recall and F1 of a clustering against ground truth.

Counted from group sizes rather than by listing pairs, so it scales to millions of
records: pairs within a cluster are predicted matches, pairs within a true person are
true matches, pairs within both are true positives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PairwiseScores:
    records: int
    true_entities: int
    predicted_entities: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positive_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "true_entities": self.true_entities,
            "predicted_entities": self.predicted_entities,
            "precision": round(self.precision, 5),
            "recall": round(self.recall, 5),
            "f1": round(self.f1, 5),
        }


def pairs_within(sizes: Iterable[int] | pd.Series) -> int:
    """Pairs inside groups of these sizes (a Series or any sequence of counts)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(labelled: pd.DataFrame, predicted: str, truth: str) -> PairwiseScores:
    """``labelled`` has one row per record with a predicted and a true entity column."""
    return PairwiseScores(
        records=len(labelled),
        true_entities=labelled[truth].nunique(),
        predicted_entities=labelled[predicted].nunique(),
        true_pairs=pairs_within(labelled.groupby(truth).size()),
        predicted_pairs=pairs_within(labelled.groupby(predicted).size()),
        true_positive_pairs=pairs_within(labelled.groupby([predicted, truth]).size()),
    )


def merged_hard_cases(
    labelled: pd.DataFrame, hard_cases: pd.DataFrame, predicted: str = "golden_id"
) -> pd.DataFrame:
    """Hard-case pairs (spouses, twins, parent and child) put in one predicted entity."""
    entities = labelled.groupby("person_id")[predicted].agg(set)
    rows = []
    for person_a, person_b, relation in hard_cases[["person_a", "person_b", "relation"]].itertuples(
        index=False
    ):
        if (
            person_a in entities.index
            and person_b in entities.index
            and (entities[person_a] & entities[person_b])
        ):
            rows.append((person_a, person_b, relation))
    return pd.DataFrame(rows, columns=["person_a", "person_b", "relation"])
