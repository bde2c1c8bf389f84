""" "Do we already know this person?": one person's details scored against the golden
records of the last accepted night, from Python, the command line and the plugin."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import RUN_DATE
from typer.testing import CliRunner

from golden_record import nights
from golden_record.cli import app
from golden_record.matching.lookup import Lookup, LookupError_, latest_accepted
from golden_record.run import Run

FIELDS = ["first_name", "surname", "date_of_birth", "postcode", "email", "phone"]


@pytest.fixture(scope="module")
def accepted(landed_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("lookup") / "data"
    shutil.copytree(landed_run, root)
    run = Run.of(RUN_DATE.isoformat(), root=root)
    nights.mark_accepted(run)
    return run


def _someone(run: Run, row: int = 11) -> tuple[dict, str]:
    """A revenues resident's details as the portal's sign-up would ask, and the golden
    record the night put them in."""
    canonical = pd.read_parquet(run.canonical("revenues"))
    person = canonical.dropna(subset=["email", "date_of_birth"]).iloc[row]
    xref = pd.read_parquet(run.golden.xref)
    golden = xref.loc[
        (xref["source_system"] == "revenues")
        & (xref["source_record_id"] == person["source_record_id"]),
        "golden_id",
    ].iloc[0]
    return {f: (None if pd.isna(person[f]) else str(person[f])) for f in FIELDS}, golden


def test_a_known_resident_is_found_with_the_reasons_and_a_stranger_is_not(accepted):
    assert latest_accepted(accepted.runs_dir) == accepted
    lookup = Lookup.of_night(accepted)
    details, golden_id = _someone(accepted)
    found = lookup.candidates(details)
    assert found[0].golden_id == golden_id
    assert found[0].match_probability > 0.99
    # In a steward's words, with the weight: "same date of birth (+9.8)".
    assert any(reason.startswith("same ") for reason in found[0].reasons), found[0].reasons
    # Asked in other spellings, as people type them at a sign-up.
    retyped = {**details, "first_name": details["first_name"].lower(), "email": None}
    assert lookup.candidates(retyped)[0].golden_id == golden_id
    stranger = {"first_name": "Zebedee", "surname": "Quillfeather", "postcode": "ZZ9 9ZZ"}
    assert lookup.candidates(stranger) == []


def test_a_question_without_a_surname_or_with_unknown_fields_is_refused(accepted):
    lookup = Lookup.of_night(accepted)
    with pytest.raises(LookupError_, match="at least a surname"):
        lookup.candidates({"first_name": "Ann"})
    with pytest.raises(LookupError_, match="unknown field shoe_size"):
        lookup.candidates({"surname": "Smith", "shoe_size": "9"})


def test_golden_record_lookup_on_the_command_line(accepted):
    details, golden_id = _someone(accepted, row=12)
    args = ["lookup", "--data", str(accepted.root)]
    for name, value in details.items():
        if value:
            args += [f"--{name.replace('_', '-')}", value]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    candidates = [line for line in result.output.splitlines() if line.startswith("  GR")]
    assert golden_id in candidates[0]
    assert "loading night" in result.output  # what it was doing, while it did it
    refused = CliRunner().invoke(app, ["lookup", "--surname", "Smith", "--data", "/nowhere"])
    assert refused.exit_code == 2 and "no accepted night" in refused.output


def test_the_indexed_blocking_keys_find_exactly_what_the_rules_pair(accepted):
    from golden_record.matching.lookup import _equalities, _questions

    assert _equalities('(l."postcode" = r."postcode") AND (SUBSTRING(l.first_name, 1, 1) = '
                       "SUBSTRING(r.first_name, 1, 1))") == [
        ('l."postcode"', 'r."postcode"'),
        ("SUBSTRING(l.first_name, 1, 1)", "SUBSTRING(r.first_name, 1, 1)"),
    ]  # fmt: skip
    assert _equalities("r.surname = l.first_name") == [("l.first_name", "r.surname")]
    assert _equalities("levenshtein(l.surname, r.surname) <= 1") is None
    lookup = Lookup.of_night(accepted)
    assert lookup.blocking.keys and not lookup.blocking.scanned
    canonical = pd.read_parquet(accepted.canonical("revenues")).head(25)
    rules = " OR ".join(f"({rule})" for rule in lookup.candidate_rules)
    assert set(lookup.rules) < set(lookup.candidate_rules)  # the search keys beside them
    questions = [
        {f: (None if pd.isna(person[f]) else str(person[f])) for f in FIELDS}
        for _, person in canonical.iterrows()
    ]
    asked = lookup.db_api.register(
        _questions(questions, list(range(500, 525)), lookup.as_of),
        dataset_display_name="checked_questions",
    )
    nearby = lookup.blocking.nearby(asked.physical_name)
    by_keys = set(
        zip(nearby["lookup_asked"].to_pylist(), nearby["unique_id"].to_pylist(), strict=True)
    )
    scanned = lookup.db_api._con.execute(
        f"SELECT l.lookup_asked, r.unique_id FROM {asked.physical_name} AS l, "
        f"{lookup.population.physical_name} AS r WHERE {rules}"
    ).fetchall()
    assert by_keys == set(scanned)
    # Each record itself is always found.
    assert {question for question, _ in by_keys} == set(range(500, 525))
