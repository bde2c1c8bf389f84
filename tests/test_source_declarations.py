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


def test_the_packaged_file_declares_the_sample_council_s_six_systems():
    declared = declared_sources(PACKAGED)
    assert declared.names == ("revenues", "housing", "waste", "portal", "parking", "libraries")
    kinds = {s.name: s.kind for s in declared.sources}
    assert kinds == {
        "revenues": "sql",
        "housing": "sql",
        "waste": "csv_drop",
        "portal": "http_json",
        "parking": "sql",
        "libraries": "csv_drop",
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

BADGES_DECLARATION = """
[sources.blue_badges]
kind = "sql"
connection = "golden_blue_badges"
key = "holder_id"
watermark = "updated_at"
query = "badges_extract.sql"
keys_query = "SELECT holder_id FROM badge_holder ORDER BY holder_id"
purpose = "Issuing Blue Badges (disabled persons' parking)"
lawful_basis = "UK GDPR Art. 6(1)(e) public task (Chronically Sick and Disabled Persons Act 1970)"
data_owner = "Head of Blue Badge Assessments"
retention_days = 60
categories = ["name", "date of birth", "contact details", "address", "disability"]

[sources.blue_badges.canonical]
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

BADGES_SQL = """
-- Badge holders changed since the watermark; one row per holder however many badges.
SELECT holder_id, title_code, holder_name, born, email, mobile, landline,
       house, street, town, postcode, updated_at
FROM badge_holder
WHERE updated_at > :watermark
ORDER BY holder_id
"""

_TITLE_CODES = {"Mr": "1", "Mrs": "2", "Ms": "3", "Dr": "4"}


def _badge_holders_from_revenues(council: Council, count: int) -> pd.DataFrame:
    """Residents council tax already holds, as a Blue Badge system would have them keyed:
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
            "holder_id": [f"BB{i:05d}" for i in range(len(people))],
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
        holders = _badge_holders_from_revenues(council, 40)
        badges_db = council.sources / "blue_badges.db"
        with sqlite3.connect(badges_db) as connection:
            holders.drop(columns="party_id").to_sql("badge_holder", connection, index=False)
        folder = tmp_path / "deployment"
        folder.mkdir()
        (folder / "badges_extract.sql").write_text(BADGES_SQL, encoding="utf-8")
        declarations = folder / "sources.toml"
        declarations.write_text(PACKAGED.read_text() + BADGES_DECLARATION, encoding="utf-8")
        monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(declarations))
        council.settings = replace(
            council.settings,
            database_urls={
                **council.settings.database_urls,
                "blue_badges": f"sqlite:///{badges_db}",
            },
        )
        assert declared_sources().names[-1] == "blue_badges"

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
        blue_badges = xref[xref["source_system"] == "blue_badges"]
        assert sorted(blue_badges["source_record_id"]) == sorted(holders["holder_id"])
        # Each badge holder joined the golden record of the council tax payer they are.
        golden_of = xref.set_index(xref["source_system"] + ":" + xref["source_record_id"])[
            "golden_id"
        ]
        same = [
            golden_of[f"blue_badges:{h}"] == golden_of[f"revenues:{p}"]
            for h, p in zip(holders["holder_id"], holders["party_id"], strict=True)
        ]
        assert sum(same) >= 0.9 * len(same), sum(same)
        # The report names the system; the subject access answer holds its record.
        assert "blue_badges" in Path(night.report_html).read_text(encoding="utf-8")
        from golden_record.rights import subject_access

        answer = subject_access.gather(
            council.store, golden_of["blue_badges:BB00001"], council.data, council.crm_url
        )
        held = {(r["source_system"], r["source_record_id"]) for r in answer["source_records"]}
        assert ("blue_badges", "BB00001") in held, held
        # The transforms did their work: titles from codes, day-first dates read.
        canonical = pd.read_parquet(council.run(FIRST).canonical("blue_badges"))
        assert set(canonical["title"].dropna()) <= set(_TITLE_CODES)
        assert canonical["date_of_birth"].str.match(r"^\d{4}-\d\d-\d\d$").all()

        # The next night is incremental for it too: one holder changed, one gone.
        with sqlite3.connect(badges_db) as connection:
            connection.execute(
                "UPDATE badge_holder SET email = 'moved@example.org', updated_at = ? "
                "WHERE holder_id = 'BB00003'",
                (stamp_before(SECOND),),
            )
            connection.execute("DELETE FROM badge_holder WHERE holder_id = 'BB00004'")
        second = council.night(SECOND)
        assert second.outcome == "published", second.failed or second.stopped_because
        landed = second.results["extract"]["blue_badges"]
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


