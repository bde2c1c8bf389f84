"""Stewards' decisions as precedents: a doubtful pair that looks like pairs stewards have
already decided, always the same way, is decided that way without asking again.

A review queue is mostly the same few situations over and over: a household's members
refused by the guard with one comparison vector, two records of one person whose
forenames were recorded differently with another. What a steward sees to decide a pair is
its comparison levels (Splink's ``gamma_`` values: the forename wholly different, the
date of birth missing on one side, the address the same) and why it was doubtful (its
review reason). That pair of things is its *kind*. The decided pairs of a kind are
labels drawn from the very pairs they are applied to: the queue. (Used instead to
re-estimate the model's m-probabilities, as Splink can from pairwise labels, they would
teach it from the doubtful pairs alone, a sample chosen for disagreeing.)

A kind decides when stewards have decided pairs of it in at least ``MIN_ALIKE`` separate
items (pairs decided together, joined through shared records, count once: a household of
eight is one situation, not 28) and every one of them the same way. Stewards work the
queue in rank order, so their decisions are not a random sample of a kind: the first
items are the largest households, where a kind can look settled that smaller items
contradict. So one pair in ``AUDIT_EVERY`` that a precedent would settle still goes to
the stewards ("audit"), chosen by the pair's ids so a rerun chooses the same; one
contrary decision, from an audit or anywhere, and the whole kind goes back to the
stewards. 'different' keeps a pair apart, as it already was; 'same' joins it, unless
that would put two records a steward kept apart into one golden record.

Comparison levels are defined by the model's shape (:mod:`golden_record.matching.model`),
not by its trained weights, so precedents outlive a retrain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

MIN_ALIKE = 5
AUDIT_EVERY = 20
AUDIT_MARK = " [audit: "
SETTLED_COLUMNS = [
    "unique_id_l",
    "unique_id_r",
    "match_probability",
    "match_weight",
    "reason",
    "decision",
    "decided_alike",
    "settled_by",  # "precedent" (stewards' decisions) or "evidence" (no steward needed)
]


def audited(pairs: pd.DataFrame) -> pd.Series:
    """One pair in :data:`AUDIT_EVERY`, by its records' ids (the same on every run)."""
    ids = pairs[["unique_id_l", "unique_id_r"]].astype("string")
    hashed = pd.util.hash_pandas_object(ids, index=False, hash_key="precedent-audit0")
    return pd.Series((hashed.to_numpy() % AUDIT_EVERY) == 0, index=pairs.index)


def kinds(pairs: pd.DataFrame) -> pd.Series:
    """Each pair's kind: its comparison levels (every ``gamma_`` column, by name) and its
    review reason; missing where the pair has no scored detail."""
    gammas = sorted(c for c in pairs.columns if c.startswith("gamma_"))
    if not gammas or "reason" not in pairs or pairs.empty:
        return pd.Series(pd.NA, index=pairs.index, dtype="string")
    levels = pairs[gammas]
    scored = levels.notna().all(axis=1)
    text = pd.Series(
        [",".join(f"{g[6:]}={int(v)}" for g, v in zip(gammas, row, strict=True)) for row in
         levels.fillna(-9).to_numpy()],
        index=pairs.index,
        dtype="string",
    )  # fmt: skip
    # An audited pair is the kind it was before the audit said so.
    reason = pairs["reason"].astype("string").str.split(AUDIT_MARK, n=1, regex=False).str[0]
    return (text + " | " + reason).where(scored)


