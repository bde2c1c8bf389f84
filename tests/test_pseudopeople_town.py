"""pseudopeople's town read as canonical records, and the benchmark's measures by group.

pseudopeople itself runs in its own environment (``make pseudopeople-data``); here a few
rows in its column shapes stand in for its export, so the mapping is tested in every
``make test``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from devtools.benchmarks.accuracy import recall_by_group
from devtools.benchmarks.pseudopeople_town import SYSTEMS, ni_shaped, read_town
from golden_record.matching.stage import standardise_records


def test_every_social_security_number_has_its_own_ni_shaped_number_the_standardiser_keeps():
    from golden_record.standardise.fields import ni_number

    numbers = [f"{area:03d}-{group:02d}-{serial:04d}" for area in range(1000) for group, serial
               in ((12, 3456), (99, 1))]  # fmt: skip
    shaped = [ni_shaped(n) for n in numbers]
    assert len(set(shaped)) == len(numbers)  # one to one
    kept = ni_number(pd.Series(shaped, dtype="string"))
    assert kept.notna().all(), kept[kept.isna()].index[:5].tolist()
    assert ni_shaped("123-45-678") is None and ni_shaped(None) is None


def _export(folder, rows: dict[str, list[dict]]) -> None:
    folder.mkdir(parents=True)
    for dataset in SYSTEMS:
        pd.DataFrame(rows.get(dataset, [])).astype("string").to_parquet(
            folder / f"{dataset}.parquet", index=False
        )
    (folder / "manifest.json").write_text(json.dumps({"pseudopeople": "test", "rows": {}}))


def test_the_town_maps_each_agencys_fields_and_reads_dates_in_their_own_order(tmp_path):
    person = {"simulant_id": "0_1", "first_name": "Diana", "middle_initial": "P",
              "last_name": "Kofron", "street_number": "5112", "street_name": "145th st",
              "unit_number": None, "city": "Anytown", "zipcode": "00000", "sex": "Female",
              "race_ethnicity": "White"}  # fmt: skip
    _export(
        tmp_path / "noise-1",
        {
            "decennial_census": [{**person, "date_of_birth": "05/06/1994"}],
            "american_community_survey": [{**person, "date_of_birth": "05/06/1994"}],
            "women_infants_and_children": [
                {**person, "date_of_birth": "13/45/1994", "race_ethnicity": "Latino"}
            ],
            "social_security": [
                {
                    "simulant_id": "0_1",
                    "ssn": "786-77-6454",
                    "first_name": "Diana",
                    "middle_name": "Patricia",
                    "last_name": "Kofron",
                    "date_of_birth": "19940506",
                    "sex": "Female",
                }  # fmt: skip
            ],
            "taxes_w2_and_1099": [
                {
                    "simulant_id": "0_1",
                    "ssn": "786-77-6454",
                    "first_name": "Di",
                    "middle_initial": "P",
                    "last_name": "Kofron",
                    "mailing_address_street_number": "9",
                    "mailing_address_street_name": "po rd",
                    "mailing_address_city": "Othertown",
                }  # fmt: skip
            ],
        },
    )
    town = read_town(tmp_path / "noise-1")
    records = town.records.set_index("source_system")
    assert records.loc["census", "date_of_birth"] == "1994-05-06"  # May, not 5 June
    assert records.loc["ssa", "date_of_birth"] == "1994-05-06"
    assert pd.isna(records.loc["wic", "date_of_birth"])  # unreadable: left missing
    assert records.loc["census", "address_line_1"] == "5112 145th st"
    assert pd.isna(records.loc["census", "postcode"])  # the placeholder ZIP left out
    assert records.loc["tax", "town"] == "Othertown"
    assert (
        records.loc["ssa", "ni_number"]
        == records.loc["tax", "ni_number"]
        == ni_shaped("786-77-6454")
    )
    assert set(town.truth["person_id"]) == {"0_1"} and len(town.truth) == 5
    # Each person's group as most of their records give it.
    assert town.groups.set_index("person_id").loc["0_1"].to_dict() == {
        "sex": "Female",
        "race_ethnicity": "White",
    }
    standardise_records(town.records)  # the canonical contract holds


def test_a_town_not_exported_says_how_to_export_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="make pseudopeople-data"):
        read_town(tmp_path / "noise-1")


def test_recall_by_group_counts_each_groups_own_true_pairs():
    labelled = pd.DataFrame(
        {
            "unique_id": list("abcdef"),
            "cluster_id": ["1", "1", "2", "3", "4", "4"],
            "person_id": ["p", "p", "q", "q", "r", "r"],
        }
    )
    groups = pd.DataFrame({"person_id": ["p", "q", "r"], "sex": ["F", "M", "F"]})
    found = recall_by_group(labelled, groups)["sex"]
    assert found == {
        "F": {"recall": 1.0, "true_pairs": 2},
        "M": {"recall": 0.0, "true_pairs": 1},
    }
    assert recall_by_group(labelled, None) == {}
