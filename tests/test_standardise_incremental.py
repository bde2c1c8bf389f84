"""A night standardised on an earlier night's rows writes what standardising all writes.

The edge that makes reuse subtle is the run's date: a date of birth after the earlier
night (a typo, or a baby registered ahead) was implausible then and is plausible tonight
although its canonical record did not change.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from golden_record.extract.canonical import conform_all, unique_ids
from golden_record.standardise.fields import standardise
from golden_record.standardise.incremental import (
    EarlierStandardised,
    standardise_night,
    why_not_reuse,
)

FIRST, TONIGHT = date(2026, 11, 30), date(2026, 12, 3)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = conform_all(frame.astype("string"))
    return frame.assign(unique_id=unique_ids(frame))


def _row(record_id: str, **values: str) -> dict:
    row = {
        "source_system": "housing",
        "source_record_id": record_id,
        "title": "Mrs",
        "first_name": "Peggy",
        "middle_names": None,
        "surname": "O'Neill",
        "date_of_birth": "02/03/1961",
        "email": f"{record_id.lower()}@example.org",
        "phone": "07700 900123",
        "address_line_1": "7 Mill Lane",
        "address_line_2": None,
        "address_line_3": None,
        "town": "Bristol",
        "postcode": "BS7 8AA",
        "uprn": "100000999999",
        "ni_number": "AB123456C",
        "source_updated_at": "2026-11-01T00:00:00Z",
    }
    return row | values


@pytest.fixture
def earlier(tmp_path):
    rows = [_row(f"HP{i:08d}") for i in range(40)]
    rows[3] = _row("HP00000003", date_of_birth="2026-12-02")  # after FIRST, before TONIGHT
    rows[4] = _row("HP00000004", date_of_birth="1906-12-01")  # 120 years before FIRST only
    keyed = _keyed(pd.DataFrame(rows))
    night = standardise_night(keyed, FIRST)
    assert night.about["mode"] == "full"
    records, hashes = tmp_path / "standardised.parquet", tmp_path / "hashes.parquet"
    night.records.to_parquet(records, index=False)
    night.hashes.to_parquet(hashes, index=False)
    return rows, EarlierStandardised("2026-11-30", night.about, records, hashes)


def test_a_night_on_an_earlier_nights_rows_equals_standardising_all(earlier, tmp_path):
    rows, before = earlier
    tonight = [dict(r) for r in rows]
    tonight[10]["email"] = "moved.on@example.net"
    tonight[11]["postcode"] = "bs16 1qy"
    del tonight[20]
    tonight.insert(5, _row("HP00000999", first_name="Sandy", date_of_birth="1980-01-01"))
    keyed = _keyed(pd.DataFrame(tonight))

    night = standardise_night(keyed, TONIGHT, before)
    assert night.about["mode"] == "incremental" and night.about["base_run"] == "2026-11-30"
    assert night.about["standardised"] == 3 and night.about["reused"] == len(tonight) - 3

    full = standardise(keyed.drop(columns=["unique_id"]), as_of=TONIGHT)
    ours, theirs = tmp_path / "ours.parquet", tmp_path / "theirs.parquet"
    night.records.to_parquet(ours, index=False)
    full.to_parquet(theirs, index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(ours), pd.read_parquet(theirs))
    dates = pd.read_parquet(ours).set_index("source_record_id")["date_of_birth"]
    assert dates["HP00000003"] == "2026-12-02"  # plausible tonight, though unchanged
    assert pd.isna(dates["HP00000004"])  # more than 120 years before tonight


def test_other_code_or_other_columns_are_standardised_in_full(earlier):
    rows, before = earlier
    keyed = _keyed(pd.DataFrame(rows))
    assert why_not_reuse(before, list(keyed.columns)) is None
    other_code = EarlierStandardised(
        before.run_key, {**before.about, "standardiser": "0" * 12}, before.records_file,
        before.hashes_file,
    )  # fmt: skip
    assert "other code" in why_not_reuse(other_code, list(keyed.columns))
    assert "other columns" in why_not_reuse(before, [*keyed.columns, "nickname"])
    night = standardise_night(keyed, TONIGHT, other_code)
    assert night.about["mode"] == "full" and night.about["standardised"] == len(rows)


def test_a_quiet_night_reuses_every_row(earlier):
    rows, before = earlier
    night = standardise_night(_keyed(pd.DataFrame(rows)), FIRST, before)
    assert night.about["standardised"] == 0 and night.about["reused"] == len(rows)
