"""Cluster auto-match links into people without chaining conflicting records together.

Plain connected components would join A–B–C into one person even when A and C plainly
conflict (a husband and wife linked through a record of either). Instead links are taken
strongest first and two clusters are joined only if no record of one conflicts with any
record of the other (:mod:`golden_record.matching.guard`), nor is a steward's cannot-link pair.

A record is *ambiguous* when it would fit another cluster on its own but its current
cluster-mates conflict with that cluster, and its link there is about as strong as its
strongest link to its own cluster: a 'David Mills' with no date of birth at an address
where a father and a son of that name live. Such a record joins nobody; its links go to
clerical review rather than the clustering guessing which person it is. A record whose own
link is ``SETTLED_MARGIN_BITS`` of match weight stronger (2^4 = 16 times the odds) stays
where that evidence put it, and so does a link on which a personal detail agrees (a
mobile, an email, an NI number or a date of birth: the ``agrees`` column of the links),
since that detail says which of the two people the record is.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from golden_record.keys import one_array, positions_of_each
from golden_record.matching.guard import Conflicts, PersonKeys, namesakes_without_birth_date
from golden_record.matching.kept_components import (
    MEMBER_COLUMNS,
    REFUSED_COLUMNS,
    KeptComponents,
    signatures,
    weights_digest,
)
from golden_record.matching.levels import LevelWeights

SETTLED_MARGIN_BITS = 4.0
REFUSAL_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "reason"]


@dataclass
class Clustering:
    clusters: pd.DataFrame  # unique_id, cluster_id, cluster_match_probability
    refused: pd.DataFrame  # unique_id_l, unique_id_r, match_probability, reason
    # What the next night may build on (kept_components); None where not kept (Spark).
    kept: KeptComponents | None = None
    components_kept: int = 0  # checked components answered from the earlier night's


@dataclass
class _Pass:
    roots: np.ndarray
    best: np.ndarray
    refused: list = field(default_factory=list)
    ambiguous: set = field(default_factory=set)


class _Conflicts:
    """Conflicts between identities, memoised: one person's records mostly share one.

    An identity's keys are read from its first record when a conflict is first asked of
    it (or in bulk, :meth:`prepare`): a quiet night at a million records asks of a few
    thousand of its 590,000 identities, whose keys as Python objects were 0.4 GB at the
    match's peak."""

    def __init__(self, records: pd.DataFrame, weights: LevelWeights, guard: bool = True):
        self.guard = guard
        # Name variants follow from the forename, so they need not be part of the key.
        codes = records.groupby(
            ["first_name", "surname", "date_of_birth", "ni_number"], dropna=False, sort=False
        ).ngroup()
        self.of_record = codes.to_numpy()
        first = pd.Series(codes).drop_duplicates()
        self._first_record = np.empty(len(first), dtype=np.int64)
        self._first_record[first.to_numpy()] = first.index.to_numpy()
        self._records = records
        # Each identity's position in the keys read so far (-1: not read yet).
        self._slot = np.full(len(first), -1, dtype=np.int64)
        self._keys = PersonKeys.from_records(records.iloc[:0])
        self._conflict = Conflicts(self._keys, weights)
        self._known: dict[tuple[int, int], bool] = {}

    def prepare(self, identities: np.ndarray) -> None:
        """Read the keys of ``identities`` not read yet, in one go."""
        wanted = np.unique(np.asarray(identities, dtype=np.int64))
        wanted = wanted[self._slot[wanted] < 0]
        if not len(wanted):
            return
        self._slot[wanted] = len(self._keys) + np.arange(len(wanted))
        rows = self._records.iloc[self._first_record[wanted]]
        self._keys.extend(PersonKeys.from_records(rows))

    def between(self, x: int, y: int) -> bool:
        if x == y or not self.guard:
            return False
        pair = (x, y) if x < y else (y, x)
        known = self._known.get(pair)
        if known is None:
            if self._slot[x] < 0 or self._slot[y] < 0:
                self.prepare(np.array(pair))
            slots = int(self._slot[pair[0]]), int(self._slot[pair[1]])
            known = self._known[pair] = self._conflict(*slots)
        return known


