"""An erased person in the golden store: their rows deleted in the caller's transaction,
their source records' keyed hashes on the suppression list, and that list read by each
night's extracts. What erasure does as a whole is :mod:`golden_record.rights.erasure`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, create_engine, delete, insert, inspect, or_, select
from sqlalchemy.engine import Connection

from golden_record.database_urls import with_installed_driver
from golden_record.golden.store import schema
from golden_record.golden.store.common import CHUNK, missing_sqlite_file, now_text
from golden_record.golden.store.reading import StoreReading


def suppressed_hashes(store_url: str) -> set[str]:
    """Every suppressed record's hash; empty when the store has no list (or no store).

    Read without creating anything (unlike opening the store), since the extracts read
    it at once."""
    if missing_sqlite_file(store_url) is not None:
        return set()
    engine = create_engine(with_installed_driver(store_url))
    try:
        if not inspect(engine).has_table(schema.suppression.name):
            return set()
        with engine.connect() as connection:
            return set(connection.execute(select(schema.suppression.c.record_hash)).scalars())
    finally:
        engine.dispose()


def _in_chunks(connection: Connection, make: Callable[[list[str]], Any], values: list[str]) -> int:
    removed = 0
    for start in range(0, len(values), CHUNK):
        removed += connection.execute(make(values[start : start + CHUNK])).rowcount or 0
    return removed


class ErasureRecords(StoreReading):
    """Deleting a person's rows and listing their records as suppressed."""

    @staticmethod
    def purge_person(connection: Connection, ids: list[str], records: list[str]) -> dict[str, int]:
        """Delete every row of the person's golden IDs and source records; returns how
        many of each table. Change events and the golden IDs' registration are kept."""
        v, x, c = schema.golden_version, schema.xref_version, schema.record_version
        r, d, s = schema.review_item, schema.review_detail, schema.steward_decision
        removed: dict[str, int] = {}
        # Earlier versions of other golden records that named one of the person's records
        # as a value's source (a wrong merge since split apart) carry the person's values.
        named = (
            [
                version_id
                for version_id, attributes in connection.execute(
                    select(v.c.version_id, v.c.attributes).where(
                        and_(v.c.golden_id.not_in(ids), v.c.valid_to_run.is_not(None))
                    )
                ).tuples()
                if any(f'"{record}"' in attributes for record in records)
            ]
            if records
            else []
        )
        removed["golden_version"] = _in_chunks(
            connection, lambda part: delete(v).where(v.c.golden_id.in_(part)), ids
        ) + _in_chunks(connection, lambda part: delete(v).where(v.c.version_id.in_(part)), named)
        removed["xref_version"] = _in_chunks(
            connection, lambda part: delete(x).where(x.c.unique_id.in_(part)), records
        ) + _in_chunks(connection, lambda part: delete(x).where(x.c.golden_id.in_(part)), ids)
        removed["record_version"] = _in_chunks(
            connection, lambda part: delete(c).where(c.c.unique_id.in_(part)), records
        )
        details = set()
        for start in range(0, len(records), CHUNK):
            part = records[start : start + CHUNK]
            details |= set(
                connection.execute(
                    select(r.c.detail_hash).where(
                        and_(
                            or_(r.c.record_a.in_(part), r.c.record_b.in_(part)),
                            r.c.detail_hash.is_not(None),
                        )
                    )
                ).scalars()
            )
        removed["review_item"] = _in_chunks(
            connection,
            lambda part: delete(r).where(or_(r.c.record_a.in_(part), r.c.record_b.in_(part))),
            records,
        )
        removed["review_detail"] = _in_chunks(
            connection, lambda part: delete(d).where(d.c.detail_hash.in_(part)), sorted(details)
        )
        removed["steward_decision"] = _in_chunks(
            connection,
            lambda part: delete(s).where(or_(s.c.record_a.in_(part), s.c.record_b.in_(part))),
            records,
        )
        u = schema.steward_decision_undone
        removed["steward_decision_undone"] = _in_chunks(
            connection,
            lambda part: delete(u).where(or_(u.c.record_a.in_(part), u.c.record_b.in_(part))),
            records,
        )
        removed["correction"] = _in_chunks(
            connection,
            lambda part: delete(schema.correction).where(schema.correction.c.golden_id.in_(part)),
            ids,
        )
        removed["restriction"] = _in_chunks(
            connection,
            lambda part: delete(schema.restriction).where(schema.restriction.c.golden_id.in_(part)),
            ids,
        )
        return removed

    def rows_held(self, ids: list[str], records: list[str]) -> dict[str, int]:
        """How many rows of each table :meth:`purge_person` would delete, found by
        deleting them in a transaction that is rolled back (the same statements, so a
        dry run cannot disagree with the erasure)."""
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                return self.purge_person(connection, ids, records)
            finally:
                transaction.rollback()

    def pending_runs(self) -> list[str]:
        """Runs applied to the store and not yet decided by their gate."""
        r = schema.store_run
        query = select(r.c.run_key).where(r.c.status == "pending").order_by(r.c.sequence)
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    @staticmethod
    def suppress(connection: Connection, hashes: list[str], request_id: int) -> None:
        """List these records' keyed hashes as suppressed (those not listed already)."""
        t = schema.suppression
        known: set[str] = set()
        for start in range(0, len(hashes), CHUNK):
            part = hashes[start : start + CHUNK]
            known |= set(
                connection.execute(
                    select(t.c.record_hash).where(t.c.record_hash.in_(part))
                ).scalars()
            )
        fresh = [
            {"record_hash": h, "request_id": request_id, "suppressed_at": now_text()}
            for h in sorted(set(hashes) - known)
        ]
        if fresh:
            connection.execute(insert(t), fresh)
