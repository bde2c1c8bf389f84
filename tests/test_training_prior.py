"""The prior comes from what the trained model says its rules find, not from an assumed
share: data whose every duplicate carries an error still gets a prior near the truth."""

from __future__ import annotations

import json

import pandas as pd

from devtools.generate import generate
from devtools.generate.canonical_sample import canonical_records
from golden_record.matching.stage import standardise_records
from golden_record.matching.training import train


def _one_letter_off(value: object, n: int) -> object:
    """A different slip for each copy: its n-th letter doubled."""
    if not isinstance(value, str) or not value:
        return value
    at = n % len(value)
    return value[: at + 1] + value[at] + value[at + 1 :]


def test_a_prior_near_the_truth_when_every_duplicate_carries_an_error(tmp_path):
    data = generate(2500, 31, tmp_path / "council")
    records = canonical_records(data.out)
    truth = pd.read_csv(data.paths["ground_truth"], dtype="string")
    person = truth.set_index(truth["source_system"] + ":" + truth["source_record_id"])["person_id"]
    uid = records["source_system"] + ":" + records["source_record_id"]
    copy = person.reindex(uid).groupby(person.reindex(uid).to_numpy()).cumcount().to_numpy()
    # Four in five records after a person's first get their own slip in the forename and
    # the email, and none has an NI number: few duplicates agree exactly on a rule's columns.
    slipped = (copy > 0) & (pd.util.hash_pandas_object(uid, index=False).to_numpy() % 5 != 0)
    for column in ("first_name", "email"):
        records[column] = [
            _one_letter_off(v, n) if s else v
            for v, n, s in zip(records[column], copy, slipped, strict=True)
        ]
    records["ni_number"] = pd.NA
    standardised = standardise_records(records)

    meta = train(standardised, tmp_path / "model.json")
    prior = json.loads((tmp_path / "model.json").read_text())[
        "probability_two_random_records_match"
    ]
    pairs = len(standardised) * (len(standardised) - 1) / 2
    sizes = person.value_counts()
    true_pairs = int((sizes * (sizes - 1) / 2).sum())
    assert meta["deterministic_recall"] < 0.5, meta  # the model knows the rules miss most
    # The assumed 70% would put it at a few percent of the truth.
    assert 0.4 < prior * pairs / true_pairs < 2.5, (
        prior * pairs,
        true_pairs,
        meta["prior_from"],
        meta["deterministic_recall"],
    )