def _union_pass(
    ids: np.ndarray,
    conflicts: _Conflicts,
    left: np.ndarray,
    right: np.ndarray,
    probabilities: np.ndarray,
    cannot: set[frozenset[str]],
) -> _Pass:
    parent = list(range(len(ids)))
    identity = conflicts.of_record
    # Per cluster root: the identities in it, and (only when stewards said 'not the same
    # person' somewhere) its records.
    identities: dict[int, set[int]] = {}
    members: dict[int, list[int]] = {}
    best = np.full(len(ids), np.nan)

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def clash(own: set[int], other: set[int]) -> bool:
        return any(conflicts.between(x, y) for x in own for y in other)

    def barred(group_a: list[int], group_b: list[int]) -> bool:
        return any(frozenset((ids[x], ids[y])) in cannot for x in group_a for y in group_b)

    result = _Pass(roots=np.empty(0, dtype=int), best=best)
    for a, b, probability in zip(left, right, probabilities, strict=True):
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            keys_a = identities.get(root_a) or {identity[root_a]}
            keys_b = identities.get(root_b) or {identity[root_b]}
            group_a = members.get(root_a, [root_a]) if cannot else []
            group_b = members.get(root_b, [root_b]) if cannot else []
            if clash(keys_a, keys_b) or (cannot and barred(group_a, group_b)):
                result.refused.append((ids[a], ids[b], probability))
                for one, own, other, other_group in (
                    (a, keys_a, keys_b, group_b),
                    (b, keys_b, keys_a, group_a),
                ):
                    fits_alone = not clash({identity[one]}, other) and not (
                        cannot and barred([one], other_group)
                    )
                    if fits_alone and clash(own, other) and not _settled(best[one], probability):
                        result.ambiguous.add(one)
                continue
            if len(keys_a) < len(keys_b):
                root_a, root_b, keys_a, keys_b = root_b, root_a, keys_b, keys_a
                group_a, group_b = group_b, group_a
            parent[root_b] = root_a
            identities[root_a] = keys_a | keys_b
            identities.pop(root_b, None)
            if cannot:
                members[root_a] = group_a + group_b
                members.pop(root_b, None)
        best[a] = np.fmax(best[a], probability)
        best[b] = np.fmax(best[b], probability)
    result.roots = np.array([find(i) for i in range(len(ids))], dtype=int)
    return result


def _weight(probability: float) -> float:
    probability = min(probability, 1 - 1e-15)
    return float(np.log2(probability / (1 - probability)))


def _settled(own_best: float, rival: float) -> bool:
    """A record already linked far more strongly than to a rival is not ambiguous."""
    return not np.isnan(own_best) and _weight(own_best) - _weight(rival) >= SETTLED_MARGIN_BITS


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    labels: np.ndarray = connected_components(graph, directed=False)[1]
    return labels


def _present(ids: pa.Array, values: Any) -> np.ndarray:
    """Positions among the records' ``ids`` of ids that must be there (a link's, a
    cluster's)."""
    return _all_present(ids, values)[0]


def _all_present(ids: pa.Array, *columns: Any) -> list[np.ndarray]:
    """:func:`_present` for each of ``columns`` (a link's two ids), looked up together."""
    found = positions_of_each(columns, ids)
    for values, positions in zip(columns, found, strict=True):
        if (positions < 0).any():
            missing = pd.Series(values).iloc[int(np.flatnonzero(positions < 0)[0])]
            raise ValueError(f"record {missing} is linked but is not among the records clustered")
    return found


