"""Source systems are declared, not coded: the packaged declarations, the mistakes a
declaration can hold (each refused naming the file, the source and the field), and a
system added with a declaration and its data alone, run through a night to the CRM."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from night_runner import FIRST, SECOND, Council, stamp_before

from golden_record.extract.declaration import (
    PACKAGED,
    DeclarationError,
    declared_sources,
    mapped_columns,
)
from golden_record.extract.sources import SourceDataError

pytestmark = pytest.mark.faults


def test_the_packaged_file_declares_the_sample_council_s_four_systems():
    declared = declared_sources(PACKAGED)
    assert declared.names == ("revenues", "housing", "waste", "portal")
    kinds = {s.name: s.kind for s in declared.sources}
    assert kinds == {
        "revenues": "sql",
        "housing": "sql",
        "waste": "csv_drop",
        "portal": "http_json",
    }
    for source in declared.sources:
        assert source.purpose and source.lawful_basis and source.data_owner
        assert source.retention_days >= 1
    revenues = declared["revenues"]
    assert revenues.watermark == "last_modified" and "FROM ctax_liable_party" in revenues.query
    assert "addr_4" in mapped_columns(revenues)
    assert declared["waste"].watermark is None and declared["waste"].query is None


def _write(folder: Path, text: str) -> Path:
    path = folder / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


_GOOD = """
version = 1
[sources.parking]
kind = "sql"
connection = "golden_parking"
key = "holder_id"
watermark = "updated_at"
query = "SELECT * FROM permit_holder WHERE updated_at > :watermark"
keys_query = "SELECT holder_id FROM permit_holder"
purpose = "Issuing parking permits"
lawful_basis = "UK GDPR Art. 6(1)(e) public task"
data_owner = "Head of Parking Services"
retention_days = 30
[sources.parking.canonical]
surname = "last_name"
"""


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (('kind = "sql"', 'kind = "oracle_forms"'), "kind", "unknown kind 'oracle_forms'"),
        (('key = "holder_id"\n', ""), "key", "missing"),
        (('surname = "last_name"', 'surename = "last_name"'), "canonical.surename", "not a field"),
        (
            ('surname = "last_name"', 'surname = { upper = "last_name" }'),
            "canonical.surname",
            "expected one transform",
        ),
        (
            ('surname = "last_name"', 'surname = { join = "last_name" }'),
            "canonical.surname.join",
            "a list of column names",
        ),
        (("retention_days = 30", "retention_days = 0"), "retention_days", "at least 1"),
        (
            (
                'query = "SELECT * FROM permit_holder WHERE updated_at > :watermark"',
                'query = "parking.sql"',
            ),
            "query",
            "query file parking.sql not found",
        ),
        (('data_owner = "Head of Parking Services"\n', ""), "data_owner", "missing"),
        (
            ('connection = "golden_parking"', 'conection = "golden_parking"'),
            "conection",
            "not a field",
        ),
    ],
)
def test_a_mistake_in_a_declaration_is_refused_naming_file_source_and_field(
    tmp_path, change, field, problem
):
    # The declaration as it should be is read; the one with the mistake is not.
    assert declared_sources(_write(tmp_path, _GOOD)).names == ("parking",)
    assert change[0] in _GOOD
    path = _write(tmp_path, _GOOD.replace(*change))
    with pytest.raises(DeclarationError) as refused:
        declared_sources(path)
    message = str(refused.value)
    assert str(path) in message and "source 'parking'" in message, message
    assert f"field {field!r}" in message and problem in message, message


def test_two_sources_with_one_name_are_refused_with_the_line(tmp_path):
    path = _write(tmp_path, _GOOD + _GOOD.replace("version = 1", ""))
    with pytest.raises(DeclarationError, match=r"not valid TOML: .*line \d+"):
        declared_sources(path)


def test_a_mapped_column_the_source_lacks_is_bad_data_naming_source_field_and_column(tmp_path):
    declaration = declared_sources(_write(tmp_path, _GOOD))["parking"]
    from golden_record.extract.sources.sql_database import SqlDatabaseSource

    raw = pd.DataFrame(
        {"holder_id": ["P1"], "surname": ["Ng"], "updated_at": ["2026-11-01 10:00:00"]},
        dtype="string",
    )
    with pytest.raises(SourceDataError) as refused:
        SqlDatabaseSource(declaration).to_canonical(raw)
    message = str(refused.value)
    assert message.startswith("parking:") and "'last_name' to surname" in message, message


# ----- a seventh system, from its declaration and its data alone ------------------------

PARKING_DECLARATION = """
[sources.parking]
kind = "sql"
connection = "golden_parking"
key = "holder_id"
watermark = "updated_at"
query = "parking_extract.sql"
keys_query = "SELECT holder_id FROM permit_holder ORDER BY holder_id"
purpose = "Issuing resident and visitor parking permits"
lawful_basis = "UK GDPR Art. 6(1)(e) public task (Road Traffic Regulation Act 1984)"
data_owner = "Head of Parking Services"
retention_days = 60
categories = ["name", "date of birth", "contact details", "address", "vehicle"]

