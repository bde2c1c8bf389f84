"""The CRM contract: its numbered migrations, the version a database is at, and a check
that the published tables still have the columns the contract says.

Migrations are plain SQL files, ``sql/crm/<dialect>/NNN_name.sql``, one per contract
version, applied in order inside one transaction and recorded in ``crm_schema_version``.
Databases published to before the contract was versioned (v1 and v2 had no version
table) are recognised by their columns and carried forward from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection

from golden_record.paths import SQL_DIR

CONTRACT_DIR = SQL_DIR / "crm"
DIALECTS = ("sqlite", "postgresql")
# The tables the publish writes; a CRM upgrade that renames one of their columns must be
# caught before anything is written.
PUBLISHED_TABLES = (
    "golden_customer",
    "golden_customer_source",
    "golden_change_feed",
    "crm_publish",
    "crm_publish_lock",
)
VERSION_TABLE = "crm_schema_version"
_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# Serialises migrations on PostgreSQL (any constant shared by every publisher works).
_MIGRATION_LOCK_KEY = 7_104_733_512


class ContractError(RuntimeError):
    """The CRM database does not match the contract; nothing was written."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        lines = [
            line
            for line in self.path.read_text(encoding="utf-8").splitlines()
            if not line.strip().startswith("--")
        ]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def dialect_of(connection: Connection) -> str:
    name = connection.dialect.name
    if name not in DIALECTS:
        raise ContractError(
            f"the CRM contract has DDL for {' and '.join(DIALECTS)}, not for {name}"
        )
    return name


def migrations(dialect: str) -> list[Migration]:
    found = []
    for path in sorted((CONTRACT_DIR / dialect).glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise ContractError(f"{path}: migration files are named NNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ContractError(f"{CONTRACT_DIR / dialect}: migrations must be numbered 1..n")
    return found


LATEST_VERSION = len(migrations("sqlite"))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _columns(connection: Connection, table: str) -> list[str]:
    return [c["name"] for c in inspect(connection).get_columns(table)]


def latest_run(connection: Connection, before: str | None = None) -> str | None:
    """The latest run published and not withdrawn (``before``: the latest before that run);
    None if there is none. A withdrawn publish (contract v6, ``golden-record night undo``)
    was a run published by mistake and counts for nothing."""
    live = "withdrawn_at IS NULL" if "withdrawn_at" in _columns(connection, "crm_publish") else ""
    conditions = [c for c in (live, "run_key < :before" if before is not None else "") if c]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    query = text(f"SELECT MAX(run_key) FROM crm_publish{where}")
    found = connection.execute(query, {"before": before} if before is not None else {}).scalar()
    return None if found is None else str(found)


def current_version(connection: Connection) -> int:
    """The contract version the database is at; 0 for an empty database."""
    tables = _tables(connection)
    if VERSION_TABLE in tables:
        found = connection.execute(text(f"SELECT MAX(version) FROM {VERSION_TABLE}")).scalar()
        return int(found or 0)
    if "golden_customer" not in tables:
        return 0
    # Published to by a release from before the version table: v2 added provenance.
    return 2 if "name_source_system" in _columns(connection, "golden_customer") else 1


def migrate(connection: Connection) -> list[int]:
    """Bring the database up to the latest contract inside the caller's transaction;
    return the versions applied. A database newer than this code is refused."""
    dialect = dialect_of(connection)
    if dialect == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))
    version = current_version(connection)
    if version > LATEST_VERSION:
        raise ContractError(
            f"the CRM database is at contract v{version}, newer than this pipeline's "
            f"v{LATEST_VERSION}: upgrade the pipeline before publishing"
        )
    if version == LATEST_VERSION:
        return []  # the usual night: no DDL, so a CRM login without DDL rights suffices
    if VERSION_TABLE not in _tables(connection):
        connection.execute(
            text(
                f"CREATE TABLE {VERSION_TABLE} ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        )
    if version and not connection.execute(text(f"SELECT 1 FROM {VERSION_TABLE}")).first():
        # Record what an unversioned database already had, so the history is complete.
        for migration in migrations(dialect)[:version]:
            _record(connection, migration, "before versioning")
    applied = []
    for migration in migrations(dialect)[version:]:
        for number, statement in enumerate(migration.statements(), start=1):
            try:
                connection.execute(text(statement))
            except Exception as exc:
                raise ContractError(
                    f"migrating the CRM contract to v{migration.version} failed at statement "
                    f"{number} of {migration.path.name}: {exc}"
                ) from exc
        _record(connection, migration, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        applied.append(migration.version)
    return applied


def _record(connection: Connection, migration: Migration, applied_at: str) -> None:
    connection.execute(
        text(f"INSERT INTO {VERSION_TABLE} (version, name, applied_at) VALUES (:v, :n, :a)"),
        {"v": migration.version, "n": migration.name, "a": applied_at},
    )


@cache
def expected_columns() -> dict[str, tuple[str, ...]]:
    """Each published table's columns at the latest version, as the migrations make them
    (SQLite's and PostgreSQL's files must agree on names; a test holds them to it)."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as connection:
            migrate(connection)
            return {t: tuple(sorted(_columns(connection, t))) for t in PUBLISHED_TABLES}
    finally:
        engine.dispose()


def check_tables(connection: Connection) -> None:
    """Refuse to publish into tables whose columns differ from the contract, naming what
    is missing and what is unexpected (a CRM upgrade renaming a column shows as both)."""
    tables = _tables(connection)
    problems = []
    for table, wanted in expected_columns().items():
        if table not in tables:
            problems.append(f"table {table} is missing")
            continue
        found = set(_columns(connection, table))
        missing, extra = sorted(set(wanted) - found), sorted(found - set(wanted))
        if missing:
            problems.append(f"{table} has no column {', '.join(missing)}")
        if extra:
            problems.append(f"{table} has unexpected column {', '.join(extra)}")
    if problems:
        raise ContractError(
            f"the CRM tables do not match contract v{LATEST_VERSION}: "
            + "; ".join(problems)
            + " (was a column renamed by a CRM upgrade?). Nothing was published; "
            "see sql/crm/README.md"
        )
