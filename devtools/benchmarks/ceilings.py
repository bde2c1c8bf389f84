"""How much pairwise recall a data set allows at all, so a shortfall can be read rightly.

Two ceilings, each computed from the ground truth and the standardised records:

* **shared detail**: the share of true pairs whose two records are joined, through the
  person's other records, by pairs sharing a detail beyond the name exactly (a UPRN, a
  postcode and first line, a date of birth, an email, a phone, an NI number). Two
  records of one person with nothing but a name in common anywhere in the chain look
  exactly like two namesakes. Not a hard limit: a model can go past it on near
  agreement (a mistyped postcode beside a similar street line), which FEBRL is full of
  and the synthetic council is not.
* **conflict-free**: no cluster may hold two records the household guard calls
  conflicting under the model's weights (:class:`golden_record.matching.guard.Conflicts`), so a
  person whose records conflict is split however good the scores. The best
  split is searched exhaustively for people with up to six records and greedily above.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from golden_record.matching.clustering import connected_groups
from golden_record.matching.evaluation import pairs_within
from golden_record.matching.guard import Conflicts, PersonKeys
from golden_record.matching.levels import LevelWeights

SHARED_DETAILS = (
    ("uprn",),
    ("postcode", "address_key"),
    ("date_of_birth",),
    ("email",),
    ("phone",),
    ("ni_number",),
)
EXHAUSTIVE_UP_TO = 6


def _person_of(standardised: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    ids = truth["source_system"] + ":" + truth["source_record_id"]
    return pd.Series(truth["person_id"].to_numpy(), index=ids).reindex(standardised["unique_id"])


def shared_detail_ceiling(standardised: pd.DataFrame, truth: pd.DataFrame) -> float:
    records = standardised.reset_index(drop=True)
    person = _person_of(records, truth).to_numpy()
    true_pairs = pairs_within(pd.Series(person).value_counts())
    links: list[tuple[str, str]] = []
    for key in SHARED_DETAILS:
        frame = records[list(key)].assign(person=person, uid=records["unique_id"]).dropna()
        first = frame.groupby(["person", *key])["uid"].transform("first")
        links.extend(zip(frame["uid"], first, strict=True))
    group = connected_groups(links)
    component = records["unique_id"].map(lambda uid: group.get(uid, uid))
    reachable = pairs_within(pd.DataFrame({"p": person, "c": component}).value_counts())
    return reachable / true_pairs if true_pairs else 1.0


def _best_split(conflict: Conflicts, members: list[int]) -> int:
    """Most within-group pairs over splits of ``members`` into conflict-free groups."""
    orders = (
        itertools.permutations(members)
        if len(members) <= EXHAUSTIVE_UP_TO
        else (members, members[::-1])
    )
    best = 0
    for order in orders:
        groups: list[list[int]] = []
        for record in order:
            for group in groups:
                if not any(conflict(record, other) for other in group):
                    group.append(record)
                    break
            else:
                groups.append([record])
        best = max(best, pairs_within([len(g) for g in groups]))
    return best


def conflict_free_ceiling(
    standardised: pd.DataFrame, truth: pd.DataFrame, weights: LevelWeights
) -> float:
    records = standardised.reset_index(drop=True)
    person = _person_of(records, truth)
    conflict = Conflicts(PersonKeys.from_records(records), weights)
    positions = pd.Series(np.arange(len(records))).groupby(person.to_numpy())
    true_pairs = reachable = 0
    for _, group in positions:
        members = [int(m) for m in group.tolist()]
        true_pairs += pairs_within([len(members)])
        if len(members) > 1:
            reachable += _best_split(conflict, members)
    return reachable / true_pairs if true_pairs else 1.0
