"""The recall ceilings the accuracy benchmark prints beside its scores."""

from __future__ import annotations

import pandas as pd

from devtools.benchmarks.ceilings import conflict_free_ceiling, shared_detail_ceiling
from golden_record.matching.inference import load_model
from golden_record.matching.levels import LevelWeights


def _records(rows) -> pd.DataFrame:
    columns = ["unique_id", "first_name", "surname", "date_of_birth", "email", "person"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("uprn", "postcode", "address_key", "phone", "ni_number"):
        frame[column] = None
    frame["first_name_variants"] = frame["first_name"].map(lambda n: [n])
    truth = pd.DataFrame(
        {
            "source_system": frame["unique_id"].str.split(":").str[0],
            "source_record_id": frame["unique_id"].str.split(":").str[1],
            "person_id": frame.pop("person"),
        }
    )
    return frame, truth


def test_a_record_sharing_only_a_name_is_out_of_reach_unless_chained():
    records, truth = _records(
        [
            ("a:1", "ann", "lee", "1980-01-01", None, "p1"),
            ("b:1", "ann", "lee", "1980-01-01", "ann@x.org", "p1"),
            ("c:1", "ann", "lee", None, "ann@x.org", "p1"),  # reached through b:1
            ("d:1", "ann", "lee", None, None, "p1"),  # a name and nothing else
        ]
    )
    # 6 true pairs; a, b and c are joined (3 pairs); d reaches nobody.
    assert shared_detail_ceiling(records, truth) == 3 / 6


def test_conflicting_records_of_one_person_cannot_share_a_cluster():
    records, truth = _records(
        [
            ("a:1", "kate", "rawlings", "1933-09-25", None, "p1"),
            ("a:2", "kate", "rawlings", "1933-09-25", None, "p1"),
            ("a:3", "connor", "rawlings", "1933-09-25", None, "p1"),  # forename replaced
            ("a:4", "bob", "moss", None, None, "p2"),
            ("a:5", "robert", "moss", None, None, "p2"),
        ]
    )
    records.loc[4, "first_name_variants"] = ["bob", "robert"]
    records.loc[3, "first_name_variants"] = ["bob", "robert"]
    # p1: 3 true pairs, best split {a1, a2} {a3} keeps 1; p2: 1 pair, nickname, kept.
    assert conflict_free_ceiling(records, truth, LevelWeights.of(load_model())) == 2 / 4
