"""Publishing to the CRM: write-audit-publish, the change feed, and failures that leave the
CRM as it was. Every test runs on the SQLite default and on a real PostgreSQL server."""

from __future__ import annotations

import json
import socket

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from golden_record.publish import PublishError, publish
from tests.crm_fixtures import dump, execute, feed, lineage, night

ANN = {"first_name": "Ann", "surname": "Smith", "date_of_birth": "1980-02-03"}
BOB = {"first_name": "Bob", "surname": "Jones", "postcode": "AB1 2CD"}
CAL = {"first_name": "Cal", "surname": "Brown", "emails": '["cal@example.org"]'}
DEE = {"first_name": "Dee", "surname": "Green"}
EVE = {"first_name": "Eve", "surname": "White"}


def first_night():
    return night(
        {"GR1": ANN, "GR2": BOB, "GR3": CAL, "GR4": DEE},
        {
            "GR1": ["revenues:r1", "housing:h1"],
            "GR2": ["revenues:r2"],
            "GR3": ["portal:p3", "waste:w3"],
            "GR4": ["revenues:r4"],
        },
    )


def test_rerunning_a_publish_leaves_every_table_byte_for_byte_the_same(crm):
    golden, sources = first_night()
    first = publish(golden, sources, "2026-11-02", crm)
    assert first.outcome == "published" and first.events == {"created": 4}
    before = dump(crm)
    again = publish(golden.sample(frac=1, random_state=1), sources[::-1], "2026-11-02", crm)
    assert again.outcome == "unchanged"
    assert dump(crm) == before
    assert len(before["golden_customer"]) == 4 and len(before["golden_customer_source"]) == 6


def test_the_change_feed_says_what_changed_and_consumers_resume_from_a_sequence(crm):
    golden, sources = night(
        {"GR1": ANN, "GR2": BOB, "GR3": CAL, "GR4": DEE, "GR6": EVE},
        {
            "GR1": ["revenues:r1", "housing:h1"],
            "GR2": ["revenues:r2"],
            "GR3": ["portal:p3", "waste:w3"],
            "GR4": ["revenues:r4"],
            "GR6": ["housing:h6"],
        },
    )
    publish(golden, sources, "2026-11-02", crm)
    created = feed(crm)
    assert [row[0] for row in created] == [1, 2, 3, 4, 5]
    assert {row[1] for row in created} == {"created"}
    last_seen = created[-1][0]

    # Next night: Ann moved house, Bob was found to be Cal (merged), a record split off
    # Cal into a new golden record, Dee's only record was deleted at source; Eve is as she
    # was.
    golden, sources = night(
        {"GR1": {**ANN, "postcode": "ZZ9 9ZZ"}, "GR3": CAL, "GR5": BOB, "GR6": EVE},
        {
            "GR1": ["revenues:r1", "housing:h1"],
            "GR3": ["portal:p3", "revenues:r2"],
            "GR5": ["waste:w3"],
            "GR6": ["housing:h6"],
        },
    )
    summary = publish(
        golden,
        sources,
        "2026-11-03",
        crm,
        lineage=lineage(merged_into={"GR2": "GR3"}, split_from={"GR5": "GR3"}),
    )
    assert summary.events == {"split": 1, "updated": 2, "merged": 1, "retired": 1}
    rows = feed(crm, after=last_seen)
    assert [row[0] for row in rows] == [6, 7, 8, 9, 10]  # contiguous, after the last seen
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("split", "GR5", "GR3"),
        ("updated", "GR1", None),
        ("updated", "GR3", None),
        ("merged", "GR2", "GR3"),
        ("retired", "GR4", None),
    ]
    changed = {r[2]: r[4] if isinstance(r[4], list) else json.loads(r[4]) for r in rows[1:3]}
    assert changed == {"GR1": ["postcode"], "GR3": ["source_systems", "source_records"]}
    assert feed(crm, after=rows[-1][0]) == []
    tables = dump(crm)
    assert sorted(r[0] for r in tables["golden_customer"]) == ["GR1", "GR3", "GR5", "GR6"]
    # Only the rows that changed were rewritten: they name the run that changed them.
    engine = create_engine(crm)
    with engine.connect() as connection:
        changed_in = dict(
            connection.execute(text("SELECT golden_id, changed_in_run FROM crm_golden_customer"))
            .tuples()
            .all()
        )
    engine.dispose()
    assert changed_in == {
        "GR1": "2026-11-03",
        "GR3": "2026-11-03",
        "GR5": "2026-11-03",
        "GR6": "2026-11-02",
    }


