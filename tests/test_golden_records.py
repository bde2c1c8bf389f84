"""Golden records: survivorship with provenance, deterministic IDs, contact lists."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from golden_record.extract.canonical import CANONICAL_COLUMNS
from golden_record.golden import assign_persistent_ids
from golden_record.golden.records import build_golden_records, presentable
from golden_record.matching.evaluation import pairwise_scores
from golden_record.standardise.fields import standardise


def _records() -> pd.DataFrame:
    rows = [
        # source, id, first, surname, dob, email, phone, line1, postcode, updated
        (
            "portal",
            "p1",
            "bob",
            "smith",
            "03/02/1980",
            "BOB@EXAMPLE.ORG",
            "07700900123",
            "1 Old Road",
            "AB1 2CD",
            "2026-10-01T00:00:00",
        ),
        (
            "housing",
            "h1",
            "Robert",
            "Smith",
            "03/02/1980",
            None,
            "07700900999",
            "9 New Street",
            "AB1 9ZZ",
            "2025-01-01T00:00:00",
        ),
        (
            "revenues",
            "r1",
            "ROBERT",
            "SMITH",
            None,
            None,
            None,
            "9 New Street",
            "AB1 9ZZ",
            "2026-09-01T00:00:00",
        ),
        (
            "revenues",
            "r2",
            "JANE",
            "DOE",
            None,
            None,
            None,
            "5 Lane",
            "CD3 4EF",
            "2026-09-01T00:00:00",
        ),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "source_system",
            "source_record_id",
            "first_name",
            "surname",
            "date_of_birth",
            "email",
            "phone",
            "address_line_1",
            "postcode",
            "source_updated_at",
        ],
    )
    return frame.reindex(columns=list(CANONICAL_COLUMNS)).astype("string")


def _golden():
    canonical = _records()
    standardised = standardise(canonical)
    clusters = pd.DataFrame(
        {
            "unique_id": standardised["unique_id"],
            "cluster_id": ["c1", "c1", "c1", "c2"],
            "cluster_match_probability": [0.999, 0.999, 0.995, None],
        }
    )
    outcome = assign_persistent_ids(
        clusters, clusters.head(0).assign(golden_id=""), pd.Series(), "r1"
    )
    membership = outcome.membership.merge(clusters, on="unique_id")
    return build_golden_records(presentable(canonical, standardised), membership), membership


def test_each_attribute_comes_from_the_most_trusted_source_and_says_so():
    golden, _ = _golden()
    robert = golden[golden["source_record_count"] == 3].iloc[0]
    assert (robert["first_name"], robert["name_source"]) == ("Robert", "housing:h1")
    assert (robert["address_line_1"], robert["address_source"]) == ("9 New Street", "revenues:r1")
    assert (robert["email"], robert["email_source"]) == ("bob@example.org", "portal:p1")
    assert (robert["phone"], robert["phone_source"]) == ("+447700900123", "portal:p1")
    assert robert["date_of_birth"] == "1980-02-03"
    assert robert["source_systems"] == "housing,portal,revenues"


def test_new_golden_ids_are_deterministic_for_a_run_and_opaque():
    first, _ = _golden()
    second, _ = _golden()
    assert first["golden_id"].tolist() == second["golden_id"].tolist()
    assert first["golden_id"].str.match(r"^GR[0-9A-F]{20}$").all()


def test_every_distinct_contact_stays_listed_newest_first():
    golden, _ = _golden()
    robert = golden[golden["source_record_count"] == 3].iloc[0]
    assert json.loads(robert["emails"])[0] == robert["email"] or robert["email"] in json.loads(
        robert["emails"]
    )
    addresses = json.loads(robert["addresses"])
    assert len(addresses) == len(set(addresses)) >= 2
    assert robert["address_source_system"] == "revenues"
    assert robert["address_source_updated_at"]


def test_pairwise_scores_count_pairs_from_group_sizes():
    labelled = pd.DataFrame(
        {"predicted": ["a", "a", "a", "b", "c"], "truth": ["x", "x", "y", "y", "z"]}
    )
    scores = pairwise_scores(labelled, "predicted", "truth")
    assert (scores.predicted_pairs, scores.true_pairs, scores.true_positive_pairs) == (3, 2, 1)
    assert scores.precision == pytest.approx(1 / 3) and scores.recall == pytest.approx(1 / 2)
