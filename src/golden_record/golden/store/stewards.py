"""Stewards in the golden store: their decisions about doubtful pairs, the queue they work
from and the pair they are shown, and their acceptance of a night a gate refused.

Only the reading and writing is here; the rules (what contradicts what, who may accept
which batch) are :mod:`golden_record.golden.stewardship` and
:mod:`golden_record.golden.acceptance`, which open the transaction and pass it in."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from golden_record.golden.store import schema
from golden_record.golden.store.reading import StoreReading

QUEUE_COLUMNS = ["record_a", "record_b", "match_probability", "reason"]


class StewardRecords(StoreReading):
    """Decisions, the review queue and gate acceptances."""

    def decisions(self, connection: Connection | None = None) -> pd.DataFrame:
        d = schema.steward_decision
        return self.read(select(d).order_by(d.c.decision_id), connection)

    def decisions_with_detail(self) -> pd.DataFrame:
        """Every decision with the review reason and scored detail (JSON text) of the
        latest run that queued its pair; both empty for a pair decided without having
        been queued."""
        d, r, detail = schema.steward_decision, schema.review_item, schema.review_detail
        latest = (
            select(r.c.record_a, r.c.record_b, func.max(r.c.run_key).label("run_key"))
            .group_by(r.c.record_a, r.c.record_b)
            .subquery()
        )
        query = (
            select(d.c.record_a, d.c.record_b, d.c.decision, r.c.reason, detail.c.detail)
            .outerjoin(
                latest, (latest.c.record_a == d.c.record_a) & (latest.c.record_b == d.c.record_b)
            )
            .outerjoin(
                r,
                (r.c.record_a == latest.c.record_a)
                & (r.c.record_b == latest.c.record_b)
                & (r.c.run_key == latest.c.run_key),
            )
            .outerjoin(detail, detail.c.detail_hash == r.c.detail_hash)
        )
        return self.read(query)

    @staticmethod
    def records_seen(connection: Connection, unique_ids: list[str]) -> set[str]:
        """Which of these source records some run has seen."""
        x = schema.xref_version
        return set(
            connection.execute(
                select(x.c.unique_id).where(x.c.unique_id.in_(unique_ids)).distinct()
            ).scalars()
        )

    @staticmethod
    def decision_of(connection: Connection, record_a: str, record_b: str) -> dict | None:
        """The decision about a pair (ids in order), or None."""
        d = schema.steward_decision
        row = connection.execute(
            select(d).where(d.c.record_a == record_a, d.c.record_b == record_b)
        ).first()
        return None if row is None else dict(row._mapping)

    @staticmethod
    def insert_decision(connection: Connection, row: dict[str, Any]) -> None:
        connection.execute(insert(schema.steward_decision).values(**row))

    @staticmethod
    def move_to_undone(connection: Connection, decision: dict[str, Any], undone: dict) -> None:
        """A decision undone: kept with who undid it, when and why, and no longer in
        force (its pair undecided again)."""
        connection.execute(insert(schema.steward_decision_undone).values(**decision, **undone))
        d = schema.steward_decision
        connection.execute(delete(d).where(d.c.decision_id == decision["decision_id"]))

    def undone_decisions(self) -> pd.DataFrame:
        u = schema.steward_decision_undone
        return self.read(select(u).order_by(u.c.undo_id))

    def review_queue(self, limit: int | None = None) -> pd.DataFrame:
        """The latest accepted run's review pairs no steward has decided, strongest
        first (a night still waiting for its gate has no queue yet)."""
        r, d, runs = schema.review_item, schema.steward_decision, schema.store_run
        with self.engine.connect() as connection:
            accepted = select(func.max(runs.c.sequence)).where(runs.c.status == "accepted")
            latest = connection.execute(
                select(runs.c.run_key).where(runs.c.sequence == accepted.scalar_subquery())
            ).scalar()
            if latest is None:
                return pd.DataFrame(columns=QUEUE_COLUMNS)
            decided = select(d.c.decision_id).where(
                d.c.record_a == r.c.record_a, d.c.record_b == r.c.record_b
            )
            query = (
                select(r.c.record_a, r.c.record_b, r.c.match_probability, r.c.reason, r.c.run_key)
                .where(r.c.run_key == latest, ~decided.exists())
                .order_by(r.c.match_probability.desc(), r.c.record_a, r.c.record_b)
            )
            if limit:
                query = query.limit(limit)
            return pd.read_sql(query, connection)

    def claims(self) -> pd.DataFrame:
        """Every review item's claim: ``item_id``, ``claimed_by``, ``claimed_at``."""
        c = schema.review_claim
        return self.read(select(c).order_by(c.c.item_id))

    @staticmethod
    def claim_of(connection: Connection, item_id: str) -> dict | None:
        c = schema.review_claim
        row = connection.execute(select(c).where(c.c.item_id == item_id)).first()
        return None if row is None else dict(row._mapping)

    @staticmethod
    def set_claim(connection: Connection, item_id: str, by: str, at: str) -> None:
        c = schema.review_claim
        connection.execute(delete(c).where(c.c.item_id == item_id))
        connection.execute(insert(c).values(item_id=item_id, claimed_by=by, claimed_at=at))

    @staticmethod
    def end_claim(connection: Connection, item_id: str) -> None:
        c = schema.review_claim
        connection.execute(delete(c).where(c.c.item_id == item_id))

    def queue_xref(self) -> pd.DataFrame:
        """The current ``unique_id``, ``golden_id`` of every source record sharing a
        golden record with a record of the latest accepted run's review pairs: what the
        queue's items hold, read without the rest of a million records."""
        r, x, runs = schema.review_item, schema.xref_version, schema.store_run
        accepted = select(func.max(runs.c.sequence)).where(runs.c.status == "accepted")
        latest = select(runs.c.run_key).where(runs.c.sequence == accepted.scalar_subquery())
        queued = (
            select(r.c.record_a.label("unique_id"))
            .where(r.c.run_key == latest.scalar_subquery())
            .union(select(r.c.record_b).where(r.c.run_key == latest.scalar_subquery()))
        )
        current = x.c.valid_to_run.is_(None)
        golden = select(x.c.golden_id).where(current, x.c.unique_id.in_(queued))
        return self.read(
            select(x.c.unique_id, x.c.golden_id)
            .where(current, x.c.golden_id.in_(golden))
            .order_by(x.c.unique_id)
        )

    def review_pair(self, record_a: str, record_b: str) -> dict | None:
        """A pair's review item of the latest run that queued it, with its scored detail
        (JSON text), or None."""
        r, d = schema.review_item, schema.review_detail
        with self.engine.connect() as connection:
            row = connection.execute(
                select(r, d.c.detail)
                .outerjoin(d, d.c.detail_hash == r.c.detail_hash)
                .where(r.c.record_a == record_a, r.c.record_b == record_b)
                .order_by(r.c.run_key.desc())
                .limit(1)
            ).first()
        return None if row is None else dict(row._mapping)

    def replace_acceptance(self, row: dict[str, Any]) -> None:
        """A steward's acceptance of a run's gate, replacing an earlier one of the same."""
        a = schema.gate_acceptance
        with self.engine.begin() as connection:
            connection.execute(
                delete(a).where(a.c.run_key == row["run_key"], a.c.gate == row["gate"])
            )
            connection.execute(insert(a).values(**row))

    def acceptance(self, run_key: str, input_fingerprint: str, gate: str) -> dict | None:
        """The acceptance of this run's gate with exactly this input, if there is one."""
        a = schema.gate_acceptance
        with self.engine.connect() as connection:
            row = connection.execute(
                select(a).where(
                    a.c.run_key == run_key,
                    a.c.gate == gate,
                    a.c.input_fingerprint == input_fingerprint,
                )
            ).first()
        return None if row is None else dict(row._mapping)
