"""Residents' rights over real nights, on SQLite and on PostgreSQL: a subject access
request holds exactly the person's records; an erased person is in no table of the store
or the CRM, in no file of the pipeline, and the next two nights do not bring them back
though the sources still hold them; a corrected email survives a night whose source
still has the old one, and ends when the source agrees; a restricted person leaves the
CRM's views and comes back when the restriction is lifted."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from night_runner import Council, postgresql_copy
from sqlalchemy import create_engine, text

from golden_record.extract.declaration import source_systems
from golden_record.rights import correction, erasure, restriction
from golden_record.rights.subject_access import gather
from tests.crm_fixtures import dump

FIRST, SECOND, THIRD, FOURTH = (date(2026, 11, d) for d in (2, 3, 4, 5))
OFFICER, BASIS = "ig.officer", "UK GDPR, request of 1 Nov"


@pytest.fixture
def council(published, tmp_path):
    import shutil

    shutil.copytree(published, tmp_path / "council")
    copy = Council(tmp_path / "council")
    yield copy
    copy.close()


@pytest.fixture
def council_on_postgresql(published_on_postgresql, tmp_path, postgres):
    council = postgresql_copy(published_on_postgresql, postgres, tmp_path / "council", "rights")
    yield council
    council.close()


def _canonical(council: Council, day: date) -> pd.DataFrame:
    return pd.read_parquet(council.run(day).standardised.canonical)


def _someone_everywhere(council: Council, day: date = FIRST) -> tuple[str, set[str], set[str]]:
    """A golden ID with records in four systems or more whose emails and phones no one else
    holds: the ID, its records, and those distinctive values."""
    xref = council.store.current_xref()
    systems = xref.assign(system=xref["unique_id"].str.split(":").str[0])
    spread = systems.groupby("golden_id")["system"].nunique()
    canonical = _canonical(council, day).merge(xref[["unique_id", "golden_id"]], on="unique_id")
    for golden_id in sorted(spread[spread >= 4].index):
        mine = canonical[canonical["golden_id"] == golden_id]
        values = {str(v) for c in ("email", "phone") for v in mine[c].dropna()}
        others = canonical[canonical["golden_id"] != golden_id]
        held_by_others = {str(v) for c in ("email", "phone") for v in others[c].dropna()}
        if len(values) >= 2 and not values & held_by_others:
            return golden_id, set(mine["unique_id"]), values
    raise AssertionError("no one with records in four systems and values of their own")


def _text_of(url: str) -> str:
    return json.dumps(dump(url), default=str)


def _files_holding(root: Path, needles: set[str]) -> list[str]:
    """Every Parquet file under ``root`` with a cell holding one of ``needles``."""
    found = []
    for path in sorted(root.rglob("*.parquet")):
        frame = pd.read_parquet(path)
        text_cells = frame.astype("string").to_numpy().ravel()
        if any(str(cell) in needles for cell in text_cells if cell is not pd.NA):
            found.append(str(path.relative_to(root)))
    return found


def _crm_rows(url: str, query: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(query), params)]
    finally:
        engine.dispose()


# ----- subject access -----------------------------------------------------------------


def _check_subject_access(council: Council, tmp_path: Path) -> None:
    golden_id, records, _ = _someone_everywhere(council)
    found = gather(council.store, golden_id, council.data, council.crm_url)
    assert {r["unique_id"] for r in found["source_records"]} == records
    systems = {r["source_system"] for r in found["source_records"]}
    assert systems == {r.split(":", 1)[0] for r in records} and len(systems) >= 4
    listed = json.dumps(found, default=str)
    others = set(council.store.current_xref()["unique_id"]) - records
    assert not [o for o in others if f'"{o}"' in listed]
    other_ids = set(council.store.current_xref()["golden_id"]) - set(found["golden_ids"])
    assert not [g for g in other_ids if g in listed]
    assert [r["golden_id"] for r in found["crm"]["published_now"]] == [golden_id]


def test_a_subject_access_request_lists_exactly_the_persons_records_in_four_systems(
    council, tmp_path
):
    _check_subject_access(council, tmp_path)


# ----- erasure ------------------------------------------------------------------------


def _check_erasure(council: Council, tmp_path: Path) -> None:
    golden_id, records, values = _someone_everywhere(council)
    ids = set(records) | {r.split(":", 1)[1] for r in records}
    assert any(v in _text_of(council.store_url) or v in _text_of(council.crm_url) for v in ids)
    done = erasure.erase(
        council.store,
        golden_id,
        OFFICER,
        "UK GDPR Art. 17",
        "the resident asked",
        council.data,
        council.crm_url,
        tmp_path / "out",
    )
    assert done["crm"]["published"], done["crm"]
    assert done["source_records_suppressed"] == len(records)
    deletion = pd.read_csv(done["deletion_list"], dtype=str)
    assert set(deletion["source_system"] + ":" + deletion["source_record_id"]) == records

    def nowhere(day: date | None) -> None:
        store_text, crm_text = _text_of(council.store_url), _text_of(council.crm_url)
        for needle in values | set(records):
            assert needle not in store_text, f"{needle} still in the store"
            assert needle not in crm_text, f"{needle} still in the CRM"
        assert not _crm_rows(
            council.crm_url,
            "SELECT golden_id FROM golden_customer_source WHERE golden_id = :g",
            g=golden_id,
        )
        assert not _files_holding(council.data, values | set(records))
        if day is not None:
            export = council.data / "crm_exports" / day.isoformat()
            text_of_export = "".join(p.read_text(encoding="utf-8") for p in export.glob("*.csv"))
            assert not [v for v in values | set(records) if v in text_of_export]

    nowhere(None)
    feed = _crm_rows(
        council.crm_url,
        "SELECT event, related_golden_id, changed_attributes FROM golden_change_feed"
        " WHERE golden_id = :g ORDER BY sequence",
        g=golden_id,
    )
    assert feed[-1] == ("erased", None, None)
    # The sources still hold the person, and housing even changes their record: the
    # next two nights leave them out (waste sends its whole file every night; the
    # incremental sources send what changed).
    person_ref = next(r for r in records if r.startswith("housing:")).split(":", 1)[1]
    assert council.housing_person(person_ref)
    council.housing(
        "UPDATE tenancy_person SET updated = '2026-11-02 12:00:00' "
        f"WHERE person_ref = '{person_ref}'"
    )
    in_waste = sum(r.startswith("waste:") for r in records)
    for day in (SECOND, THIRD):
        night = council.night(day)
        assert night.outcome == "published", night.failed
        extracted = night.results["extract"]
        assert extracted["waste"]["suppressed_rows"] == in_waste
        assert extracted["housing"]["suppressed_rows"] == (1 if day == SECOND else 0)
        nowhere(day)
    feed_after = _crm_rows(
        council.crm_url,
        "SELECT event FROM golden_change_feed WHERE golden_id = :g ORDER BY sequence",
        g=golden_id,
    )
    assert feed_after == [row[:1] for row in feed]  # nothing more about them
    # Erasing again is refused as done, and changes nothing.
    before = dump(council.crm_url)
    again = erasure.erase(
        council.store, golden_id, OFFICER, "UK GDPR Art. 17", "again", council.data,
        council.crm_url, tmp_path / "out",
    )  # fmt: skip
    assert again["resumed"] and dump(council.crm_url) == before


def test_an_erased_person_is_nowhere_and_two_nights_do_not_bring_them_back(council, tmp_path):
    _check_erasure(council, tmp_path)


# ----- rectification ------------------------------------------------------------------


def _golden_row(council: Council, golden_id: str) -> dict:
    engine = create_engine(council.crm_url)
    try:
        frame = pd.read_sql(
            text("SELECT * FROM crm_golden_customer WHERE golden_id = :g"),
            engine,
            params={"g": golden_id},
        )
    finally:
        engine.dispose()
    return frame.iloc[0].to_dict() if len(frame) else {}


def _someone_with_a_housing_email(council: Council) -> tuple[str, str]:
    """A golden ID whose email comes from a housing record (editable at source)."""
    golden = council.store.golden_records()
    chosen = golden[golden["email_source"].astype("string").str.startswith("housing:")]
    row = chosen.sort_values("golden_id").iloc[0]
    return str(row["golden_id"]), str(row["email_source"]).split(":", 1)[1]


def _check_rectification(council: Council) -> None:
    golden_id, person_ref = _someone_with_a_housing_email(council)
    old = _golden_row(council, golden_id)["email"]
    made = correction.correct(
        council.store, golden_id, "email", " New.Address@Example.ORG ", OFFICER, BASIS,
        "the resident says the old address is wrong", council.data,
    )  # fmt: skip
    assert f"housing:{person_ref}" in made["still_held_by"]
    night = council.night(SECOND)  # the source still holds the old address
    assert night.outcome == "published", night.failed
    row = _golden_row(council, golden_id)
    assert row["email"] == "new.address@example.org"
    assert row["email_source"] == f"correction:{made['correction_id']}"
    assert row["email_source_system"] == "steward"
    assert json.loads(row["emails"])[0] == "new.address@example.org"
    assert old not in json.loads(row["emails"])
    updated = _crm_rows(
        council.crm_url,
        "SELECT changed_attributes FROM crm_change_feed WHERE golden_id = :g AND event ="
        " 'updated' AND run_key = :r",
        g=golden_id,
        r=SECOND.isoformat(),
    )
    assert updated and "email" in str(updated[0][0])
    assert council.housing_person(person_ref)["email_address"] == old  # untouched at source

    # The source is put right: the correction has done its work and ends.
    council.housing(
        "UPDATE tenancy_person SET email_address = 'new.address@example.org', "
        f"updated = '{date(2026, 11, 3)} 12:00:00' WHERE person_ref = '{person_ref}'"
    )
    assert council.night(THIRD).outcome == "published"
    row = _golden_row(council, golden_id)
    assert row["email"] == "new.address@example.org"
    assert row["email_source"] == f"housing:{person_ref}"
    ended = correction.listed(council.store, golden_id).iloc[-1]
    assert ended["ended_how"] == "source agrees" and ended["ended_run"] == THIRD.isoformat()


def test_a_corrected_email_survives_a_night_whose_source_still_has_the_old_one(council):
    _check_rectification(council)


def test_a_withdrawn_correction_gives_the_attribute_back_to_the_sources(council):
    golden_id, _ = _someone_with_a_housing_email(council)
    old = _golden_row(council, golden_id)["email"]
    made = correction.correct(
        council.store, golden_id, "email", "someone.else@example.org", OFFICER, BASIS,
        "reported wrong", council.data,
    )  # fmt: skip
    assert council.night(SECOND).outcome == "published"
    assert _golden_row(council, golden_id)["email"] == "someone.else@example.org"
    correction.withdraw(council.store, made["correction_id"], OFFICER, BASIS, "a mistake")
    assert council.night(THIRD).outcome == "published"
    assert _golden_row(council, golden_id)["email"] == old


def test_a_correction_that_is_not_a_valid_value_is_refused_and_nothing_is_written(council):
    from golden_record.golden import StoreError

    golden_id, _ = _someone_with_a_housing_email(council)
    before = council.store_state()
    with pytest.raises(StoreError, match="is not a valid email"):
        correction.correct(
            council.store, golden_id, "email", "not an address", OFFICER, BASIS, "x", council.data
        )
    with pytest.raises(StoreError, match="no golden attribute 'shoe_size'"):
        correction.correct(
            council.store, golden_id, "shoe_size", "9", OFFICER, BASIS, "x", council.data
        )
    assert council.store_state() == before


# ----- restriction --------------------------------------------------------------------


def _check_restriction(council: Council) -> None:
    golden_id, records, _ = _someone_everywhere(council)
    shown = _golden_row(council, golden_id)
    assert shown
    done = restriction.restrict(
        council.store, golden_id, OFFICER, "UK GDPR Art. 18(1)(a)", "accuracy contested",
        council.crm_url, council.data,
    )  # fmt: skip
    assert done["crm"]["published"], done["crm"]
    assert not _golden_row(council, golden_id)
    assert not _crm_rows(
        council.crm_url,
        "SELECT 1 FROM crm_golden_customer_source WHERE golden_id = :g",
        g=golden_id,
    )
    night = council.night(SECOND)
    assert night.outcome == "published", night.failed
    assert not _golden_row(council, golden_id)
    # The store keeps the data and keeps it up to date.
    assert golden_id in set(council.store.golden_records()["golden_id"])
    events = _crm_rows(
        council.crm_url,
        "SELECT event FROM golden_change_feed WHERE golden_id = :g ORDER BY sequence",
        g=golden_id,
    )
    assert events[-1] == ("restricted",)
    restriction.lift(
        council.store, golden_id, OFFICER, "UK GDPR Art. 18(2)", "accuracy confirmed",
        council.crm_url, council.data,
    )  # fmt: skip
    back = _golden_row(council, golden_id)
    assert {k: v for k, v in back.items() if k != "changed_in_run"} == {
        k: v for k, v in shown.items() if k != "changed_in_run"
    }
    sources = _crm_rows(
        council.crm_url,
        "SELECT source_system || ':' || source_record_id FROM crm_golden_customer_source"
        " WHERE golden_id = :g",
        g=golden_id,
    )
    assert {s[0] for s in sources} == records
    events = _crm_rows(
        council.crm_url,
        "SELECT event FROM golden_change_feed WHERE golden_id = :g ORDER BY sequence",
        g=golden_id,
    )
    assert events[-2:] == [("restricted",), ("restriction_lifted",)]
    assert council.night(THIRD).outcome == "published"
    assert _golden_row(council, golden_id)


def test_a_restricted_person_leaves_the_crm_and_returns_when_lifted(council):
    _check_restriction(council)


def test_the_requests_are_audited_and_counted(council, tmp_path):
    from golden_record.rights.requests import counts, listed

    _check_restriction(council)
    made = listed(council.store)
    assert made["kind"].tolist() == ["restrict", "lift"]
    assert set(made["requested_by"]) == {OFFICER}
    assert counts(council.store) == {"restrict": 1, "lift": 1}
    # The run report counts them.
    night = council.night(FOURTH)
    report = json.loads(council.run(FOURTH).report_json.read_text(encoding="utf-8"))
    assert night.outcome == "published"
    assert report["rights"]["requests"] == {"restrict": 1, "lift": 1}
    assert report["rights"]["restricted"] == 0 and report["rights"]["suppressed_tonight"] == 0
    page = council.run(FOURTH).report_html.read_text(encoding="utf-8")
    assert "Residents' rights" in page and 'id="rights-now"' in page


# ----- the same on PostgreSQL ---------------------------------------------------------


@pytest.mark.parametrize("backend", ["postgresql"])
def test_every_right_with_store_and_crm_on_postgresql(council_on_postgresql, tmp_path, backend):
    council = council_on_postgresql
    _check_subject_access(council, tmp_path)
    _check_restriction(council)  # nights 2 and 3
    # A fresh person for the erasure (nights 4 and 5) and the correction (night 6).
    _check_erasure_from(council, tmp_path, (FOURTH, date(2026, 11, 6)))
    golden_id, _ = _someone_with_a_housing_email(council)
    correction.correct(
        council.store, golden_id, "email", "pg.fixed@example.org", OFFICER, BASIS, "wrong",
        council.data,
    )  # fmt: skip
    assert council.night(date(2026, 11, 7)).outcome == "published"
    assert _golden_row(council, golden_id)["email"] == "pg.fixed@example.org"


def _check_erasure_from(council: Council, tmp_path: Path, nights: tuple[date, date]) -> None:
    golden_id, records, values = _someone_everywhere(council, day=THIRD)
    erasure.erase(
        council.store, golden_id, OFFICER, "UK GDPR Art. 17", "asked", council.data,
        council.crm_url, tmp_path / "out",
    )  # fmt: skip
    for day in nights:
        assert council.night(day).outcome == "published"
        store_text, crm_text = _text_of(council.store_url), _text_of(council.crm_url)
        assert not [v for v in values | records if v in store_text or v in crm_text]
        assert not _files_holding(council.data, values | records)


# ----- the commands -------------------------------------------------------------------


def _everything(council: Council) -> tuple:
    """Every row of the store and the CRM and every file's bytes under the data folder."""
    files = {
        str(path.relative_to(council.data)): path.read_bytes()
        for path in sorted(council.data.rglob("*"))
        if path.is_file() and path.suffix not in (".db", ".db-journal", ".log")
    }
    return dump(council.store_url), dump(council.crm_url), files


