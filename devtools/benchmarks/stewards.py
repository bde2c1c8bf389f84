"""A steward's day, simulated for ``make bench-accuracy``: decide the first items of the
review queue as the truth has it, then match again and see what changed.

A steward takes the queue in rank order (:mod:`golden_record.matching.review_queue`) and
decides every doubtful pair of an item, as a careful steward with the source files would:
'same' where the two records are one person, 'different' where not. The next match
honours those decisions and learns precedents from them
(:mod:`golden_record.matching.precedents`), as ``golden-record match`` and the nightly
run do from the golden store. Reported: the queue before and after (in records), the
pairs precedents settled and how many of them the truth agrees with, and F1 after.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from golden_record.matching.evaluation import PairwiseScores, pairwise_scores
from golden_record.matching.inference import MatchOptions, MatchResult
from golden_record.matching.precedents import Precedents
from golden_record.matching.review_queue import review_queue
from golden_record.matching.stage import match_standardised

ITEMS_DECIDED = 200


@dataclass(frozen=True)
class StewardsDay:
    items_decided: int
    pairs_decided: int
    queue_records_before: int
    queue_records_after: int
    settled_same: int
    settled_different: int
    settled_right: int  # settled pairs the truth agrees with
    scores_after: PairwiseScores

    def as_dict(self) -> dict:
        return {
            "items_decided": self.items_decided,
            "pairs_decided": self.pairs_decided,
            "queue_records_before": self.queue_records_before,
            "queue_records_after": self.queue_records_after,
            "settled_same": self.settled_same,
            "settled_different": self.settled_different,
            "settled_right": self.settled_right,
            "after": self.scores_after.as_dict(),
        }


def _person_of(truth: pd.DataFrame) -> pd.Series:
    ids = truth["source_system"] + ":" + truth["source_record_id"]
    return pd.Series(truth["person_id"].to_numpy(), index=ids)


def _same(pairs: pd.DataFrame, person: pd.Series) -> pd.Series:
    left = person.reindex(pairs["unique_id_l"]).to_numpy()
    right = person.reindex(pairs["unique_id_r"]).to_numpy()
    return pd.Series(left == right, index=pairs.index)


def stewards_day(
    standardised: pd.DataFrame,
    model_path: Path | None,
    result: MatchResult,
    truth: pd.DataFrame,
    options: MatchOptions,
    items: int = ITEMS_DECIDED,
) -> StewardsDay:
    """Decide the first ``items`` of ``result``'s queue from ``truth``, then match again."""
    person = _person_of(truth)
    queue = review_queue(result.review_pairs, result.clusters)
    first = queue[queue["rank"] <= items]
    in_first = set(first["source_system"] + ":" + first["source_record_id"])
    review = result.review_pairs
    chosen = review[review["unique_id_l"].isin(in_first) & review["unique_id_r"].isin(in_first)]
    same = _same(chosen, person)
    gammas = [c for c in result.pairs.columns if c.startswith("gamma_")]
    detail = chosen.merge(
        result.pairs[["unique_id_l", "unique_id_r", *gammas]],
        on=["unique_id_l", "unique_id_r"],
        how="left",
    ).rename(columns={"unique_id_l": "record_a", "unique_id_r": "record_b"})
    learnt = Precedents.learnt(
        detail.assign(decision=same.map({True: "same", False: "different"}).to_numpy())
    )
    pairs = [frozenset(p) for p in zip(chosen["unique_id_l"], chosen["unique_id_r"], strict=True)]
    after = match_standardised(
        standardised,
        model_path,
        MatchOptions(
            thresholds=options.thresholds,
            household_guard=options.household_guard,
            must_link=frozenset(p for p, s in zip(pairs, same, strict=True) if s),
            cannot_link=frozenset(p for p, s in zip(pairs, same, strict=True) if not s),
            precedents=learnt,
        ),
    ).result
    settled = after.settled[after.settled["settled_by"] == "precedent"]
    settled_same = settled["decision"] == "same"
    right = int((_same(settled, person) == settled_same).sum())
    labelled = after.clusters[["unique_id", "cluster_id"]].assign(
        person_id=person.reindex(after.clusters["unique_id"]).to_numpy()
    )
    return StewardsDay(
        items_decided=int(first["item_id"].nunique()),
        pairs_decided=len(chosen),
        queue_records_before=len(queue),
        queue_records_after=len(review_queue(after.review_pairs, after.clusters)),
        settled_same=int(settled_same.sum()),
        settled_different=int((~settled_same).sum()),
        settled_right=right,
        scores_after=pairwise_scores(labelled, "cluster_id", "person_id"),
    )
