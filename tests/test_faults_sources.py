"""Sources a broken or hostile world feeds us: rows stamped in the future, a watermark
left in the future, accounts deleted or edited while the portal is walked.

Each night-level test starts from a council whose first night was published
(``night_runner``) and runs the next nights as the DAG would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from night_runner import FOURTH, SECOND, THIRD, Council, postgresql_copy, stamp_before

from devtools.generate.portal_api import start_portal
from golden_record.extract.sources import extractor
from golden_record.run import Run

pytestmark = pytest.mark.faults


def _crm_surname(council: Council, unique_id: str) -> str | None:
    from sqlalchemy import create_engine, text

    golden_id = council.golden_of(unique_id)
    engine = create_engine(council.crm_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT surname FROM golden_customer WHERE golden_id = :g"), {"g": golden_id}
            ).scalar()
    finally:
        engine.dispose()


def _meta(run: Run, source: str) -> dict:
    return json.loads(run.raw(source).with_suffix(".json").read_text())


# ----- watermarks that cannot be poisoned -------------------------------------------------


def test_a_row_stamped_in_the_future_is_read_and_listed_and_the_source_is_not_blinded(
    council,
):
    council.housing(
        "UPDATE tenancy_person SET family_name = 'Fromthefuture', updated = "
        "'2099-01-01 00:00:00' WHERE person_ref = 'HP00000001'"
    )
    second = council.night(SECOND)
    assert second.outcome == "published", second.failed
    housing = second.results["extract"]["housing"]
    assert housing["future_stamped"] == ["HP00000001"]
    assert housing["future_stamped_count"] == 1
    meta = _meta(council.run(SECOND), "housing")
    assert meta["watermark_after"] < "2099" and meta["watermark_after"] <= meta["started_at"]
    page = council.run(SECOND).report_html.read_text()
    assert 'id="future-stamped-housing"' in page and "HP00000001" in page
    assert _crm_surname(council, "housing:HP00000001") == "Fromthefuture"

    # The next nights still see real changes in housing, and the future row is read again
    # (and listed) until its time has passed.
    council.housing(
        "UPDATE tenancy_person SET family_name = 'Realedit', "
        f"updated = '{stamp_before(THIRD)}' WHERE person_ref = 'HP00000002'"
    )
    third = council.night(THIRD)
    assert third.outcome == "published", third.failed
    assert third.results["extract"]["housing"]["future_stamped"] == ["HP00000001"]
    assert third.results["extract"]["housing"]["raw_rows"] >= 2
    assert _crm_surname(council, "housing:HP00000002") == "Realedit"


def test_a_watermark_left_in_the_future_is_not_trusted_and_a_full_refresh_resets_it(council):
    # As an older release left it: the first night's housing watermark moved to 2099.
    first = council.run(SECOND).other("2026-11-02")
    meta_file = first.raw("housing").with_suffix(".json")
    meta = json.loads(meta_file.read_text())
    meta["watermark_after"] = "2099-01-01 00:00:00"
    meta_file.write_text(json.dumps(meta))
    council.housing(
        "UPDATE tenancy_person SET family_name = 'Seenanyway', "
        f"updated = '{stamp_before(SECOND)}' WHERE person_ref = 'HP00000003'"
    )
    second = council.night(SECOND)
    assert second.outcome == "published", second.failed
    housing = second.results["extract"]["housing"]
    assert "2099-01-01 00:00:00 is after this night's start" in housing["watermark_reset"]
    assert housing["watermark_before"] is None and housing["watermark_after"] < "2099"
    assert _crm_surname(council, "housing:HP00000003") == "Seenanyway"
    assert "watermark-reset-housing" in council.run(SECOND).report_html.read_text()

    # A full refresh after a row stamped in the future resets the watermark from what it
    # read, not from the future row.
    council.housing(
        "UPDATE tenancy_person SET updated = '2099-06-01 00:00:00' WHERE person_ref = 'HP00000004'"
    )
    refreshed = council.night(THIRD, full_refresh=True)
    assert refreshed.outcome == "published", refreshed.failed
    reached = _meta(council.run(THIRD), "housing")["watermark_after"]
    assert reached < "2099" and reached <= datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    council.housing(
        "UPDATE tenancy_person SET family_name = 'Stillseen', "
        f"updated = '{stamp_before(FOURTH)}' WHERE person_ref = 'HP00000005'"
    )
    assert council.night(FOURTH).outcome == "published"
    assert _crm_surname(council, "housing:HP00000005") == "Stillseen"


# ----- extraction that cannot skip a record -----------------------------------------------


def _walk_with(council: Council, tmp_path, change_between_pages) -> tuple[set, list[dict]]:
    """The portal's accounts walked in pages of 25 while ``change_between_pages`` (rows →
    rows) edits the portal's file after the first page is served; the ids read and the
    accounts as they stand at the end."""
    customers = tmp_path / "customers.jsonl"
    customers.write_text(council.portal_file.read_text())
    served = []

    def after_page(query: dict) -> None:
        served.append(query)
        if len(served) == 1:
            _rewrite(customers, change_between_pages)

    portal = start_portal(customers, "walk-token", after_page=after_page)
    try:
        settings = council.settings.with_api(
            "portal", base_url=portal.base_url, token="walk-token", page_size=25
        )
        read = extractor("portal").extract(settings, None, council.run(SECOND).date)
    finally:
        portal.stop()
    final = [json.loads(line) for line in customers.read_text().splitlines() if line]
    assert len(served) > 4, "the walk took several pages"
    return set(read["id"]), final


def _rewrite(path, transform) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    path.write_text("".join(json.dumps(r) + "\n" for r in transform(rows)))


def _feed_order(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda c: (c["updatedAt"], c["id"]))


@pytest.mark.parametrize("change", ["deleted", "inserted", "edited"])
def test_an_account_changed_mid_walk_shifts_nothing_out_of_the_extract(council, tmp_path, change):
    ordered = _feed_order(council.portal_customers())
    first_page = {c["id"] for c in ordered[:25]}
    victim = ordered[3]
    now = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def deleted(rows):
        return [r for r in rows if r["id"] != victim["id"]]

    def inserted(rows):
        return [*rows, {**victim, "id": "PORTAL-NEW-1", "updatedAt": now}]

    def edited(rows):
        return [{**r, "updatedAt": now} if r["id"] == victim["id"] else r for r in rows]

    read, final = _walk_with(
        council, tmp_path, {"deleted": deleted, "inserted": inserted, "edited": edited}[change]
    )
    # Every account that stood from start to end of the walk was read: with page numbers,
    # a deletion or an edit on page 1 shifted the account at the page's edge out of reach.
    standing = {c["id"] for c in final} & {c["id"] for c in ordered}
    assert standing <= read, sorted(standing - read)[:5]
    assert victim["id"] in first_page
    if change == "inserted":
        assert "PORTAL-NEW-1" in read


# ----- gates that see columns, not only rows ----------------------------------------------


def _emails_in_crm(council: Council) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(council.crm_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT COUNT(*) FROM golden_customer WHERE email IS NOT NULL")
            ).scalar()
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def council_on(request, sample, tmp_path):
    """The test's council: the published copy (SQLite), or one published afresh with its
    golden store and CRM on the tests' PostgreSQL server."""
    if request.param == "sqlite":
        return request.getfixturevalue("council")
    postgres = request.getfixturevalue("postgres")
    fresh = postgresql_copy(
        request.getfixturevalue("published_on_postgresql"),
        postgres,
        tmp_path / "on-postgresql",
        f"s{tmp_path.name[-24:].lower()}",
    )
    request.addfinalizer(fresh.close)
    return fresh