# ----- a JSON API with its own paging words ---------------------------------------------

LEISURE_DECLARATION = """
[sources.leisure]
kind = "http_json"
connection = "golden_leisure"
key = "cardNumber"
watermark = "modified"
purpose = "Running leisure centre memberships and bookings"
lawful_basis = "UK GDPR Art. 6(1)(e) public task (Local Government Act 1972)"
data_owner = "Head of Leisure Services"
retention_days = 60

[sources.leisure.api]
endpoint = "/members"
records = "items"
next_cursor = "nextPage"
cursor_param = "after"
page_size_param = "limit"
since_param = "modifiedSince"
keys_params = { fields = "cardNumber" }

[sources.leisure.canonical]
first_name = "name_first"
surname = "name_last"
date_of_birth = "born"
email = "contact_email"
postcode = "address_postcode"
"""


def _borrowers(count: int) -> list[dict]:
    return [
        {
            "cardNumber": f"LB{i:04d}",
            "name": {"first": f"Reader{i}", "last": "Okafor" if i % 2 else "Price"},
            "born": f"2014-03-0{1 + i % 9}" if i % 3 == 0 else None,
            "contact": {"email": f"reader{i}@example.org"},
            "address": {"postcode": "LS1 4AP"},
            "modified": f"2026-10-{1 + i:02d} 09:00:00",
            "loans": [{"item": "a book", "due": "2026-11-20"}],  # not the council's to keep
        }
        for i in range(count)
    ]