def test_a_golden_id_whose_records_joined_another_is_merged_into_it_lineage_or_not(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    # The night re-run after a steward said Bob is Cal: the store minted the night's IDs
    # afresh and its lineage knows nothing of GR2, which the CRM holds; nor of GR4, whose
    # one record a steward put with Ann's.
    golden, sources = night(
        {"GR1": ANN, "GR3": CAL},
        {
            "GR1": ["revenues:r1", "housing:h1", "revenues:r4"],
            "GR3": ["portal:p3", "waste:w3", "revenues:r2"],
        },
    )
    publish(golden, sources, "2026-11-02", crm)
    merges = [(r[1], r[2], r[3]) for r in feed(crm, after=4) if r[1] in ("merged", "retired")]
    assert merges == [("merged", "GR2", "GR3"), ("merged", "GR4", "GR1")]


def test_changes_from_a_night_that_never_published_arrive_with_the_next_publish(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    # 2026-11-03 was stopped by a gate (Ann's surname changed that night); 2026-11-04
    # changes Bob's postcode. The feed holds both changes, relative to what the CRM had.
    golden, sources = night(
        {
            "GR1": {**ANN, "surname": "Smyth"},
            "GR2": {**BOB, "postcode": "CD3 4EF"},
            "GR3": CAL,
            "GR4": DEE,
        },
        {
            "GR1": ["revenues:r1", "housing:h1"],
            "GR2": ["revenues:r2"],
            "GR3": ["portal:p3", "waste:w3"],
            "GR4": ["revenues:r4"],
        },
    )
    publish(golden, sources, "2026-11-04", crm)
    rows = feed(crm, after=4)
    assert [(r[1], r[2]) for r in rows] == [("updated", "GR1"), ("updated", "GR2")]


def test_a_publish_that_fails_midway_leaves_the_previous_state_visible(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    before = dump(crm)
    # Tonight Ann changes, and a golden record arrives without its required source
    # systems: the database refuses the row after the changed rows were written.
    golden, sources = first_night()
    golden.loc[0, "surname"] = "Smyth"
    golden.loc[3, "source_systems"] = None
    with pytest.raises(
        PublishError, match="publishing run 2026-11-03 failed: the CRM database"
    ) as error:
        publish(golden, sources, "2026-11-03", crm)
    assert dump(crm) == before
    # The driver names the failing row's values; none of them reach the message or log.
    assert "Dee" not in str(error.value) and error.value.__cause__ is None
    golden.loc[3, "source_systems"] = "revenues"
    assert publish(golden, sources, "2026-11-03", crm).events == {"updated": 1}


def test_the_audit_refuses_staged_rows_that_break_the_contract(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    before = dump(crm)
    orphan = sources.copy()
    orphan.loc[0, "golden_id"] = "GR9"
    with pytest.raises(
        PublishError, match="every source record points at a published golden record.* at GR9"
    ):
        publish(golden, orphan, "2026-11-03", crm)
    doubled = golden.copy()
    doubled.loc[1, "golden_id"] = "GR1"
    with pytest.raises(PublishError, match="every golden record is staged once.* at GR1"):
        publish(doubled, sources, "2026-11-03", crm)
    assert dump(crm) == before


def test_an_older_run_never_rolls_the_crm_back(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-03", crm)
    before = dump(crm)
    older = publish(golden.head(2), sources.head(3), "2026-11-02", crm)
    assert (older.outcome, older.superseded_by) == ("superseded", "2026-11-03")
    assert dump(crm) == before


def test_a_lock_held_by_another_session_fails_the_publish_clearly_then_it_publishes(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    before = dump(crm)
    golden.loc[0, "surname"] = "Smyth"
    holder = create_engine(crm).connect()
    if holder.dialect.name == "postgresql":
        # A CRM job holding the table, as an upgrade or a long report might.
        holder.execute(text("BEGIN"))
        holder.execute(text("LOCK TABLE golden_customer IN ACCESS EXCLUSIVE MODE"))
    else:
        holder.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        with pytest.raises(PublishError, match="stayed locked by another session for 1 s"):
            publish(golden, sources, "2026-11-03", crm, lock_timeout=1)
    finally:
        holder.rollback()
        holder.close()
    assert dump(crm) == before
    assert publish(golden, sources, "2026-11-03", crm, lock_timeout=1).events == {"updated": 1}


def test_two_publishes_never_interleave_on_postgresql(postgres):
    # (On SQLite, BEGIN IMMEDIATE is the lock: the test above holds it.)
    crm = postgres.create_database("crm_interleave")
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    other = create_engine(crm).connect()
    other.execute(text("BEGIN"))
    other.execute(text("SELECT name FROM crm_publish_lock FOR UPDATE"))
    try:
        with pytest.raises(PublishError, match="stayed locked"):
            publish(golden, sources, "2026-11-03", crm, lock_timeout=1)
    finally:
        other.rollback()
        other.close()


def test_an_unreachable_crm_fails_clearly_and_the_next_run_publishes(crm, postgres):
    golden, sources = first_night()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = f"postgresql+psycopg2://crm:secret@127.0.0.1:{closed_port}/crm"
    with pytest.raises(PublishError, match="cannot reach the CRM database at postgresql") as error:
        publish(golden, sources, "2026-11-02", unreachable)
    assert "secret" not in str(error.value)
    with pytest.raises(PublishError, match="cannot reach the CRM database at sqlite"):
        publish(golden, sources, "2026-11-02", "sqlite:////proc/no-such-folder/crm.db")
    assert publish(golden, sources, "2026-11-02", crm).outcome == "published"


def test_a_column_renamed_by_a_crm_upgrade_stops_the_publish_until_it_is_put_back(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    execute(crm, "ALTER TABLE golden_customer RENAME COLUMN surname TO last_name")
    before = dump(crm)
    golden.loc[0, "surname"] = "Smyth"
    with pytest.raises(
        PublishError,
        match="golden_customer has no column surname; "
        "golden_customer has unexpected column last_name",
    ):
        publish(golden, sources, "2026-11-03", crm)
    assert dump(crm) == before
    execute(crm, "ALTER TABLE golden_customer RENAME COLUMN last_name TO surname")
    assert publish(golden, sources, "2026-11-03", crm).events == {"updated": 1}


def test_a_night_stages_only_the_rows_that_changed(crm, monkeypatch):
    """Row hashes (contract v4) and the source keys find the changed rows before staging:
    a night with one changed customer and one moved record stages exactly those."""
    from golden_record.publish import staging

    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    staged: dict[str, int] = {}
    real = staging.bulk_insert

    def counting(connection, table, frame):
        staged[table] = staged.get(table, 0) + len(frame)
        return real(connection, table, frame)

    monkeypatch.setattr(staging, "bulk_insert", counting)
    changed = golden.copy()
    changed.loc[changed["golden_id"] == "GR2", "surname"] = "Jones-Smith"
    moved = sources.copy()
    moved.loc[moved["source_record_id"] == "w3", "golden_id"] = "GR4"
    changed.loc[changed["golden_id"] == "GR3", "source_record_count"] = 1
    changed.loc[changed["golden_id"] == "GR4", "source_record_count"] = 2
    summary = publish(changed, moved, "2026-11-03", crm)
    assert summary.events == {"updated": 3}
    assert staged[staging.STAGED_GOLDEN] == 3  # GR2's name, GR3's and GR4's counts
    assert staged[staging.STAGED_SOURCES] == 1  # waste:w3 alone
    rows = {r[2]: r[4] if isinstance(r[4], list) else json.loads(r[4]) for r in feed(crm, after=4)}
    assert rows["GR2"] == ["surname"] and "source_records" in rows["GR4"]


def test_rows_published_before_row_hashes_are_compared_in_full_once(crm):
    """A CRM published to under contract v3 holds no row hashes: the next night compares
    every row, publishes no spurious change, fills the hashes, and keeps each row's run."""
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    execute(crm, "UPDATE golden_customer SET row_hash = NULL")
    changed = golden.copy()
    changed.loc[changed["golden_id"] == "GR1", "surname"] = "Smythe"
    summary = publish(changed, sources, "2026-11-03", crm)
    assert summary.events == {"updated": 1}
    rows = dump(crm)["golden_customer"]
    engine = create_engine(crm)
    with engine.connect() as connection:
        kept = dict(
            connection.execute(text("SELECT golden_id, changed_in_run FROM golden_customer")).all()
        )
        hashes = [h for (h,) in connection.execute(text("SELECT row_hash FROM golden_customer"))]
    engine.dispose()
    assert len(rows) == 4 and all(hashes)
    assert kept == {
        "GR1": "2026-11-03",
        "GR2": "2026-11-02",
        "GR3": "2026-11-02",
        "GR4": "2026-11-02",
    }


def test_a_duplicate_of_an_unchanged_row_is_refused_before_anything_is_staged(crm):
    golden, sources = first_night()
    publish(golden, sources, "2026-11-02", crm)
    before = dump(crm)
    doubled = pd.concat([sources, sources.iloc[:1]], ignore_index=True)
    with pytest.raises(PublishError, match="every source record is staged once.* revenues:r1"):
        publish(golden, doubled, "2026-11-03", crm)
    assert dump(crm) == before
