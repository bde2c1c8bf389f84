"""The synthetic council generator: native shapes, ground truth, hard cases, determinism."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from devtools.generate import ErrorModel, generate
from devtools.generate.pools import build_pools, name_scale, streets_for
from golden_record.standardise.fields import _NI_NUMBER, _POSTCODE


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix != ".db":
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    for db in sorted(folder.glob("*.db")):
        with sqlite3.connect(db) as connection:
            for line in connection.iterdump():
                digest.update(line.encode())
    return digest.hexdigest()


def test_same_seed_gives_identical_data_and_another_seed_does_not(tmp_path):
    first = generate(300, 11, tmp_path / "a")
    second = generate(300, 11, tmp_path / "b")
    other = generate(300, 12, tmp_path / "c")
    assert _digest(first.out) == _digest(second.out)
    assert _digest(first.out) != _digest(other.out)


def test_name_and_street_pools_grow_past_a_county_and_not_below():
    # Councils up to 600,000 people draw from en_GB's pools as they always did.
    assert build_pools(3, streets_for(600_000), names=name_scale(600_000)) == build_pools(3)
    county = build_pools(3, streets_for(2_600_000), names=name_scale(2_600_000))
    plain = build_pools(3)
    # Forename × surname combinations grow with the people (4.3 times here).
    combinations = len(county.surnames) * len(county.male_first)
    assert combinations / (len(plain.surnames) * len(plain.male_first)) == pytest.approx(
        2_600_000 / 600_000, rel=0.01
    )
    assert county.surnames[:500] == plain.surnames
    assert len(set(county.surnames)) == len(county.surnames) == len(county.surname_weights)
    assert not set(county.male_first) & set(county.female_first)
    assert len(county.streets) == 2_600_000 // 150
    assert county == build_pools(3, streets_for(2_600_000), names=name_scale(2_600_000))


def test_each_source_has_its_own_native_shape(sample):
    with sqlite3.connect(sample.paths["revenues"]) as connection:
        party_columns = [r[1] for r in connection.execute("PRAGMA table_info(ctax_liable_party)")]
    with sqlite3.connect(sample.paths["housing"]) as connection:
        person_columns = [r[1] for r in connection.execute("PRAGMA table_info(tenancy_person)")]
    waste_file = next(sample.paths["waste"].glob("waste_contacts_*.csv"))
    waste_columns = pd.read_csv(waste_file, nrows=1).columns.tolist()
    portal_record = json.loads(sample.paths["portal"].read_text().splitlines()[0])

    assert "forename" in party_columns and "ni_no" not in party_columns
    assert "given_names" in person_columns and "ni_no" in person_columns
    assert "CONTACT_NAME" in waste_columns and "UPRN" in waste_columns
    assert set(portal_record["name"]) == {"given", "family"} and portal_record["email"]


def test_ground_truth_covers_every_source_record(sample):
    truth = pd.read_csv(sample.paths["ground_truth"], dtype=str)
    assert len(truth) == sample.total_records
    assert truth.groupby("source_system").size().to_dict() == sample.records
    assert not truth.duplicated(["source_system", "source_record_id"]).any()
    # Duplicates exist: fewer true people than records, and some span several sources.
    spans = truth.groupby("person_id")["source_system"].nunique()
    assert truth["person_id"].nunique() < len(truth)
    assert (spans >= 3).any()


def test_households_hold_the_hard_cases(sample):
    cases = pd.read_csv(sample.paths["hard_cases"])
    counts = cases["relation"].value_counts()
    assert counts["spouses"] > 50
    assert counts["twins"] > 0
    assert counts["parent_child_same_name"] > 0


def test_values_look_like_uk_data(sample):
    with sqlite3.connect(sample.paths["housing"]) as connection:
        ni_numbers = [r[0] for r in connection.execute("SELECT ni_no FROM tenancy_person")]
        postcodes = [r[0] for r in connection.execute("SELECT post_code FROM tenancy")]
    present = [n for n in ni_numbers if n]
    assert present and all(_NI_NUMBER.match(n) for n in present)
    compact = [re.sub(r"[^A-Z0-9]", "", p.upper()) for p in postcodes]
    valid_share = sum(bool(_POSTCODE.match(p)) for p in compact) / len(compact)
    assert 0.95 < valid_share < 1.0  # a few invalid ones are injected on purpose


def test_waste_names_are_single_field_and_portal_always_has_email(sample):
    waste_file = next(sample.paths["waste"].glob("waste_contacts_*.csv"))
    names = pd.read_csv(waste_file, dtype=str)["CONTACT_NAME"]
    assert names.str.match(r"^(Mr|Mrs|Miss|Ms|Dr) [A-Z] \w").any()  # 'Mr J Smith'
    portal = [json.loads(line) for line in sample.paths["portal"].read_text().splitlines()]
    assert all(record["email"] for record in portal)


def test_error_rates_are_tunable(tmp_path):
    overrides = tmp_path / "errors.json"
    overrides.write_text(json.dumps({"dob_missing_revenues": 1.0, "typo_surname": 0.0}))
    model = ErrorModel.from_json(overrides)
    assert model.dob_missing_revenues == 1.0 and model.typo_surname == 0.0
    data = generate(200, 5, tmp_path / "out", errors=model)
    with sqlite3.connect(data.paths["revenues"]) as connection:
        dobs = connection.execute("SELECT COUNT(dob) FROM ctax_liable_party").fetchone()[0]
    assert dobs == 0
    assert ErrorModel().scaled(0.0).typo_first_name == 0.0
    assert ErrorModel().scaled(0.0).household_couple == ErrorModel().household_couple


def test_error_model_file_with_unknown_rate_is_refused(tmp_path):
    bad = tmp_path / "errors.json"
    bad.write_text(json.dumps({"typo_forename": 0.1}))
    with pytest.raises(ValueError, match="unknown rates: typo_forename"):
        ErrorModel.from_json(bad)


def test_the_benchmarks_source_edits_change_every_source_but_waste(sample, tmp_path):
    import shutil
    import sqlite3

    from devtools.benchmarks.source_edits import edit_sources

    council = tmp_path / "council"
    shutil.copytree(sample.out, council)
    lines_before = (council / "portal" / "customers.jsonl").read_text().splitlines()
    changed = edit_sources(council, "2026-11-02 12:00:00", offset=1, prefix="dddd")
    assert changed["revenues"] > 0 and changed["housing"] > 0
    assert changed["portal_signed_up"] > 0 and changed["portal_deleted"] >= 0
    lines_after = (council / "portal" / "customers.jsonl").read_text().splitlines()
    assert len(lines_after) == (
        len(lines_before) - changed["portal_deleted"] + changed["portal_signed_up"]
    )
    with sqlite3.connect(council / "revenues.db") as revenues:
        stamped = revenues.execute(
            "SELECT count(*) FROM ctax_liable_party WHERE last_modified = '2026-11-02 12:00:00'"
        ).fetchone()[0]
    assert stamped > 0


def test_parking_holds_several_permits_per_holder_and_companies_at_residents_homes(sample):
    import sqlite3

    with sqlite3.connect(sample.paths["parking"]) as connection:
        holders = pd.read_sql_query("SELECT * FROM permit_holder", connection)
        permits = pd.read_sql_query("SELECT * FROM permit", connection)
    per_holder = permits.groupby("holder_id").size()
    assert set(per_holder.index) == set(holders["holder_id"])
    assert (per_holder >= 2).mean() > 0.2  # a second vehicle or visitor permits
    assert permits["vrm"].dropna().str.fullmatch(r"[A-Z]{2}\d{2} [A-Z]{3}").all()
    # Each holder's permits are in the zone of the holder's street.
    zones = permits.merge(holders[["holder_id", "zone"]], on="holder_id", suffixes=("", "_h"))
    assert (zones["zone"] == zones["zone_h"]).all()
    business = holders[holders["holder_type"] == "BUSINESS"]
    assert len(business) == sample.not_persons["parking"] > 0
    assert business["last_name"].str.endswith(" Ltd").all() and business["first_name"].isna().all()
    # A company's permit at its owner's home, with the owner's mobile: a must-never-merge
    # pair whose truth is an entity of its own, not the owner.
    truth = pd.read_csv(sample.paths["ground_truth"], dtype=str)
    cases = pd.read_csv(sample.paths["hard_cases"], dtype=str)
    companies = cases[cases["relation"] == "company_of_resident"]
    assert len(companies) == len(business)
    owned_by = truth.set_index("source_record_id").loc[business["holder_id"], "person_id"]
    assert set(owned_by) == set(companies["person_b"])
    assert not set(owned_by) & set(truth[truth["source_system"] != "parking"]["person_id"])


def test_libraries_hold_children_with_birth_dates_and_their_parents_emails(sample):
    drop = next(sample.paths["libraries"].glob("library_borrowers_*.csv"))
    borrowers = pd.read_csv(drop, dtype=str, keep_default_na=False)
    assert borrowers["CARD_NUMBER"].str.fullmatch(r"\d{14}").all()
    assert borrowers["CARD_NUMBER"].is_unique
    juniors = borrowers[borrowers["BORROWER_CATEGORY"] == "JUNIOR"]
    adults = borrowers[borrowers["BORROWER_CATEGORY"] == "ADULT"]
    assert len(juniors) > 20 and len(adults) > 100
    # A child's card nearly always records the date of birth; an adult's seldom does.
    assert (juniors["DATE_OF_BIRTH"] != "").mean() > 0.85
    assert (adults["DATE_OF_BIRTH"] != "").mean() < 0.45
    born = pd.to_datetime(juniors["DATE_OF_BIRTH"], format="%d-%m-%Y", errors="coerce").dropna()
    assert born.between(pd.Timestamp("2010-01-01"), pd.Timestamp("2023-01-01")).all()
    # Children only libraries hold, some carrying a parent's email (a household sharing
    # one library card email): pairs that must never merge.
    truth = pd.read_csv(sample.paths["ground_truth"], dtype=str)
    children = set(truth[truth["source_record_id"].isin(juniors["CARD_NUMBER"])]["person_id"])
    assert not children & set(truth[truth["source_system"] != "libraries"]["person_id"])
    cases = pd.read_csv(sample.paths["hard_cases"], dtype=str)
    shared = cases[cases["relation"] == "parent_child_shared_email"]
    assert len(shared) > 5 and set(shared["person_b"]) <= children
    card_of = truth[truth["source_system"] == "libraries"].set_index("person_id")[
        "source_record_id"
    ]
    email_of = juniors.set_index("CARD_NUMBER")["EMAIL"]
    assert all(email_of[card_of[child]] != "" for child in shared["person_b"])
