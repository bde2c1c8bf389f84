"""Write-audit-publish into the CRM database: stage, audit, then one transaction.

1. Bring the database to the latest contract (:mod:`golden_record.publish.contract`), in its own
   transaction; check the published tables still have the contract's columns.
2. Find the golden and source rows that differ from what is published
   (:mod:`golden_record.publish.difference`: row hashes and source keys, in memory),
   write only those into temporary staging tables and audit them there
   (:mod:`golden_record.publish.staging`).
3. Compare them with what is published, rewrite only the rows that changed and append
   the change feed under the next sequence numbers (:mod:`golden_record.publish.changes`),
   then audit the CRM's tables as a whole as the night leaves them; all in the same
   transaction as the staging, which holds the publish lock from its first statement.
   Readers see last night's state until the commit, then tonight's.

A rerun that would change nothing is rolled back, so the tables stay byte for byte as
they were; a run older than the last one published is refused without writing, since
publishing it would roll the CRM back, unless the runs after it are being withdrawn in
the same transaction (:class:`Withdrawal`: runs published by mistake, undone).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from golden_record.bulk_load import bulk_insert
from golden_record.publish import changes, contract, staging
from golden_record.publish.database import crm_engine, explain, lock_publish, safe_url
from golden_record.publish.difference import check_keys, difference

FEED_TABLE = "golden_change_feed"


class PublishError(RuntimeError):
    """Nothing was published; the CRM still shows its previous state. ``transient``: a
    later attempt may succeed unchanged (a lock was held, the database was unreachable)."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class PublishSummary:
    run_key: str
    outcome: str  # published | unchanged | superseded
    golden_records: int
    source_records: int
    crm: str
    contract_version: int = contract.LATEST_VERSION
    publish_id: int | None = None
    events: dict[str, int] = field(default_factory=dict)
    first_sequence: int | None = None
    last_sequence: int | None = None
    migrated_to: list[int] = field(default_factory=list)
    superseded_by: str | None = None


@dataclass(frozen=True)
class Withdrawal:
    """Runs published by mistake, withdrawn by the publish that puts the last good run
    back (contract v6): their ``crm_publish`` rows are marked, never deleted."""

    run_keys: tuple[str, ...]
    by: str
    reason: str


def golden_columns() -> tuple[str, ...]:
    """The golden_customer columns a publish fills, golden_id first."""
    columns = set(contract.expected_columns()["golden_customer"]) - {"changed_in_run", "row_hash"}
    return ("golden_id", *sorted(columns - {"golden_id"}))


def _check_frames(run_key: str, golden: pd.DataFrame, sources: pd.DataFrame) -> None:
    wanted = set(golden_columns())
    missing, extra = sorted(wanted - set(golden.columns)), sorted(set(golden.columns) - wanted)
    problems = []
    if missing:
        problems.append(f"lack column {', '.join(missing)}")
    if extra:
        problems.append(f"carry column {', '.join(extra)} the contract has no place for")
    absent = sorted(set(staging.SOURCE_COLUMNS) - set(sources.columns))
    if absent:
        problems.append(f"source cross-reference lacks {', '.join(absent)}")
    if problems:
        raise contract.ContractError(
            f"the golden records of run {run_key} do not fit CRM contract "
            f"v{contract.LATEST_VERSION}: " + "; ".join(problems)
        )


def publish(
    golden: pd.DataFrame,
    sources: pd.DataFrame,
    run_key: str,
    crm_url: str,
    lineage: pd.DataFrame | None = None,
    lock_timeout: float | None = None,
    rights_events: dict[str, str] | None = None,
    rights_request: int | None = None,
    withdrawal: Withdrawal | None = None,
) -> PublishSummary:
    """Publish one run's golden records (``golden``: one row per active golden ID) and
    their source records (``sources``); ``lineage`` (golden_id, merged_into, split_from)
    from the golden store names merges and splits in the change feed.

    A rights request (:mod:`golden_record.rights`) publishes the CRM's own last run again
    with a resident taken out or put back: ``rights_events`` names what each such golden
    ID's leaving or return is in the feed, ``rights_request`` the request it answers."""
    where = safe_url(crm_url)
    engine = None
    try:
        _check_frames(run_key, golden, sources)
        engine = crm_engine(crm_url, lock_timeout)
        with engine.connect() as connection:
            with connection.begin():
                migrated = contract.migrate(connection)
            transaction = connection.begin()
            try:
                summary = _publish(
                    connection,
                    golden,
                    sources,
                    run_key,
                    lineage,
                    where,
                    rights_events or {},
                    rights_request,
                    withdrawal,
                )
            except BaseException:
                transaction.rollback()
                raise
            if summary.outcome == "published":
                transaction.commit()
            else:
                transaction.rollback()  # nothing to change: not even a log row
    except (contract.ContractError, staging.AuditFailed) as exc:
        raise PublishError(f"publishing run {run_key} to {where} failed: {exc}") from exc
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        failure = explain(exc, crm_url, lock_timeout)
        # Not chained: the driver's error carries the failing row (residents' details),
        # and Airflow logs chained tracebacks.
        raise PublishError(
            f"publishing run {run_key} failed: {failure.message}. Nothing was published; "
            "the CRM shows its previous state",
            transient=failure.transient,
        ) from None
    except OSError as exc:  # the embedded database's folder cannot be made
        raise PublishError(
            f"publishing run {run_key} failed: cannot reach the CRM database at {where}: {exc}",
            transient=True,
        ) from exc
    finally:
        if engine is not None:
            engine.dispose()
    return replace(summary, migrated_to=migrated)


