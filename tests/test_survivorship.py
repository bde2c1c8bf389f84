"""Survivorship rules from the TOML file: each rule decides, bad files are refused clearly."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from golden_record.golden.survivorship import SurvivorshipConfigError, choose, load
from tests.test_golden_store import COLUMNS, person


def _frame(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=COLUMNS)
    frame["golden_id"] = "G1"
    return frame


def test_a_valid_postcode_beats_a_newer_invalid_one():
    old_valid = person("revenues:1", postcode="AB1 2CD", updated="2025-01-01")
    new_invalid = person("portal:1", postcode="ZZ", updated="2026-06-01")
    golden = choose(_frame(old_valid, new_invalid)).iloc[0]
    assert golden["postcode"] == "AB1 2CD"
    assert golden["address_source"] == "revenues:1"


def test_the_newest_address_beats_a_more_trusted_stale_one():
    stale = person("revenues:1", postcode="AB1 2CD", updated="2024-01-01")
    moved = person("portal:1", postcode="LS1 4AP", updated="2026-06-01")
    golden = choose(_frame(stale, moved)).iloc[0]
    assert (golden["postcode"], golden["address_source_system"]) == ("LS1 4AP", "portal")
    assert len(json.loads(golden["addresses"])) == 2


def test_names_follow_the_trust_ranking_whatever_the_date():
    housing = person("housing:1", first="Robert", updated="2020-01-01")
    portal = person("portal:1", first="Bob", updated="2026-01-01")
    golden = choose(_frame(housing, portal)).iloc[0]
    assert (golden["first_name"], golden["name_source"]) == ("Robert", "housing:1")
    assert golden["name_source_updated_at"] == "2020-01-01"


def test_an_unknown_rule_is_refused_naming_the_file_and_attribute(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[attributes.email]\ncolumns = ["email"]\nrules = ["loudest"]\n')
    with pytest.raises(SurvivorshipConfigError, match=r"rules.toml: attribute 'email'.*'loudest'"):
        load(path)


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[attributes.email\n")
    with pytest.raises(SurvivorshipConfigError, match="not valid TOML"):
        load(path)


def test_a_rule_naming_a_missing_column_is_refused(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[attributes.email]\ncolumns = ["e_mail"]\nrules = ["most_recent"]\n')
    with pytest.raises(SurvivorshipConfigError, match="lack column.*e_mail"):
        choose(_frame(person("portal:1")), load(path))


def test_list_values_are_json_whatever_they_hold_in_the_order_given():
    from golden_record.golden.survivorship import _json_lists

    values = pd.Series(
        ['Flat "A"', "C:\\path", "Zoë's", "tab\there", "plain", None, "plain", "\x7f", "日本"]
    )
    golden_id = pd.Series(["g2", "g1", "g2", "g1", "g2", "g2", "g2", "g3", "g3"])
    listed = _json_lists(values, golden_id)
    assert {k: json.loads(v) for k, v in listed.items()} == {
        "g2": ['Flat "A"', "Zoë's", "plain"],
        "g1": ["C:\\path", "tab\there"],
        "g3": ["\x7f", "日本"],
    }
    # As json.dumps writes each value (non-ASCII escaped), joined by commas.
    assert listed["g3"] == "[" + ",".join(json.dumps(v) for v in ["\x7f", "日本"]) + "]"