def test_a_column_emptied_at_source_stops_the_night_and_a_restore_brings_it_back(council_on):
    from tests.crm_fixtures import dump

    council = council_on

    crm_before, store_before = dump(council.crm_url), council.store_state()
    emails_before = _emails_in_crm(council)
    pristine = council.work / "housing-backup.db"
    pristine.write_bytes((council.sources / "housing.db").read_bytes())
    council.housing(
        "UPDATE tenancy_person SET email_address = NULL, mobile = NULL, "
        f"updated = '{stamp_before(SECOND)}'"
    )
    night = council.night(SECOND)
    assert night.outcome == "stopped"
    message = night.failed["gate_sources"]
    # Named: the source, the column, what was observed and what was expected.
    assert "housing completeness by column" in message, message
    assert "on email_filled_share (observed 0.00%, expected at least " in message, message
    assert "housing changes since the last accepted night" in message  # most records changed
    assert dump(council.crm_url) == crm_before and council.store_state() == store_before

    # Restored from backup (its timestamps older than the watermark): the refused night was
    # never a baseline, so the next night publishes and nothing was lost.
    (council.sources / "housing.db").write_bytes(pristine.read_bytes())
    restored = council.night(THIRD)
    assert restored.outcome == "published", restored.failed
    assert _emails_in_crm(council) == emails_before