@dataclass(frozen=True)
class Precedents:
    """How many pairs of each kind stewards decided 'same' and 'different'."""

    same: dict[str, int] = field(default_factory=dict)
    different: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, decided: Iterable[tuple[str, str, str]]) -> Precedents:
        """From ``(kind, decision, item)`` triples: the separate items in which each kind
        was decided each way."""
        seen: dict[str, dict[str, set[str]]] = {"same": {}, "different": {}}
        for kind, decision, item in decided:
            if kind is None or pd.isna(kind):
                continue
            seen["same" if decision == "same" else "different"].setdefault(kind, set()).add(item)
        return cls(
            {k: len(v) for k, v in seen["same"].items()},
            {k: len(v) for k, v in seen["different"].items()},
        )

    @classmethod
    def learnt(cls, decided: pd.DataFrame) -> Precedents:
        """From decided pairs (``record_a``, ``record_b``, ``decision``, and the ``reason``
        and ``gamma_`` levels they were queued with, missing where they never were): pairs
        decided together, joined through shared records, are one item, one situation."""
        from golden_record.matching.clustering import connected_groups

        pairs = list(zip(decided["record_a"], decided["record_b"], strict=True))
        item = connected_groups(pairs)
        return cls.of(
            zip(kinds(decided), decided["decision"], [item[a] for a, _ in pairs], strict=True)
        )

    def __len__(self) -> int:
        return sum(self.same.values()) + sum(self.different.values())

    def settle(self, review_pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Split ``review_pairs`` (with their ``gamma_`` levels and ``reason``) into those
        still in doubt and those their kind's precedents decide (:data:`SETTLED_COLUMNS`);
        a pair kept for audit says so in its reason."""
        if not len(self) or review_pairs.empty:
            return review_pairs, pd.DataFrame(columns=SETTLED_COLUMNS)
        kind = kinds(review_pairs)
        same = kind.map(self.same).fillna(0).astype(int)
        different = kind.map(self.different).fillna(0).astype(int)
        decision = pd.Series(pd.NA, index=review_pairs.index, dtype="string")
        decision[(same >= MIN_ALIKE) & (different == 0)] = "same"
        decision[(different >= MIN_ALIKE) & (same == 0)] = "different"
        settled = decision.notna() & ~audited(review_pairs)
        out = review_pairs.loc[
            settled, ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
        ]
        out = out.assign(
            reason=review_pairs.loc[settled, "reason"],
            decision=decision[settled],
            decided_alike=(same + different)[settled],
            settled_by="precedent",
        )
        doubtful = review_pairs[~settled].copy()
        audit = decision[~settled].notna()
        doubtful.loc[audit, "reason"] = (
            doubtful.loc[audit, "reason"].astype(str)
            + f"{AUDIT_MARK}stewards decided pairs like this '"
            + decision[~settled][audit].astype(str)
            + f"' every time; one in {AUDIT_EVERY} is checked]"
        )
        return doubtful, out.reset_index(drop=True)[SETTLED_COLUMNS]


def join_settled_same(
    clusters: pd.DataFrame, settled: pd.DataFrame, cannot_link: set[frozenset[str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join the clusters of pairs settled 'same', strongest first, except where the join
    would put into one cluster two records a steward decided are different people; those
    pairs are returned to go back to the stewards."""
    joins = settled[settled["decision"] == "same"].sort_values(
        "match_probability", ascending=False, kind="stable"
    )
    if joins.empty:
        return clusters, joins
    cluster_of: dict[str, str] = dict(
        zip(clusters["unique_id"].astype(str), clusters["cluster_id"].astype(str), strict=True)
    )
    members: dict[str, set[str]] = {}
    for record, cluster in cluster_of.items():
        members.setdefault(cluster, set()).add(record)
    apart: dict[str, set[str]] = {}
    for pair in cannot_link:
        a, b = tuple(pair)
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    refused = []
    for position, (a, b) in enumerate(zip(joins["unique_id_l"], joins["unique_id_r"], strict=True)):
        if a not in cluster_of or b not in cluster_of:
            continue
        left, right = cluster_of[a], cluster_of[b]
        if left == right:
            continue
        if any(apart.get(record, set()) & members[right] for record in members[left]):
            refused.append(position)
            continue
        for record in members[right]:
            cluster_of[record] = left
        members[left] |= members.pop(right)
    joined = clusters.assign(cluster_id=clusters["unique_id"].map(cluster_of))
    # Every cluster is named after its lowest member id.
    joined["cluster_id"] = joined.groupby("cluster_id")["unique_id"].transform("min")
    return joined, joins.iloc[refused]


def agreement_with_stewards(
    pairs: pd.DataFrame,
    same: set[frozenset[str]],
    different: set[frozenset[str]],
    auto_match: float,
) -> dict[str, int]:
    """The model's scores against the stewards' decisions, as labels (Splink's accuracy
    from labels, on what the night scored): of the pairs decided 'same', how many the model
    scored at or above ``auto_match``; of those decided 'different', how many below it (a
    pair not scored at all was below the review threshold). The labels are the doubtful
    pairs stewards chose to decide, not a random sample: a trend from night to night, not
    the model's accuracy on all pairs."""
    held = {record for pair in same | different for record in pair}
    candidates = pairs[pairs["unique_id_l"].isin(held) & pairs["unique_id_r"].isin(held)]
    scored = dict(
        zip(
            map(frozenset, zip(candidates["unique_id_l"], candidates["unique_id_r"], strict=True)),
            candidates["match_probability"],
            strict=True,
        )
    )
    return {
        "decided_same": len(same),
        "scored_same": sum(scored.get(p, 0.0) >= auto_match for p in same),
        "decided_different": len(different),
        "scored_different": sum(scored.get(p, 0.0) < auto_match for p in different),
    }
