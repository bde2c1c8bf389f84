"""Write and audit: the night's golden records loaded into staging tables in the CRM
database, then checked there before anything is made visible.

Staging tables are temporary (private to the publishing session, gone when it ends), so
two sessions never see each other's half-loaded rows and a failed publish leaves none.
PostgreSQL loads with ``COPY``; SQLite with batched inserts (:mod:`golden_record.bulk_load`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from golden_record.bulk_load import bulk_insert

STAGED_GOLDEN = "stage_golden_customer"
STAGED_SOURCES = "stage_golden_customer_source"
SOURCE_KEY = ("source_system", "source_record_id")
SOURCE_COLUMNS = (*SOURCE_KEY, "golden_id", "cluster_match_probability")


class AuditFailed(RuntimeError):
    """The staged rows break the contract; nothing was made visible."""


def _drop_temp(connection: Connection, name: str) -> None:
    # SQLite keeps temporary tables for the pooled connection, so an old one may remain.
    prefix = "temp." if connection.dialect.name == "sqlite" else ""
    connection.execute(text(f"DROP TABLE IF EXISTS {prefix}{name}"))


def create_temp_table(connection: Connection, name: str, columns: str) -> None:
    """A temporary table private to this session (PostgreSQL drops it at commit)."""
    _drop_temp(connection, name)
    at_commit = " ON COMMIT DROP" if connection.dialect.name == "postgresql" else ""
    connection.execute(text(f"CREATE TEMP TABLE {name} ({columns}){at_commit}"))


def create_temp_copy(connection: Connection, name: str, table: str) -> None:
    """An empty temporary table with ``table``'s columns."""
    _drop_temp(connection, name)
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(f"CREATE TEMP TABLE {name} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
        )
    else:
        connection.execute(text(f"CREATE TEMP TABLE {name} AS SELECT * FROM {table} WHERE 0"))


def stage(
    connection: Connection,
    golden: pd.DataFrame,
    sources: pd.DataFrame,
    golden_columns: Sequence[str],
    run_key: str,
) -> None:
    create_temp_copy(connection, STAGED_GOLDEN, "golden_customer")
    create_temp_copy(connection, STAGED_SOURCES, "golden_customer_source")
    bulk_insert(
        connection, STAGED_GOLDEN, golden[list(golden_columns)].assign(changed_in_run=run_key)
    )
    bulk_insert(
        connection, STAGED_SOURCES, sources[list(SOURCE_COLUMNS)].assign(changed_in_run=run_key)
    )
    if connection.dialect.name == "postgresql":
        # Temporary tables are never auto-analysed; without statistics the comparison
        # with the published tables can pick nested loops over 600,000 rows.
        connection.execute(text(f"ANALYZE {STAGED_GOLDEN}"))
        connection.execute(text(f"ANALYZE {STAGED_SOURCES}"))
    else:
        connection.execute(
            text(f"CREATE INDEX temp.ix_{STAGED_GOLDEN} ON {STAGED_GOLDEN} (golden_id)")
        )
        connection.execute(
            text(
                f"CREATE INDEX temp.ix_{STAGED_SOURCES} ON {STAGED_SOURCES}"
                " (source_system, source_record_id)"
            )
        )


# Each audit: what it guards, and a query returning an offending key (no row = passed).
# The night's changed rows, as staged:
AUDITS = (
    (
        "every golden record is staged once",
        f"SELECT golden_id FROM {STAGED_GOLDEN} GROUP BY golden_id HAVING COUNT(*) > 1",
    ),
    (
        "no golden record lacks its ID",
        f"SELECT 'null' FROM {STAGED_GOLDEN} WHERE golden_id IS NULL",
    ),
    (
        "every source record is staged once",
        f"SELECT source_system || ':' || source_record_id FROM {STAGED_SOURCES}"
        " GROUP BY source_system, source_record_id HAVING COUNT(*) > 1",
    ),
)
# The CRM's tables as a whole once the changes are applied, before the commit:
PUBLISHED_AUDITS = (
    (
        # Names the golden ID pointed at: reading the source records' golden IDs alone,
        # the database reads them from their index (0.2 s at a million, where reading
        # each row for its key took 1.2 s).
        "every source record points at a published golden record",
        "SELECT s.golden_id FROM golden_customer_source s"
        " LEFT JOIN golden_customer g ON g.golden_id = s.golden_id WHERE g.golden_id IS NULL",
    ),
    (
        "every golden record has the source records it counts",
        "SELECT g.golden_id FROM golden_customer g LEFT JOIN"
        " (SELECT golden_id, COUNT(*) AS n FROM golden_customer_source GROUP BY golden_id) c"
        " ON c.golden_id = g.golden_id"
        " WHERE c.n IS NULL OR c.n <> g.source_record_count",
    ),
)


def _first_offence(connection: Connection, audits: tuple[tuple[str, str], ...]) -> None:
    for rule, query in audits:
        # No LIMIT 1: PostgreSQL then expects an early hit and plans nested loops, which
        # on a passing audit (no hit) cost hours at a million rows.
        offending = connection.execute(text(query)).first()
        if offending is not None:
            raise AuditFailed(f"audit '{rule}' failed at {offending[0]}")


def _counts(connection: Connection, golden: str, sources: str) -> tuple[int, int]:
    return (
        int(connection.execute(text(f"SELECT COUNT(*) FROM {golden}")).scalar() or 0),
        int(connection.execute(text(f"SELECT COUNT(*) FROM {sources}")).scalar() or 0),
    )


def audit(connection: Connection, golden_rows: int, source_rows: int) -> None:
    """Check the staged rows; raise :class:`AuditFailed` naming the first offending key."""
    counted = _counts(connection, STAGED_GOLDEN, STAGED_SOURCES)
    if counted != (golden_rows, source_rows):
        raise AuditFailed(
            f"staged {counted[0]} golden and {counted[1]} source rows,"
            f" expected {golden_rows} and {source_rows}"
        )
    _first_offence(connection, AUDITS)


def audit_published(connection: Connection, golden_rows: int, source_rows: int) -> None:
    """Check the CRM's tables as the night leaves them (uncommitted): the night's whole
    population, each source record's golden record and each golden record's count."""
    counted = _counts(connection, "golden_customer", "golden_customer_source")
    if counted != (golden_rows, source_rows):
        raise AuditFailed(
            f"the CRM would hold {counted[0]} golden and {counted[1]} source rows,"
            f" the night has {golden_rows} and {source_rows}"
        )
    _first_offence(connection, PUBLISHED_AUDITS)