def _serve_borrowers(borrowers: list[dict], token: str):
    """A leisure system's API: ``limit``/``after`` paging, ``modifiedSince``, bearer auth."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    asked: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            asked.append(query)
            if self.headers.get("Authorization") != f"Bearer {token}":
                self.send_response(401)
                self.end_headers()
                return
            rows = [b for b in borrowers if b["modified"] > query.get("modifiedSince", "")]
            if "after" in query:
                rows = [b for b in rows if b["cardNumber"] > query["after"]]
            page = rows[: int(query["limit"])]
            if query.get("fields") == "cardNumber":
                page = [{"cardNumber": b["cardNumber"]} for b in page]
            more = len(rows) > len(page)
            body = {"items": page, "nextPage": page[-1]["cardNumber"] if more else None}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, asked


def test_a_json_api_declared_with_its_own_paging_words_is_read_whole_then_by_watermark(
    tmp_path, monkeypatch
):
    from golden_record.extract.canonical import conform
    from golden_record.extract.sources import extractor
    from golden_record.settings import ApiSettings, SourceSettings

    declarations = tmp_path / "sources.toml"
    declarations.write_text(PACKAGED.read_text() + LEISURE_DECLARATION, encoding="utf-8")
    monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(declarations))
    server, asked = _serve_borrowers(_borrowers(23), "lib-token")
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        settings = SourceSettings(
            apis={"leisure": ApiSettings(base_url=base, token="lib-token", page_size=5)}
        )
        leisure = extractor("leisure")
        raw = leisure.extract(settings, None, FIRST)
        assert len(raw) == 23 and len(asked) == 5  # five pages of five
        # Only what the declaration reads lands: the borrowers' loans do not.
        assert list(raw.columns) == [
            "cardNumber", "name_first", "name_last", "born", "contact_email",
            "address_postcode", "modified",
        ]  # fmt: skip
        canonical = conform(leisure.to_canonical(raw), "leisure")
        first = canonical.set_index("source_record_id").loc["LB0003"]
        assert (first["first_name"], first["surname"], first["email"]) == (
            "Reader3",
            "Okafor",
            "reader3@example.org",
        )
        assert first["source_updated_at"] == "2026-10-04T09:00:00"

        asked.clear()
        changed = leisure.extract(settings, "2026-10-20 09:00:00", FIRST)
        assert sorted(changed["cardNumber"]) == ["LB0020", "LB0021", "LB0022"]
        assert asked[0]["modifiedSince"] == "2026-10-20 09:00:00"
        keys = leisure.keys(settings)
        assert len(keys) == 23 and asked[-1]["fields"] == "cardNumber"

        with pytest.raises(Exception, match=r"^leisure \(page 1\): token refused"):
            leisure.extract(settings.with_api("leisure", token="wrong"), None, FIRST)
    finally:
        server.shutdown()


def test_a_json_api_without_its_paging_declared_is_refused(tmp_path):
    no_api = LEISURE_DECLARATION.split("[sources.leisure.api]")[0] + (
        '[sources.leisure.canonical]\nsurname = "name_last"\n'
    )
    with pytest.raises(DeclarationError, match=r"source 'leisure', field 'api': an http_json"):
        declared_sources(_write(tmp_path, "version = 1\n" + no_api))
    unknown = LEISURE_DECLARATION.replace('records = "items"', 'rows = "items"')
    with pytest.raises(DeclarationError, match=r"field 'api.rows': not a field of api"):
        declared_sources(_write(tmp_path, "version = 1\n" + unknown))


def test_the_record_of_processing_follows_the_declarations(tmp_path, capsys):
    import csv

    from golden_record.cli.main import main

    declarations = tmp_path / "sources.toml"
    declarations.write_text(PACKAGED.read_text() + LEISURE_DECLARATION, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "sources",
                "processing-record",
                "--out",
                str(tmp_path / "ropa"),
                "--file",
                str(declarations),
            ]
        )
    assert exited.value.code == 0
    with (tmp_path / "ropa" / "processing_record.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    from golden_record.rights.processing_record import COLUMNS

    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 8  # seven systems and the golden customer record
    leisure = rows[6]
    assert leisure["Purpose of processing"].startswith("Running leisure centre")
    assert "Local Government Act 1972" in leisure["Lawful basis for processing"]
    assert "60 days" in leisure["Retention schedule"]
    assert "Head of Leisure Services" in leisure["Business function"]
    assert "leisure" in rows[-1]["Source of the data"]
    markdown = (tmp_path / "ropa" / "processing_record.md").read_text(encoding="utf-8")
    assert "# Record of processing activities (UK GDPR Art. 30)" in markdown
    assert "put in the council's own words" in markdown  # the packaged notice, said so


_DROP = """
version = 1
[sources.bins]
kind = "csv_drop"
connection = "golden_bins"
key = "ID"
purpose = "Bin collections"
lawful_basis = "UK GDPR Art. 6(1)(e) public task"
data_owner = "Head of Waste Services"
retention_days = 30
[sources.bins.drop]
file = "bins_YYYYMMDD.csv"
formats = { UPRN = { pattern = '\\d{1,12}', expected = "a number" } }
[sources.bins.canonical]
surname = { name_part = "surname", of = "NAME" }
"""


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (('file = "bins_YYYYMMDD.csv"', 'file = "bins.csv"'), "drop.file", "YYYYMMDD"),
        (("'\\d{1,12}'", "'(\\d{1,12}'"), "drop.formats.UPRN", "not a regular expression"),
        (('surname = { name_part = "surname"', 'surname = { name_part = "nickname"'),
         "canonical.surname.name_part", "expected one of title, first_name, surname"),
        (('key = "ID"', 'key = "ID"\nwatermark = "UPDATED"'), "watermark", "full snapshot"),
        (("[sources.bins.drop]", "[sources.bins.api]"), "api", "has no API"),
    ],
)  # fmt: skip
def test_a_mistake_in_a_file_drop_s_declaration_is_named(tmp_path, change, field, problem):
    assert declared_sources(_write(tmp_path, _DROP)).names == ("bins",)
    assert change[0] in _DROP
    path = _write(tmp_path, _DROP.replace(*change))
    with pytest.raises(DeclarationError) as refused:
        declared_sources(path)
    message = str(refused.value)
    assert f"source 'bins', field {field!r}" in message and problem in message, message


def test_a_declared_file_drop_is_read_and_checked_by_its_declaration(tmp_path, monkeypatch):
    from golden_record.extract.canonical import conform
    from golden_record.extract.sources import extractor
    from golden_record.settings import DropSettings, SourceSettings

    declarations = _write(tmp_path, _DROP + 'source_updated_at = "UPDATED"\n')
    monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(declarations))
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "bins_20261101.csv").write_text(
        'ID,NAME,UPRN,UPDATED\nB1,"Smith, John",100023,2026-10-30 08:00:00\n'
        "B2,Mrs A Khan,,2026-10-31 09:30:00\n",
        encoding="utf-8",
    )
    settings = SourceSettings(drops={"bins": DropSettings(drop, stable_seconds=0)})
    bins = extractor("bins")
    raw = bins.extract(settings, None, FIRST)
    canonical = conform(bins.to_canonical(raw), "bins")
    assert list(canonical["surname"]) == ["Smith", "Khan"]
    assert list(canonical["source_updated_at"]) == ["2026-10-30T08:00:00", "2026-10-31T09:30:00"]
    (drop / "bins_20261102.csv").write_text(
        "ID,NAME,UPRN,UPDATED\nB1,J Smith,12A,2026-11-01 08:00:00\n", encoding="utf-8"
    )
    with pytest.raises(
        SourceDataError, match=r"^bins \(bins_20261102.csv line 2\): UPRN is not a number"
    ):
        bins.extract(settings, None, FIRST)


def test_a_declared_source_takes_its_place_in_the_trust_rankings(tmp_path, monkeypatch):
    from golden_record.golden import survivorship
    from golden_record.golden.store import survivorship_digest

    plain = survivorship.load()
    declarations = tmp_path / "sources.toml"
    declarations.write_text(
        PACKAGED.read_text() + BADGES_DECLARATION + "\n[sources.blue_badges.trust]\naddress = 1\n",
        encoding="utf-8",
    )
    (tmp_path / "badges_extract.sql").write_text(BADGES_SQL, encoding="utf-8")
    monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(declarations))
    placed = survivorship.load()
    by_name = {a.name: a.trust for a in placed.attributes}
    before = {a.name: a.trust for a in plain.attributes}
    assert by_name["address"] == ("blue_badges", *before["address"])
    # Rankings it gives no place in rank it last, as any source they do not name.
    assert by_name["name"] == before["name"]
    assert dict(placed.declared_trust)["address"] == by_name["address"]
    # The packaged declarations place parking and libraries where they say.
    assert before["address"].index("parking") == 1
    assert before["date_of_birth"].index("libraries") == 2
    # A change of rankings is a change of rules: every golden record is rebuilt.
    assert survivorship_digest(placed) != survivorship_digest(plain)

    declarations.write_text(
        PACKAGED.read_text() + BADGES_DECLARATION + "\n[sources.blue_badges.trust]\nadress = 1\n",
        encoding="utf-8",
    )
    with pytest.raises(
        DeclarationError, match=r"source 'blue_badges', field 'trust.adress': not a"
    ):
        survivorship.load()