def test_a_steward_accepts_a_source_clean_up_and_the_night_publishes(council_on):
    council = council_on
    # A migration at source writes every surname in capitals: most records changed, no
    # column emptied.
    council.housing(
        f"UPDATE tenancy_person SET family_name = upper(family_name), "
        f"updated = '{stamp_before(SECOND)}'"
    )
    night = council.night(SECOND)
    assert night.outcome == "stopped", night.failed
    message = night.failed["gate_sources"]
    assert "housing changes since the last accepted night" in message, message
    assert "changed_share" in message and "completeness" not in message
    from typer.testing import CliRunner

    from golden_record.cli import app

    accept = [
        "night",
        "accept",
        SECOND.isoformat(),
        "--store",
        council.store_url,
        "--data",
        str(council.data),
        "--by",
        "A Steward",
        "--reason",
        "housing's migration to capitals, checked (ticket 4411)",
    ]
    result = CliRunner().invoke(app, accept)
    assert result.exit_code == 0, result.output
    assert "sources gate" in result.output and "from gate_sources" in result.output
    again = council.night(SECOND)  # the extracts replay what they landed
    assert again.outcome == "published", again.failed
    assert again.results["gate_sources"]["accepted_by_steward"]
    # A night whose input then differs is judged again.
    council.housing(
        "UPDATE tenancy_person SET title = NULL, "
        f"updated = '{stamp_before(THIRD)}' WHERE title IS NOT NULL"
    )
    assert council.night(THIRD).outcome == "stopped"


# ----- files that are whole ---------------------------------------------------------------


def test_a_waste_drop_cut_off_mid_write_is_refused_naming_file_and_line(council):
    from tests.crm_fixtures import dump

    crm_before = dump(council.crm_url)
    lines = council.waste_lines()
    kept = lines[: int(len(lines) * 0.92)]
    kept[-1] = kept[-1][: kept[-1].rindex(",") + 1] + "2026-"  # the last stamp cut short
    council.drop_waste(SECOND, kept)
    (council.sources / "waste" / "drop" / f"waste_contacts_{SECOND:%Y%m%d}.csv").write_text(
        "\n".join(kept), encoding="utf-8"
    )  # as a writer that died leaves it: no line end either
    night = council.night(SECOND)
    assert night.outcome == "stopped"
    failed = night.failed["extract_waste"]
    assert f"waste_contacts_{SECOND:%Y%m%d}.csv line {len(kept)}" in failed, failed
    assert "unreadable LAST_UPDATED '2026-'" in failed
    assert dump(council.crm_url) == crm_before
    council.drop_waste(THIRD, lines)
    assert council.night(THIRD).outcome == "published"


def test_a_drop_is_read_once_whole_by_its_marker_or_once_it_stops_changing(council, tmp_path):
    import threading
    import time

    from golden_record.extract.sources import SourceDataError, SourceUnavailableError
    from golden_record.extract.sources.file_drop import marker_for

    lines = council.waste_lines()
    drop = tmp_path / "drop"
    drop.mkdir()
    path = drop / f"waste_contacts_{SECOND:%Y%m%d}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    markers = council.settings.with_drop("waste", folder=drop, complete_when="marker")
    with pytest.raises(SourceUnavailableError, match="no completion marker"):
        extractor("waste").extract(markers, None, SECOND)
    marker = marker_for(path)
    marker.write_text(f"rows={len(lines) + 5}\n")
    with pytest.raises(SourceDataError, match=f"holds {len(lines) - 1:,} rows where its marker"):
        extractor("waste").extract(markers, None, SECOND)
    marker.write_text(f"rows={len(lines) - 1}\n")
    assert len(extractor("waste").extract(markers, None, SECOND)) == len(lines) - 1

    # Without a marker, a file still growing is waited for until it has not changed for
    # the stable time, and read whole.
    marker.unlink()
    half = len(lines) // 2
    path.write_text("\n".join(lines[:half]) + "\n", encoding="utf-8")

    def finish() -> None:
        time.sleep(0.6)
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines[half:]) + "\n")

    writer = threading.Thread(target=finish)
    writer.start()
    stable = council.settings.with_drop("waste", folder=drop, stable_seconds=1.0)
    read = extractor("waste").extract(stable, None, SECOND)
    writer.join()
    assert len(read) == len(lines) - 1
    # A file that keeps changing is left for a retry.
    with pytest.raises(SourceUnavailableError, match="still being written"):
        stop = threading.Event()

        def keep_writing() -> None:
            while not stop.is_set():
                with path.open("a", encoding="utf-8") as handle:
                    handle.write("")
                path.touch()
                time.sleep(0.1)

        path.touch()
        toucher = threading.Thread(target=keep_writing)
        toucher.start()
        try:
            extractor("waste").extract(stable.with_drop("waste", stable_seconds=0.5), None, SECOND)
        finally:
            stop.set()
            toucher.join()


