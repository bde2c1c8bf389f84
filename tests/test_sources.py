"""Extractors: native rows in, canonical person records out; bad input named precisely."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import sqlite3
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from conftest import PORTAL_TOKEN, RUN_DATE

from golden_record.extract.canonical import CANONICAL_COLUMNS, conform
from golden_record.extract.declaration import source_systems
from golden_record.extract.sources import SourceDataError, SourceUnavailableError, extractor
from golden_record.extract.sources.text import split_contact_name


@pytest.mark.parametrize("source", sorted(source_systems()))
def test_every_source_maps_to_the_canonical_contract(source, source_settings, sample):
    module = extractor(source)
    raw = module.extract(source_settings, None, RUN_DATE)
    canonical = conform(module.to_canonical(raw), source)
    assert tuple(canonical.columns) == CANONICAL_COLUMNS
    # A business permit's holder is a company, which the parking extract leaves out.
    assert len(canonical) == sample.records[source] - sample.not_persons.get(source, 0) > 0
    assert (canonical["source_system"] == source).all()
    assert canonical["source_updated_at"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$").all()
    assert canonical["surname"].notna().mean() > 0.99


def test_revenues_address_lines_put_the_town_last(source_settings):
    raw = extractor("revenues").extract(source_settings, None, RUN_DATE)
    canonical = extractor("revenues").to_canonical(raw)
    row = raw.index[raw["addr_4"].notna()][0]
    assert canonical.loc[row, "town"] == raw.loc[row, "addr_4"]
    row = raw.index[raw["addr_3"].isna() & raw["addr_2"].notna()][0]
    assert canonical.loc[row, "town"] == raw.loc[row, "addr_2"]
    assert pd.isna(canonical.loc[row, "address_line_2"])


def test_housing_splits_given_names_and_keeps_ni_number(source_settings):
    raw = extractor("housing").extract(source_settings, None, RUN_DATE)
    canonical = extractor("housing").to_canonical(raw)
    with_middle = raw.index[raw["given_names"].str.contains(" ", na=False)][0]
    first, middle = raw.loc[with_middle, "given_names"].split(" ", 1)
    assert canonical.loc[with_middle, "first_name"] == first
    assert canonical.loc[with_middle, "middle_names"] == middle
    assert canonical["ni_number"].notna().mean() > 0.8


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mr J Smith", ("Mr", "J", "Smith")),
        ("Mrs Jane Smith-Jones", ("Mrs", "Jane", "Smith-Jones")),
        ("Jane Smith", (None, "Jane", "Smith")),
        ("Smith, Jane", (None, "Jane", "Smith")),
        ("Smith", (None, None, "Smith")),
        ("", (None, None, None)),
    ],
)
def test_single_field_contact_names_are_split(name, expected):
    assert split_contact_name(name) == expected


def test_relational_sources_extract_incrementally_by_watermark(source_settings):
    everything = extractor("revenues").extract(source_settings, None, RUN_DATE)
    watermark = everything["last_modified"].sort_values().iloc[len(everything) // 2]
    newer = extractor("revenues").extract(source_settings, watermark, RUN_DATE)
    assert 0 < len(newer) < len(everything)
    assert (newer["last_modified"] > watermark).all()


def test_portal_pages_through_everything_and_filters_by_watermark(source_settings, sample):
    small_pages = source_settings.with_api("portal", page_size=97)
    everything = extractor("portal").extract(small_pages, None, RUN_DATE)
    assert len(everything) == sample.records["portal"] > 97 * 3
    assert everything["id"].is_unique
    watermark = everything["updatedAt"].sort_values().iloc[-10]
    newer = extractor("portal").extract(small_pages, watermark, RUN_DATE)
    assert len(newer) == 9


def test_portal_with_a_wrong_token_is_refused(source_settings):
    with pytest.raises(SourceUnavailableError, match=r"portal \(page 1\): token refused"):
        extractor("portal").extract(
            source_settings.with_api("portal", token="wrong"), None, RUN_DATE
        )
    assert PORTAL_TOKEN != "wrong"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_portal_unreachable_names_the_source(source_settings):
    url = f"http://127.0.0.1:{_free_port()}/api/v1"
    with pytest.raises(SourceUnavailableError, match=r"^portal \(page 1\): unreachable"):
        extractor("portal").extract(
            source_settings.with_api("portal", base_url=url), None, RUN_DATE
        )


class _FakePortal:
    """A misbehaving portal: serves page 1 properly (its cursor pointing on), then every
    later page as given."""

    def __init__(self, page_two: bytes, delay: float = 0.0):
        page_one = json.dumps(
            {
                "data": [
                    {"id": "a1", "email": "a@example.org", "updatedAt": "2026-01-01T00:00:00Z"}
                ],
                "next_cursor": "after-a1",
            }
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                first = "cursor=" not in self.path
                body = page_one if first else page_two
                if not first and delay:
                    time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError):
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_portal_malformed_json_names_the_page(source_settings):
    with _FakePortal(b'{"data": [ {"id": "b2",') as url:
        settings = source_settings.with_api("portal", base_url=url)
        with pytest.raises(SourceDataError, match=r"^portal \(page 2\): malformed JSON"):
            extractor("portal").extract(settings, None, RUN_DATE)


def test_portal_record_without_id_names_the_page(source_settings):
    with _FakePortal(b'{"data": [{"email": "x@example.org"}], "next_cursor": null}') as url:
        settings = source_settings.with_api("portal", base_url=url)
        with pytest.raises(SourceDataError, match=r"portal \(page 2\): record 0 has no id"):
            extractor("portal").extract(settings, None, RUN_DATE)


@pytest.mark.parametrize(
    ("page_two", "named"),
    [
        (b'{"data": [], "total_pages": "two"}', "no 'next_cursor'"),
        (b'{"data": []}', "no 'next_cursor'"),
        (b'{"data": [], "next_cursor": 3}', "'next_cursor' is 3; expected a non-empty string"),
        (b'{"data": [], "next_cursor": ""}', "'next_cursor' is \"\"; expected"),
        (b'{"data": [], "next_cursor": "after-a1"}', "'next_cursor' repeats"),
        (b'{"data": "nope", "next_cursor": null}', "no 'data' list"),
    ],
)
def test_a_malformed_paging_envelope_names_the_field(source_settings, page_two, named):
    with _FakePortal(page_two) as url:
        settings = source_settings.with_api("portal", base_url=url)
        with pytest.raises(SourceDataError, match=r"^portal \(page 2\): ") as raised:
            extractor("portal").extract(settings, None, RUN_DATE)
    assert named in str(raised.value)


def test_portal_timeout_names_the_page(source_settings):
    with _FakePortal(b'{"data": []}', delay=3) as url:
        settings = source_settings.with_api("portal", base_url=url, timeout_seconds=0.5)
        with pytest.raises(SourceUnavailableError, match=r"^portal \(page 2\): timed out"):
            extractor("portal").extract(settings, None, RUN_DATE)


def test_missing_database_file_is_unavailable_and_not_created(source_settings, tmp_path):
    missing = tmp_path / "nowhere.db"
    settings = replace(
        source_settings,
        database_urls={**source_settings.database_urls, "revenues": f"sqlite:///{missing}"},
    )
    with pytest.raises(SourceUnavailableError, match="^revenues: database file not found"):
        extractor("revenues").extract(settings, None, RUN_DATE)
    assert not missing.exists()


def test_database_without_the_expected_table_is_a_data_error(source_settings, tmp_path):
    settings = replace(
        source_settings,
        database_urls={
            **source_settings.database_urls,
            "housing": source_settings.database_urls["revenues"],
        },
    )
    with pytest.raises(SourceDataError, match="^housing: schema mismatch.*no such table"):
        extractor("housing").extract(settings, None, RUN_DATE)


@pytest.fixture
def waste_drop(sample, tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(sample.paths["waste"], drop)
    # These tests edit the file: its completion marker (with the row count) would be stale.
    for marker in drop.glob("*.done"):
        marker.unlink()
    return drop, next(drop.glob("waste_contacts_*.csv"))


def test_waste_reads_the_newest_drop_on_or_before_the_run_date(source_settings, waste_drop):
    drop, current = waste_drop
    later = drop / "waste_contacts_20991231.csv"
    later.write_text("not even csv")
    raw = _waste_in(source_settings, drop)
    assert (raw["DROP_FILE"] == current.name).all()


def test_waste_missing_column_names_file_and_line(source_settings, waste_drop):
    drop, current = waste_drop
    frame = pd.read_csv(current, dtype=str, keep_default_na=False).drop(columns=["UPRN"])
    frame.to_csv(current, index=False)
    with pytest.raises(SourceDataError, match=rf"waste \({current.name} line 1\): missing column"):
        _waste_in(source_settings, drop)


def test_waste_bad_row_names_file_and_line(source_settings, waste_drop):
    drop, current = waste_drop
    lines = current.read_text().splitlines()
    lines[41] = lines[41].rsplit(",", 2)[0]  # a truncated row on line 42
    current.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceDataError, match=rf"waste \({current.name} line 42\): expected 9"):
        _waste_in(source_settings, drop)


def test_waste_without_any_drop_file_is_unavailable(source_settings, tmp_path):
    settings = source_settings.with_drop("waste", folder=tmp_path)
    with pytest.raises(SourceUnavailableError, match="no waste_contacts_YYYYMMDD.csv"):
        extractor("waste").extract(settings, None, RUN_DATE)


def _rewrite(path, change) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    change(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_waste_a_byte_that_is_not_utf8_is_named_at_its_line(source_settings, waste_drop):
    drop, current = waste_drop
    lines = current.read_bytes().split(b"\n")
    lines[49] = lines[49].replace(b",", b",Caf\xe9 ", 1)  # Latin-1 é on line 50
    current.write_bytes(b"\n".join(lines))
    with pytest.raises(SourceDataError, match=rf"{current.name} line 50\): byte 0xE9 .*not UTF-8"):
        _waste_in(source_settings, drop)


def test_waste_a_byte_order_mark_is_read_as_utf8(source_settings, waste_drop):
    drop, current = waste_drop
    plain = _waste_in(source_settings, drop)
    current.write_bytes(b"\xef\xbb\xbf" + current.read_bytes())
    marked = _waste_in(source_settings, drop)
    pd.testing.assert_frame_equal(plain, marked)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        # A stray quote spans the UPRN and the first part of an unquoted address.
        (
            'W09999999,"100000250375,152 Fuller Wells",Town,AB1 2CD,John Smith,,,BULKY,'
            "2026-10-01 10:00:00",
            "UPRN holds a comma",
        ),
        (
            'W09999999,"1000002"50375,"1 High St, Town",AB1 2CD,J Smith,,,BULKY,2026-10-01',
            "',' expected",
        ),
        ('W09999999,12A45,"1 High St, Town",AB1 2CD,J Smith,,,BULKY,2026-10-01', "UPRN is not a"),
        (
            'W09999999,1,"1 High St, Town",AB1 2CD,J Smith,,,BULKY,yesterday',
            "unreadable LAST_UPDATED",
        ),
    ],
)
def test_waste_rows_are_read_strictly_naming_file_and_line(
    source_settings, waste_drop, row, message
):
    drop, current = waste_drop
    lines = current.read_text(encoding="utf-8").splitlines()
    lines[29] = row
    current.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceDataError, match=rf"waste \({current.name} line 30\): .*{message}"):
        _waste_in(source_settings, drop)


def test_a_record_id_given_twice_is_bad_data_not_retried(source_settings, waste_drop, tmp_path):
    from golden_record.extract.landing import extract_source
    from golden_record.run import Run

    drop, current = waste_drop
    _rewrite(current, lambda lines: lines.append(lines[1]))
    with pytest.raises(SourceDataError, match=r"waste: record waste:W\d+ appears twice"):
        extract_source(
            "waste",
            Run.of(RUN_DATE.isoformat(), root=tmp_path / "data"),
            source_settings.with_drop("waste", folder=drop),
        )
    assert not (tmp_path / "data" / "runs").exists() or not list(
        (tmp_path / "data" / "runs").rglob("waste*")
    )


def test_a_bad_change_timestamp_in_a_database_names_the_record(source_settings, sample, tmp_path):
    db = tmp_path / "housing.db"
    shutil.copy(sample.paths["housing"], db)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE tenancy_person SET updated = 'soon' WHERE person_ref = 'HP00000003'"
        )
    settings = replace(
        source_settings,
        database_urls={**source_settings.database_urls, "housing": f"sqlite:///{db}"},
    )
    raw = extractor("housing").extract(settings, None, RUN_DATE)
    with pytest.raises(SourceDataError, match=r"housing \(record HP00000003\): unreadable"):
        extractor("housing").to_canonical(raw)


def _waste_in(source_settings, drop):
    """The waste extract of the drop folder ``drop``."""
    return extractor("waste").extract(
        source_settings.with_drop("waste", folder=drop), None, RUN_DATE
    )


def test_parking_from_postgresql_reads_as_from_sqlite_by_its_timestamp_watermark(
    sample, source_settings, postgres
):
    """The permits system served from PostgreSQL (real TIMESTAMP and DATE columns) lands the
    same text as from SQLite; the watermark (text) is compared with the timestamp column,
    and a deleted holder is missing from the key list."""
    from sqlalchemy import create_engine, text

    from devtools.generate.to_postgres import copy_sqlite_to_postgres

    url = postgres.create_database("parking_source")
    copied = copy_sqlite_to_postgres(sample.paths["parking"], "parking_schema.sql", url)
    assert copied["permit"] > copied["permit_holder"] > 0  # several permits per holder
    on_postgres = replace(
        source_settings, database_urls={**source_settings.database_urls, "parking": url}
    )
    parking = extractor("parking")
    from_sqlite = parking.extract(source_settings, None, RUN_DATE)
    from_postgres = parking.extract(on_postgres, None, RUN_DATE)
    pd.testing.assert_frame_equal(from_postgres, from_sqlite)
    assert len(from_sqlite) == sample.records["parking"] - sample.not_persons["parking"] > 0

    newest = from_postgres["updated_at"].max()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            column = connection.execute(
                text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'permit_holder' AND column_name = 'updated_at'"
                )
            ).scalar_one()
            assert column.startswith("timestamp")
            connection.execute(
                text("UPDATE permit_holder SET updated_at = :later WHERE holder_id = :holder"),
                {"later": "2030-01-01 09:30:00", "holder": from_postgres["holder_id"].iloc[3]},
            )
            gone = from_postgres["holder_id"].iloc[5]
            connection.execute(text("DELETE FROM permit WHERE holder_id = :h"), {"h": gone})
            connection.execute(text("DELETE FROM permit_holder WHERE holder_id = :h"), {"h": gone})
    finally:
        engine.dispose()
    changed = parking.extract(on_postgres, newest, RUN_DATE)
    assert list(changed["holder_id"]) == [from_postgres["holder_id"].iloc[3]]
    assert list(changed["updated_at"]) == ["2030-01-01 09:30:00"]
    keys = parking.keys(on_postgres)
    assert gone not in set(keys) and len(keys) == len(from_postgres) - 1