def _cannot_positions(ids: pa.Array, cannot: set[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Both records' positions of each cannot-link pair whose records are both here."""
    pairs = [tuple(pair) for pair in cannot if len(pair) == 2]
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a, b = positions_of_each(
        [pa.array([pair[side] for pair in pairs], type=pa.string()) for side in (0, 1)], ids
    )
    both = (a >= 0) & (b >= 0)
    return a[both], b[both]


def _contested(
    component: np.ndarray,
    conflicts: _Conflicts,
    cannot_positions: tuple[np.ndarray, np.ndarray],
    known: dict[int, bool],
) -> tuple[np.ndarray, set[int]]:
    """Which components hold two conflicting identities or a cannot-link pair, by label;
    and the labels checked (those holding several identities or such a pair). ``known``:
    labels already answered (by the earlier night), not checked again."""
    frame = pd.DataFrame({"component": component, "identity": conflicts.of_record})
    distinct = frame.drop_duplicates()
    several = distinct[distinct.duplicated("component", keep=False)]
    checked = set(several["component"].unique().tolist())
    # Only the components not answered already are split up and checked.
    several = several[~np.isin(several["component"].to_numpy(), list(known))]
    several = several.sort_values("component")
    labels = several["component"].to_numpy()
    contested = {label for label, held in known.items() if held}
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]]) if len(labels) else None
    groups = np.split(several["identity"].to_numpy(), starts[1:]) if starts is not None else []
    if conflicts.guard:
        conflicts.prepare(several["identity"].to_numpy())
    for label, group in zip(labels[starts] if starts is not None else [], groups, strict=True):
        members = group.tolist()
        if any(conflicts.between(x, y) for i, x in enumerate(members) for y in members[i + 1 :]):
            contested.add(label)
    a, b = cannot_positions
    inside = component[a] == component[b]
    barred = set(component[a[inside]].tolist())
    contested |= barred
    checked |= barred
    flags = np.zeros(int(component.max()) + 1 if len(component) else 0, dtype=bool)
    flags[list(contested)] = True
    return flags, checked


def _strongest_first(links: pd.DataFrame) -> np.ndarray:
    """The links' positions by probability, strongest first, then by their two ids (as
    ``sort_values`` orders them, a missing probability last): Arrow sorts the ids' text
    in a third of the time pandas takes (1.1 s at a quiet night's 790,000 links)."""
    keys = ["match_probability", "unique_id_l", "unique_id_r"]
    table = pa.Table.from_pandas(links[keys], preserve_index=False)
    order = pc.sort_indices(
        table,
        sort_keys=[(keys[0], "descending"), (keys[1], "ascending"), (keys[2], "ascending")],
        null_placement="at_end",
    )
    return np.asarray(order.to_numpy(), dtype=np.int64)