# ----- records worth keeping --------------------------------------------------------------


def test_an_empty_account_is_quarantined_and_invisible_controls_never_reach_the_crm(council):
    import pandas as pd

    from tests.crm_fixtures import dump

    customers = council.portal_customers()
    stamp = stamp_before(SECOND).replace(" ", "T") + "Z"
    known = customers[0]
    empty = {
        "id": "PORTAL-EMPTY-1",
        "email": "",
        "name": {"given": "", "family": " "},
        "dateOfBirth": "",
        "phone": "",
        "address": {"line1": "", "line2": "", "city": "", "postcode": "", "uprn": ""},
        "updatedAt": stamp,
    }
    blanked = {**known, "email": "", "name": {"given": "", "family": ""}, "phone": "",
               "dateOfBirth": "", "updatedAt": stamp}  # fmt: skip
    tricky = {**customers[1], "name": {**customers[1]["name"], "family": "Smith\u202eevil\u2066"},
              "email": "a\u200bb@example.org", "updatedAt": stamp}  # fmt: skip
    council.set_portal_customers([blanked, tricky, *customers[2:], empty])
    # The waste drop is a full snapshot: a contact blanked there keeps its earlier values
    # too (name, phone and email emptied; property fields left).
    import csv
    import io

    lines = council.waste_lines()
    header, row = list(csv.reader(lines[:2]))
    for column in ("CONTACT_NAME", "CONTACT_TEL", "CONTACT_EMAIL"):
        row[header.index(column)] = ""
    waste_id = row[header.index("CONTACT_ID")]
    blanked_line = io.StringIO()
    csv.writer(blanked_line, lineterminator="").writerow(row)
    council.drop_waste(SECOND, [lines[0], blanked_line.getvalue(), *lines[2:]])
    night = council.night(SECOND)
    assert night.outcome == "published", night.failed
    portal = night.results["extract"]["portal"]
    assert portal["quarantined"] == sorted([known["id"], "PORTAL-EMPTY-1"])
    assert portal["quarantined_count"] == 2
    assert night.results["extract"]["waste"]["quarantined"] == [waste_id]
    waste_records = pd.read_parquet(council.run(SECOND).canonical("waste"))
    kept = waste_records.set_index("source_record_id").loc[waste_id]
    assert kept["surname"] is not None and not pd.isna(kept["surname"])
    page = council.run(SECOND).report_html.read_text()
    assert 'id="quarantined-portal"' in page and "PORTAL-EMPTY-1" in page
    # No golden record of nothing; the blanked account keeps what it had.
    assert council.golden_of("portal:PORTAL-EMPTY-1") is None
    assert council.golden_of(f"portal:{known['id']}") is not None
    crm = dump(council.crm_url)
    every_value = " ".join(str(v) for table in crm.values() for row in table for v in row)
    for invisible in ("\u202e", "\u2066", "\u200b"):
        assert invisible not in every_value
    portal_records = pd.read_parquet(council.run(SECOND).canonical("portal"))
    cleaned = portal_records.set_index("source_record_id").loc[customers[1]["id"]]
    assert (cleaned["surname"], cleaned["email"]) == ("Smithevil", "ab@example.org")