def _publish(
    connection: Connection,
    golden: pd.DataFrame,
    sources: pd.DataFrame,
    run_key: str,
    lineage: pd.DataFrame | None,
    where: str,
    rights_events: dict[str, str],
    rights_request: int | None,
    withdrawal: Withdrawal | None = None,
) -> PublishSummary:
    lock_publish(connection)
    contract.check_tables(connection)
    withdrawn = _withdraw(connection, withdrawal) if withdrawal else 0
    base: dict[str, Any] = {
        "run_key": run_key,
        "golden_records": len(golden),
        "source_records": len(sources),
        "crm": where,
    }
    latest = contract.latest_run(connection)
    if latest is not None and run_key < latest:
        return PublishSummary(**base, outcome="superseded", superseded_by=latest)

    columns = golden_columns()
    check_keys(golden, sources)
    found = difference(connection, golden, sources, columns)
    staging.stage(connection, found.golden, found.sources, [*columns, "row_hash"], run_key)
    staging.audit(connection, len(found.golden), len(found.sources))
    change_set, write_ids, remove_ids = changes.compare(
        connection, columns, lineage, found, rights_events
    )
    source_rows = changes.apply(connection, columns, write_ids, remove_ids, found)
    staging.audit_published(connection, len(golden), len(sources))
    published_before = connection.execute(
        text("SELECT 1 FROM crm_publish WHERE run_key = :run_key"), {"run_key": run_key}
    ).first()
    if published_before and change_set.empty and not source_rows and not withdrawn:
        return PublishSummary(**base, outcome="unchanged")

    publish_id = _next(connection, "publish_id", "crm_publish")
    first = _next(connection, "sequence", FEED_TABLE)
    events = change_set.events
    last = first + len(events) - 1 if len(events) else None
    connection.execute(
        text(
            "INSERT INTO crm_publish (publish_id, run_key, published_at, contract_version,"
            " golden_records, source_records, events, first_sequence, last_sequence,"
            " rights_request)"
            " VALUES (:publish_id, :run_key, :published_at, :version, :golden, :sources,"
            " :events, :first, :last, :rights_request)"
        ),
        {
            "publish_id": publish_id,
            "run_key": run_key,
            "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "version": contract.LATEST_VERSION,
            "golden": len(golden),
            "sources": len(sources),
            "events": len(events),
            "first": first if len(events) else None,
            "last": last,
            "rights_request": rights_request,
        },
    )
    if len(events):
        feed = events.assign(
            sequence=range(first, first + len(events)), publish_id=publish_id, run_key=run_key
        )
        bulk_insert(connection, FEED_TABLE, feed)
    return PublishSummary(
        **base,
        outcome="published",
        publish_id=publish_id,
        events=change_set.counts,
        first_sequence=first if len(events) else None,
        last_sequence=last,
    )


def _withdraw(connection: Connection, withdrawal: Withdrawal) -> int:
    """Mark the publishes of the withdrawn runs (not already withdrawn); how many."""
    if not withdrawal.by.strip() or not withdrawal.reason.strip():
        raise contract.ContractError("withdrawing a publish needs who withdraws it and why")
    marked = 0
    for run_key in withdrawal.run_keys:
        result = connection.execute(
            text(
                "UPDATE crm_publish SET withdrawn_at = :at, withdrawn_by = :by,"
                " withdrawn_reason = :reason WHERE run_key = :run_key AND withdrawn_at IS NULL"
            ),
            {
                "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "by": withdrawal.by,
                "reason": withdrawal.reason,
                "run_key": run_key,
            },
        )
        marked += int(result.rowcount or 0)
    return marked


def _next(connection: Connection, column: str, table: str) -> int:
    return int(connection.execute(text(f"SELECT MAX({column}) FROM {table}")).scalar() or 0) + 1