def cluster_without_conflicts(
    records: pd.DataFrame,
    links: pd.DataFrame,
    cannot_link: set[frozenset[str]] | None = None,
    *,
    weights: LevelWeights,
    household_guard: bool = True,
    namesakes: bool = True,
    earlier: KeptComponents | None = None,
) -> Clustering:
    """``records``: standardised records; ``links``: auto-match pairs with probabilities.

    Connected components are found in one pass; only the few components that hold a
    conflict (mostly households) are clustered link by link. ``household_guard=False``
    turns conflicts and namesake ambiguity off (plain connected components, as Splink
    clusters): only for measuring what the guard costs and saves, never for publishing.
    ``namesakes=False`` skips looking for undated namesakes (the one step that looks
    across components), for a caller that has dropped their links already
    (:mod:`golden_record.matching.clustering_on_spark`). ``earlier``: the components an
    earlier night checked (:mod:`golden_record.matching.kept_components`); those whose
    signature it holds get its answer, the rest are checked.
    """
    records = records.reset_index(drop=True)
    ids = records["unique_id"].to_numpy()
    held = one_array(records["unique_id"])
    conflicts = _Conflicts(records, weights, guard=household_guard)
    cannot = cannot_link or set()
    ordered = links.iloc[_strongest_first(links)]
    left, right = _all_present(held, ordered["unique_id_l"], ordered["unique_id_r"])
    probabilities = ordered["match_probability"].to_numpy()
    agrees = (
        ordered["agrees"].to_numpy(dtype=bool)
        if "agrees" in ordered
        else np.zeros(len(ordered), dtype=bool)
    )

    # Records that cannot be told from a namesake at their address take no link at all.
    ambiguous = np.zeros(len(ids), dtype=bool)
    if namesakes and household_guard:
        ambiguous |= namesakes_without_birth_date(records, weights).to_numpy(dtype=bool)
    refused: list[tuple] = []

    def drop_ambiguous() -> None:
        nonlocal left, right, probabilities, agrees
        touching = (ambiguous[left] | ambiguous[right]) & ~agrees
        refused.extend(
            (*row, "ambiguous")
            for row in zip(
                ids[left[touching]], ids[right[touching]], probabilities[touching], strict=True
            )
        )
        left, right, probabilities = left[~touching], right[~touching], probabilities[~touching]
        agrees = agrees[~touching]

    drop_ambiguous()
    initial_refusals = len(refused)
    component = _components(len(ids), left, right)
    cannot_positions = _cannot_positions(held, cannot)
    digest = weights_digest(weights.by_comparison, household_guard)
    signature = signatures(
        component,
        records,
        pd.DataFrame(
            {
                "unique_id_l": ids[left],
                "unique_id_r": ids[right],
                "match_probability": probabilities,
                "agrees": agrees,
                "left": left,
            }
        ),
        cannot_positions,
    )
    known, reused_members, reused_refused = _earlier_answers(earlier, digest, signature)
    contested_label, checked = _contested(component, conflicts, cannot_positions, known)
    contested = contested_label[component]
    reused_label = np.zeros(len(contested_label), dtype=bool)
    reused_label[[label for label, held in known.items() if held]] = True
    reused = reused_label[component]
    fresh = contested & ~reused
    roots = component.copy()
    taken = np.ones(len(left), dtype=bool)
    if fresh.any():
        if household_guard:
            conflicts.prepare(conflicts.of_record[fresh])
        inside = fresh[left]
        first = _union_pass(
            ids, conflicts, left[inside], right[inside], probabilities[inside], cannot
        )
        final = first
        if first.ambiguous:
            ambiguous[list(first.ambiguous)] = True
            drop_ambiguous()
            inside = fresh[left]
            final = _union_pass(
                ids, conflicts, left[inside], right[inside], probabilities[inside], cannot
            )
        refused.extend((*row, "conflict") for row in final.refused)
        # Union-find roots are record positions; keep them apart from component labels.
        roots = np.where(fresh, final.roots + len(ids), roots)
        taken = ~fresh[left] | (final.roots[left] == final.roots[right])
    if reused.any():
        # Named by the earlier night's cluster: its lowest id, a record of the component.
        cluster_of = reused_members.set_index("unique_id")["cluster_id"]
        named = _present(held, cluster_of.reindex(ids[reused]).to_numpy(object))
        roots[reused] = named + 2 * len(ids)
        taken &= ~reused[left]

    best = (
        pd.concat(
            [
                pd.Series(probabilities[taken], index=left[taken]),
                pd.Series(probabilities[taken], index=right[taken]),
            ]
        )
        .groupby(level=0)
        .max()
        .reindex(np.arange(len(ids)))
        .to_numpy(copy=True)
    )
    if reused.any():
        best[reused] = (
            reused_members.set_index("unique_id")["best"].reindex(ids[reused]).to_numpy(float)
        )
    frame = pd.DataFrame({"unique_id": ids, "root": roots, "cluster_match_probability": best})
    # A cluster is named after its lowest member id, as Splink names them.
    frame["cluster_id"] = frame.groupby("root")["unique_id"].transform("min")

    later = pd.DataFrame(refused[initial_refusals:], columns=REFUSAL_COLUMNS)
    later.insert(
        0,
        "signature",
        signature[component[_present(held, later["unique_id_l"].to_numpy(object))]],
    )
    kept = _kept_for_next(
        digest, signature, component, contested_label, checked, frame, [later, reused_refused]
    )
    refused_rows = refused + list(
        reused_refused[REFUSAL_COLUMNS].itertuples(index=False, name=None)
    )
    return Clustering(
        clusters=frame[["unique_id", "cluster_id", "cluster_match_probability"]],
        refused=pd.DataFrame(refused_rows, columns=REFUSAL_COLUMNS),
        kept=kept,
        components_kept=len(known),
    )


