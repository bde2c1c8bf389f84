"""Cluster auto-match links into people without chaining conflicting records together.

Plain connected components would join A–B–C into one person even when A and C plainly
conflict (a husband and wife linked through a record of either). Instead links are taken
strongest first and two clusters are joined only if no record of one conflicts with any
record of the other (:mod:`dedupe.matching.guard`), nor is a steward's cannot-link pair.

A record is *ambiguous* when it would fit another cluster on its own but its current
cluster-mates conflict with that cluster: a 'David Mills' with no date of birth at an
address where a father and a son of that name live. Such a record joins nobody; its links
go to clerical review rather than the clustering guessing which person it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dedupe.matching.guard import PersonKeys, conflict, namesakes_without_birth_date


@dataclass
class Clustering:
    clusters: pd.DataFrame  # unique_id, cluster_id, cluster_match_probability
    refused: pd.DataFrame  # unique_id_l, unique_id_r, match_probability, reason


@dataclass
class _Pass:
    roots: np.ndarray
    best: np.ndarray
    refused: list = field(default_factory=list)
    ambiguous: set = field(default_factory=set)


def _union_pass(
    ids: np.ndarray,
    keys: PersonKeys,
    left: np.ndarray,
    right: np.ndarray,
    probabilities: np.ndarray,
    cannot: set[frozenset[str]],
) -> _Pass:
    parent = list(range(len(ids)))
    members: dict[int, list[int]] = {}
    best = np.full(len(ids), np.nan)

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def clash(x: int, y: int) -> bool:
        return conflict(keys, x, y) or frozenset((ids[x], ids[y])) in cannot

    result = _Pass(roots=np.empty(0, dtype=int), best=best)
    for a, b, probability in zip(left, right, probabilities, strict=True):
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            group_a = members.get(root_a, [root_a])
            group_b = members.get(root_b, [root_b])
            if any(clash(x, y) for x in group_a for y in group_b):
                result.refused.append((ids[a], ids[b], probability))
                for one, own, other in ((a, group_a, group_b), (b, group_b, group_a)):
                    fits_alone = not any(clash(one, y) for y in other)
                    mates_clash = any(clash(x, y) for x in own if x != one for y in other)
                    if fits_alone and mates_clash:
                        result.ambiguous.add(one)
                continue
            if len(group_a) < len(group_b):
                root_a, root_b, group_a, group_b = root_b, root_a, group_b, group_a
            parent[root_b] = root_a
            members[root_a] = group_a + group_b
            members.pop(root_b, None)
        best[a] = np.fmax(best[a], probability)
        best[b] = np.fmax(best[b], probability)
    result.roots = np.array([find(i) for i in range(len(ids))], dtype=int)
    return result


def cluster_without_conflicts(
    records: pd.DataFrame,
    links: pd.DataFrame,
    cannot_link: set[frozenset[str]] | None = None,
) -> Clustering:
    """``records``: standardised records; ``links``: auto-match pairs with probabilities."""
    ids = records["unique_id"].to_numpy()
    position = pd.Series(np.arange(len(ids)), index=ids)
    keys = PersonKeys.from_records(records)
    cannot = cannot_link or set()
    ordered = links.sort_values(
        ["match_probability", "unique_id_l", "unique_id_r"], ascending=[False, True, True]
    )
    left = position.reindex(ordered["unique_id_l"]).to_numpy()
    right = position.reindex(ordered["unique_id_r"]).to_numpy()
    probabilities = ordered["match_probability"].to_numpy()

    first = _union_pass(ids, keys, left, right, probabilities, cannot)
    refused = [(*row, "conflict") for row in first.refused]
    final = first
    ambiguous = namesakes_without_birth_date(records).to_numpy(dtype=bool, copy=True)
    ambiguous[list(first.ambiguous)] = True
    if ambiguous.any():
        touching = ambiguous[left] | ambiguous[right]
        final = _union_pass(
            ids, keys, left[~touching], right[~touching], probabilities[~touching], cannot
        )
        refused = [
            (*row, "ambiguous")
            for row in zip(
                ids[left[touching]], ids[right[touching]], probabilities[touching], strict=True
            )
        ] + [(*row, "conflict") for row in final.refused]

    frame = pd.DataFrame(
        {"unique_id": ids, "root": final.roots, "cluster_match_probability": final.best}
    )
    # A cluster is named after its lowest member id, as Splink names them.
    frame["cluster_id"] = frame.groupby("root")["unique_id"].transform("min")
    return Clustering(
        clusters=frame[["unique_id", "cluster_id", "cluster_match_probability"]],
        refused=pd.DataFrame(
            refused, columns=["unique_id_l", "unique_id_r", "match_probability", "reason"]
        ),
    )
