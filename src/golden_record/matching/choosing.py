"""A default model that cannot make things worse: train on the data, then check what the
trained model joins that the packaged one does not, before using it.

Training on a council's own records usually helps: their errors are their own (FEBRL's
replaced forenames, a mistyped export), and the packaged model, trained on a generated
council, misses them. But where households are many and noisy, expectation maximisation
can learn households instead of people: blocks of records sharing a date of birth are
full of household members whose date was copied from another's, and the trained model
then weighs a wholly different forename as a small slip and joins parents, children and
grandparents (pseudopeople's town: precision 0.918, at five times its noise 0.619).

The check needs no labels. Both models match the training records; of the pairs only the
trained model puts in one cluster, those that rest on a wholly different forename with
nothing of one person's agreeing (date of birth, NI number, email, mobile) are joined on
what a household shares. Where they are more than ``HOUSEHOLD_SHARE`` of
the trained model's own joins, it learnt households or noise: the packaged model is used,
and the run says why. Measured (``docs/benchmarks.md``, session 16): 56.5% and 70.1% on
the town at its own and five times its noise, 6.6% on the mistyped profile, 5.6% on
FEBRL3, 2.9% on FEBRL2, none on a generated council.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record.atomic import write_text
from golden_record.matching.model import DEFAULT_MODEL_PATH
from golden_record.matching.training import MAX_TRAINING_RECORDS, metadata_path, train

HOUSEHOLD_SHARE = 0.25
# Fewer extra joins than this and there is nothing to judge: the two models agree.
MIN_EXTRA_PAIRS = 20


def _pairs_in_clusters(records: pd.DataFrame, clusters: pd.DataFrame) -> set[tuple[int, int]]:
    """Each pair of records (by position in ``records``) that share a cluster."""
    position = pd.Series(range(len(records)), index=records["unique_id"])
    members = clusters[["unique_id", "cluster_id"]].assign(
        p=position.reindex(clusters["unique_id"]).to_numpy()
    )
    sizes = members.groupby("cluster_id")["p"].transform("size")
    members = members[sizes > 1]
    pairs = members.merge(members, on="cluster_id")
    pairs = pairs[pairs["p_x"] < pairs["p_y"]]
    return set(zip(pairs["p_x"].tolist(), pairs["p_y"].tolist(), strict=True))


def _values(records: pd.DataFrame, column: str) -> list:
    if column not in records:
        return [None] * len(records)
    values = records[column].astype(object)
    return values.where(values.notna(), None).tolist()


def household_joins(
    records: pd.DataFrame, trained: pd.DataFrame, packaged: pd.DataFrame
) -> dict[str, Any]:
    """Of the pairs only the ``trained`` clustering joins, how many rest on a wholly
    different forename with neither the same date of birth nor the same NI number."""
    from golden_record.matching.guard import PersonKeys
    from golden_record.matching.levels import FORENAME_LEVELS, dob_level, forename_level
    from golden_record.standardise.fields import UK_MOBILE_PREFIX

    records = records.reset_index(drop=True)
    extra = _pairs_in_clusters(records, trained) - _pairs_in_clusters(records, packaged)
    keys = PersonKeys.from_records(records)
    # One person's own contact details: an email, and a phone when it is a mobile (a
    # landline is the household's).
    email = _values(records, "email")
    phone = _values(records, "phone")
    mobile = [isinstance(p, str) and p.startswith(UK_MOBILE_PREFIX) for p in phone]
    wholly_different = len(FORENAME_LEVELS) - 1
    on_household = 0
    for a, b in extra:
        ni = keys.ni_number[a]
        if ni is not None and ni == keys.ni_number[b]:
            continue
        if (email[a] is not None and email[a] == email[b]) or (mobile[a] and phone[a] == phone[b]):
            continue
        forename = forename_level(
            keys.first_name[a], keys.first_name[b], keys.surname[a], keys.surname[b],
            keys.variants[a], keys.variants[b],
        )  # fmt: skip
        if (
            forename == wholly_different
            and dob_level(keys.date_of_birth[a], keys.date_of_birth[b]) != 0
        ):
            on_household += 1
    share = on_household / len(extra) if extra else 0.0
    return {
        "pairs_only_the_trained_model_joins": len(extra),
        "resting_on_a_wholly_different_forename": on_household,
        "share": round(share, 4),
        "limit": HOUSEHOLD_SHARE,
        "learnt_households": len(extra) >= MIN_EXTRA_PAIRS and share > HOUSEHOLD_SHARE,
    }


def train_checked(records: pd.DataFrame, model_path: Path, **training: Any) -> dict:
    """Train on ``records`` (:func:`golden_record.matching.training.train`), then check
    the trained model against the packaged one on the training records; where it learnt
    households, write the packaged model to ``model_path`` instead. The metadata says
    which was chosen (``chosen``: ``trained`` or ``packaged``) and why (``check``,
    ``why``)."""
    from golden_record.matching.inference import load_model, predict_and_cluster
    from golden_record.matching.training import training_sample

    meta = train(records, model_path, **training)
    sample = training_sample(
        records, training.get("seed", 42), training.get("max_records", MAX_TRAINING_RECORDS)
    )
    trained = predict_and_cluster(sample, load_model(model_path)).clusters
    packaged = predict_and_cluster(sample, load_model(DEFAULT_MODEL_PATH)).clusters
    check = household_joins(sample, trained, packaged)
    meta["check"] = check
    if check["learnt_households"]:
        meta["chosen"] = "packaged"
        meta["why"] = (
            f"the model trained on these records joined {check['share']:.1%} of the "
            f"{check['pairs_only_the_trained_model_joins']:,} pairs only it joins on a wholly "
            "different forename with no date of birth, NI number, email or mobile agreeing: it "
            "learnt households or noise rather than people"
        )
        shutil.copyfile(DEFAULT_MODEL_PATH, model_path)
    else:
        meta["chosen"] = "trained"
        meta["why"] = (
            f"of the {check['pairs_only_the_trained_model_joins']:,} pairs only the trained "
            f"model joins, {check['share']:.1%} rest on a wholly different forename alone "
            f"(at most {HOUSEHOLD_SHARE:.0%} allowed)"
        )
    write_text(json.dumps(meta, indent=2) + "\n", metadata_path(Path(model_path)))
    return meta