[sources.parking.canonical]
title = { code = "title_code", values = { "1" = "Mr", "2" = "Mrs", "3" = "Ms", "4" = "Dr" } }
first_name = { first_word = "holder_name" }
surname = { after_first_word = "holder_name" }
date_of_birth = { date = "born", format = "%d/%m/%Y" }
email = "email"
phone = { first_of = ["mobile", "landline"] }
address_line_1 = { join = ["house", "street"] }
town = "town"
postcode = "postcode"
"""

PARKING_SQL = """
-- Permit holders changed since the watermark; one row per holder however many permits.
SELECT holder_id, title_code, holder_name, born, email, mobile, landline,
       house, street, town, postcode, updated_at
FROM permit_holder
WHERE updated_at > :watermark
ORDER BY holder_id
"""

_TITLE_CODES = {"Mr": "1", "Mrs": "2", "Ms": "3", "Dr": "4"}


def _permit_holders_from_revenues(council: Council, count: int) -> pd.DataFrame:
    """Residents council tax already holds, as a parking system would have them keyed:
    its own ids, one name field, dates written day first, a code for the title."""
    with sqlite3.connect(council.sources / "revenues.db") as connection:
        people = pd.read_sql_query(
            "SELECT p.party_id, p.title, p.forename, p.surname, p.dob, p.email, p.telephone, "
            "a.addr_1, a.postcode FROM ctax_liable_party p "
            "JOIN ctax_account a ON a.account_ref = p.account_ref "
            "WHERE p.dob IS NOT NULL AND p.forename IS NOT NULL AND p.surname NOT LIKE '% %' "
            "AND p.forename NOT LIKE '% %' ORDER BY p.party_id LIMIT ?",
            connection,
            params=(count,),
        )
    house_street = people["addr_1"].fillna("").str.split(n=1, expand=True).reindex(columns=[0, 1])
    return pd.DataFrame(
        {
            "holder_id": [f"PK{i:05d}" for i in range(len(people))],
            "party_id": people["party_id"],
            "title_code": people["title"].map(_TITLE_CODES),
            "holder_name": people["forename"] + " " + people["surname"],
            "born": pd.to_datetime(people["dob"]).dt.strftime("%d/%m/%Y"),
            "email": people["email"],
            "mobile": people["telephone"],
            "landline": None,
            "house": house_street[0],
            "street": house_street[1],
            "town": None,
            "postcode": people["postcode"],
            "updated_at": stamp_before(FIRST),
        }
    )


def _python_files_under_src() -> dict[str, str]:
    src = Path(__file__).resolve().parents[1] / "src"
    return {
        str(path.relative_to(src)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(src.rglob("*.py"))
    }


def test_a_system_added_by_declaration_and_data_alone_runs_through_nights_to_the_crm(
    sample, tmp_path, monkeypatch
):
    from dataclasses import replace

    from sqlalchemy import create_engine, text

    before = _python_files_under_src()
    council = Council.generated(sample, tmp_path / "council")
    try:
        holders = _permit_holders_from_revenues(council, 40)
        parking_db = council.sources / "parking.db"
        with sqlite3.connect(parking_db) as connection:
            holders.drop(columns="party_id").to_sql("permit_holder", connection, index=False)
        folder = tmp_path / "deployment"
        folder.mkdir()
        (folder / "parking_extract.sql").write_text(PARKING_SQL, encoding="utf-8")
        declarations = folder / "sources.toml"
        declarations.write_text(PACKAGED.read_text() + PARKING_DECLARATION, encoding="utf-8")
        monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(declarations))
        council.settings = replace(
            council.settings,
            database_urls={**council.settings.database_urls, "parking": f"sqlite:///{parking_db}"},
        )
        assert declared_sources().names[-1] == "parking"

        night = council.night(FIRST)
        assert night.outcome == "published", night.failed or night.stopped_because
        engine = create_engine(council.crm_url)
        with engine.connect() as connection:
            xref = pd.read_sql_query(
                text(
                    "SELECT golden_id, source_system, source_record_id FROM golden_customer_source"
                ),
                connection,
            )
        parking = xref[xref["source_system"] == "parking"]
        assert sorted(parking["source_record_id"]) == sorted(holders["holder_id"])
        # Each permit holder joined the golden record of the council tax payer they are.
        golden_of = xref.set_index(xref["source_system"] + ":" + xref["source_record_id"])[
            "golden_id"
        ]
        same = [
            golden_of[f"parking:{h}"] == golden_of[f"revenues:{p}"]
            for h, p in zip(holders["holder_id"], holders["party_id"], strict=True)
        ]
        assert sum(same) >= 0.9 * len(same), sum(same)
        # The report names the system; the subject access answer holds its record.
        assert "parking" in Path(night.report_html).read_text(encoding="utf-8")
        from golden_record.rights import subject_access

        answer = subject_access.gather(
            council.store, golden_of["parking:PK00001"], council.data, council.crm_url
        )
        held = {(r["source_system"], r["source_record_id"]) for r in answer["source_records"]}
        assert ("parking", "PK00001") in held, held
        # The transforms did their work: titles from codes, day-first dates read.
        canonical = pd.read_parquet(council.run(FIRST).canonical("parking"))
        assert set(canonical["title"].dropna()) <= set(_TITLE_CODES)
        assert canonical["date_of_birth"].str.match(r"^\d{4}-\d\d-\d\d$").all()

        # The next night is incremental for it too: one holder changed, one gone.
        with sqlite3.connect(parking_db) as connection:
            connection.execute(
                "UPDATE permit_holder SET email = 'moved@example.org', updated_at = ? "
                "WHERE holder_id = 'PK00003'",
                (stamp_before(SECOND),),
            )
            connection.execute("DELETE FROM permit_holder WHERE holder_id = 'PK00004'")
        second = council.night(SECOND)
        assert second.outcome == "published", second.failed or second.stopped_because
        landed = second.results["extract"]["parking"]
        assert landed["mode"] == "incremental" and landed["raw_rows"] == 1, landed
        assert landed["deleted_rows"] == 1
    finally:
        council.close()
    assert _python_files_under_src() == before


def test_sources_check_names_a_mistake_and_tries_a_declared_database(tmp_path, capsys):
    from golden_record.cli.main import main

    broken = _write(tmp_path, _GOOD.replace('kind = "sql"', 'kind = "sqll"'))
    with pytest.raises(SystemExit) as exited:
        main(["sources", "check", "--file", str(broken)])
    assert exited.value.code == 1
    said = capsys.readouterr().err
    assert f"{broken}, source 'parking', field 'kind': unknown kind 'sqll'" in said, said

    db = tmp_path / "parking.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE permit_holder (holder_id, last_name, updated_at)")
        connection.execute("INSERT INTO permit_holder VALUES ('P1', 'Ng', '2026-11-01 09:00:00')")
    good = _write(tmp_path, _GOOD)
    with pytest.raises(SystemExit) as exited:
        main(["sources", "check", "--file", str(good), "--url", f"parking=sqlite:///{db}"])
    assert exited.value.code == 0
    said = capsys.readouterr().out
    assert "parking      sql       key holder_id, changes by updated_at" in said, said
    assert "parking: 1 rows read, 1 canonical records (first_name 0%, surname 100%" in said