def test_the_commands_an_officer_runs(council, tmp_path):
    from typer.testing import CliRunner

    from golden_record.cli import app

    golden_id, records, _ = _someone_everywhere(council)
    canonical = _canonical(council, FIRST)
    mine = canonical[canonical["unique_id"].isin(records) & canonical["date_of_birth"].notna()]
    person = mine.iloc[0]
    common = ["--store", council.store_url, "--by", OFFICER, "--basis", BASIS]
    data = ["--data", str(council.data)]
    runner = CliRunner()

    details = f"{person['first_name']} {person['surname']}, {person['date_of_birth']}"
    out = tmp_path / "out"
    found = runner.invoke(
        app, ["rights", "sar", "--find", details, "--out", str(out), *common, *data]
    )
    assert found.exit_code == 0, found.output
    listed_lines = found.output.splitlines()
    header = next(i for i, line in enumerate(listed_lines) if "candidate(s)" in line)
    assert golden_id in listed_lines[header + 1]  # the person first
    assert not out.exists()  # a search writes nothing
    neither = runner.invoke(app, ["rights", "sar", "--out", str(out), *common, *data])
    assert neither.exit_code == 2 and "--golden-id" in neither.output

    restricted = runner.invoke(
        app,
        [
            "rights",
            "restrict",
            golden_id,
            "--reason",
            "contested",
            "--crm",
            council.crm_url,
            *common,
            *data,
        ],
    )
    assert restricted.exit_code == 0, restricted.output
    assert (
        "restricted (request #1)" in restricted.output and "the CRM now shows" in restricted.output
    )
    twice = runner.invoke(
        app,
        [
            "rights",
            "restrict",
            golden_id,
            "--reason",
            "contested",
            "--crm",
            council.crm_url,
            *common,
            *data,
        ],
    )
    assert twice.exit_code == 2 and "already restricted" in twice.output
    lifted = runner.invoke(
        app,
        ["rights", "lift-restriction", golden_id, "--reason", "resolved", "--crm", council.crm_url]
        + [*common, *data],
    )
    assert lifted.exit_code == 0, lifted.output

    corrected = runner.invoke(
        app,
        [
            "rights",
            "correct",
            golden_id,
            "--field",
            "phone",
            "--value",
            "07700 900999",
            "--reason",
            "new",
        ]
        + [*common, *data],
    )
    assert corrected.exit_code == 0, corrected.output
    assert "it takes effect with the next night" in corrected.output
    withdrawn = runner.invoke(
        app, ["rights", "withdraw-correction", "1", "--reason", "typo", *common]
    )
    assert withdrawn.exit_code == 0, withdrawn.output

    erase = ["rights", "erase", golden_id, "--reason", "asked", "--out", str(tmp_path / "erasure")]
    erase += ["--crm", council.crm_url, *common, *data]
    before = _everything(council)
    dry = runner.invoke(app, [*erase, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"source records: {len(records)} (" in dry.output
    assert "dry run: nothing was changed" in dry.output
    declined = runner.invoke(app, erase, input="no\n")  # asked to type the golden ID
    assert declined.exit_code == 1 and f"not erased: {golden_id} was not typed" in declined.output
    assert _everything(council) == before  # neither the dry run nor the refusal wrote
    erased = runner.invoke(app, erase, input=f"{golden_id}\n")
    assert erased.exit_code == 0, erased.output
    assert f"erased {golden_id} (request #5)" in erased.output
    assert f"{len(records)} source record(s) suppressed" in erased.output
    # What the dry run listed is what went.
    store_rows = int(dry.output.split("golden store: ")[1].split(" ")[0])
    file_rows = int(dry.output.split("pipeline files: ")[1].split(" ")[0])
    assert f"{store_rows} store row(s) and {file_rows} file row(s) removed" in erased.output
    listed = runner.invoke(app, ["rights", "requests", "--store", council.store_url])
    kinds = [line.split()[2] for line in listed.output.splitlines()[1:]]
    assert kinds == ["restrict", "lift", "rectify", "withdraw", "erase"]
    gone = runner.invoke(
        app,
        ["rights", "sar", "--golden-id", golden_id, "--out", str(tmp_path / "sar"), *common, *data],
    )
    assert gone.exit_code == 2 and "no golden record" in gone.output


def test_without_the_suppression_key_the_extracts_refuse_rather_than_bring_anyone_back(
    council, tmp_path
):
    from golden_record.rights.suppression import key_file

    golden_id, records, _ = _someone_everywhere(council)
    erasure.erase(
        council.store, golden_id, OFFICER, BASIS, "asked", council.data, council.crm_url,
        tmp_path / "out",
    )  # fmt: skip
    crm_before = dump(council.crm_url)
    key = key_file(council.data)
    assert key.stat().st_mode & 0o777 == 0o600
    key.rename(tmp_path / "moved.key")
    night = council.night(SECOND)
    assert night.outcome == "stopped"
    assert all("no suppression key" in night.failed[f"extract_{s}"] for s in source_systems())
    assert dump(council.crm_url) == crm_before
    (tmp_path / "moved.key").rename(key)
    assert council.night(SECOND).outcome == "published"
    assert not set(council.store.current_xref()["unique_id"]) & records
