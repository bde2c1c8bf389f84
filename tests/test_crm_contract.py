"""The CRM contract: versioned DDL for SQLite and PostgreSQL, and the migration path from
databases published to by earlier releases."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from golden_record.publish import LATEST_VERSION, PublishError, publish
from golden_record.publish.contract import expected_columns, migrations
from tests.crm_fixtures import execute, night


def _query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(text(sql))]
    engine.dispose()
    return rows


def test_both_dialects_have_the_same_versions_and_build_the_same_columns(crm):
    assert [m.name for m in migrations("sqlite")] == [m.name for m in migrations("postgresql")]
    golden, sources = night({"GR1": {"surname": "Smith"}}, {"GR1": ["revenues:r1"]})
    assert publish(golden, sources, "2026-11-02", crm).migrated_to == [1, 2, 3, 4, 5, 6]
    engine = create_engine(crm)
    inspector = inspect(engine)
    for table, columns in expected_columns().items():
        assert tuple(sorted(c["name"] for c in inspector.get_columns(table))) == columns
    assert {"crm_golden_customer", "crm_change_feed", "crm_latest_publish"} <= set(
        inspector.get_view_names()
    )
    engine.dispose()
    versions = _query(crm, "SELECT version, name FROM crm_schema_version ORDER BY 1")
    assert versions == [
        (1, "golden_customer"),
        (2, "provenance"),
        (3, "change_feed"),
        (4, "row_hash"),
        (5, "rights"),
        (6, "withdrawn_publish"),
    ]
    assert LATEST_VERSION == 6


def test_a_v1_database_from_the_first_release_is_carried_to_the_latest_keeping_its_rows(
    crm,
):
    dialect = "postgresql" if crm.startswith("postgresql") else "sqlite"
    execute(crm, *migrations(dialect)[0].statements())  # as the first release left it
    execute(
        crm,
        "INSERT INTO golden_customer (golden_id, surname, date_of_birth, source_record_count,"
        " source_systems, run_key) VALUES ('GR1', 'Smith', '1980-02-03', 1, 'revenues',"
        " '2026-10-01')",
        "INSERT INTO golden_customer_source VALUES ('revenues', 'r1', 'GR1', 0.99, '2026-10-01')",
        "INSERT INTO publish_log VALUES ('2026-10-01', '2026-10-01T02:30:00Z', 1, 1)",
    )
    from golden_record.publish.database import crm_engine

    engine = crm_engine(crm)
    with engine.begin() as connection:
        from golden_record.publish import migrate

        assert migrate(connection) == [2, 3, 4, 5, 6]
    engine.dispose()
    row = _query(
        crm,
        "SELECT golden_id, surname, date_of_birth, emails, changed_in_run FROM crm_golden_customer",
    )
    assert [(r[0], r[1], str(r[2]), r[4]) for r in row] == [
        ("GR1", "Smith", "1980-02-03", "2026-10-01")
    ]
    assert _query(crm, "SELECT publish_id, run_key, contract_version FROM crm_publish") == [
        (1, "2026-10-01", 2)
    ]
    assert [r[0] for r in _query(crm, "SELECT version FROM crm_schema_version")] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]

    # The next publish continues the story: Ann Smith's record is updated, not re-created.
    golden, sources = night(
        {"GR1": {"surname": "Smith", "date_of_birth": "1980-02-03", "first_name": "Ann"}},
        {"GR1": ["revenues:r1"]},
    )
    summary = publish(golden, sources, "2026-11-02", crm)
    assert (summary.publish_id, summary.events) == (2, {"updated": 1})


def test_a_database_at_a_newer_contract_than_the_pipeline_is_refused(crm):
    golden, sources = night({"GR1": {"surname": "Smith"}}, {"GR1": ["revenues:r1"]})
    publish(golden, sources, "2026-11-02", crm)
    execute(crm, "INSERT INTO crm_schema_version VALUES (7, 'future', '2027-01-01')")
    with pytest.raises(PublishError, match="contract v7, newer than this pipeline's v6"):
        publish(golden, sources, "2026-11-03", crm)