def _earlier_answers(
    earlier: KeptComponents | None, digest: str, signature: np.ndarray
) -> tuple[dict[int, bool], pd.DataFrame, pd.DataFrame]:
    """Tonight's component labels the earlier night checked, each with whether it held a
    conflict; the kept members and refused links of those that did."""
    none = pd.DataFrame(columns=MEMBER_COLUMNS), pd.DataFrame(columns=REFUSED_COLUMNS)
    if earlier is None or earlier.digest != digest or not len(earlier.checked):
        return {}, *none
    was = pd.Series(
        earlier.checked["contested"].to_numpy(dtype=bool),
        index=pd.Index(earlier.checked["signature"].to_numpy(dtype=np.uint64)),
    )
    was = was[~was.index.duplicated(keep=False)]  # two alike: both checked again
    found = np.flatnonzero(np.isin(signature, was.index.to_numpy()))
    known = dict(zip(found.tolist(), was.reindex(signature[found]).tolist(), strict=True))
    again = [signature[label] for label, held in known.items() if held]
    return (
        known,
        earlier.members[np.isin(earlier.members["signature"].to_numpy(), again)],
        earlier.refused[np.isin(earlier.refused["signature"].to_numpy(), again)],
    )


def _kept_for_next(
    digest: str,
    signature: np.ndarray,
    component: np.ndarray,
    contested_label: np.ndarray,
    checked: set[int],
    frame: pd.DataFrame,
    refused: list[pd.DataFrame],
) -> KeptComponents:
    """What tonight's clustering keeps for the next night (``frame``: unique_id,
    cluster_id, cluster_match_probability by record; ``refused``: the links the checked
    components refused, with their signature)."""
    labels = np.array(sorted(checked), dtype=np.int64)
    contested = contested_label[component]
    members = frame.loc[contested]
    parts = [part for part in refused if len(part)]
    return KeptComponents(
        digest=digest,
        checked=pd.DataFrame(
            {"signature": signature[labels], "contested": contested_label[labels]}
        ),
        members=pd.DataFrame(
            {
                "unique_id": members["unique_id"].to_numpy(),
                "signature": signature[component[contested]],
                "cluster_id": members["cluster_id"].to_numpy(),
                "best": members["cluster_match_probability"].to_numpy(),
            }
        ),
        refused=(
            pd.concat(parts, ignore_index=True)[REFUSED_COLUMNS]
            if parts
            else pd.DataFrame(columns=REFUSED_COLUMNS)
        ),
    )


def connected_groups(pairs: Iterable[tuple[Hashable, Hashable]]) -> dict:
    """Each item named in ``pairs`` mapped to a representative of its connected group."""
    parent: dict = {}

    def find(x: Hashable) -> Hashable:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    return {x: find(x) for x in parent}


def join_must_link(clusters: pd.DataFrame, must_link: set[frozenset[str]]) -> pd.DataFrame:
    """Join the clusters of records a steward decided are the same person.

    A steward's 'same' outranks the model and the guard: they have seen both records.
    Records the current run does not hold are ignored. The joined cluster is named after
    its lowest member id, as every cluster is.
    """
    cluster_of = clusters.set_index("unique_id")["cluster_id"]
    joins = [
        (cluster_of[a], cluster_of[b])
        for a, b in (tuple(pair) for pair in must_link)
        if a in cluster_of.index and b in cluster_of.index
    ]
    if not joins:
        return clusters
    group = connected_groups(joins)
    joined = clusters.copy()
    joined["cluster_id"] = joined["cluster_id"].map(lambda c: group.get(c, c))
    joined["cluster_id"] = joined.groupby("cluster_id")["unique_id"].transform("min")
    return joined
