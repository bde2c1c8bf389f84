"""Restrictions of processing (UK GDPR Art. 18) in the golden store: made, lifted, and
what a publish leaves out because of them."""

from __future__ import annotations

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from golden_record.golden.store import schema
from golden_record.golden.store.reading import StoreReading


class Restrictions(StoreReading):
    """The restriction rows."""

    @staticmethod
    def insert_restriction(
        connection: Connection, golden_id: str, by: str, at: str, reason: str
    ) -> None:
        connection.execute(
            insert(schema.restriction).values(
                golden_id=golden_id, restricted_by=by, restricted_at=at, reason=reason
            )
        )

    @staticmethod
    def lift_restriction(
        connection: Connection, golden_id: str, by: str, at: str, reason: str
    ) -> None:
        r = schema.restriction
        connection.execute(
            update(r)
            .where(and_(r.c.golden_id == golden_id, r.c.lifted_at.is_(None)))
            .values(lifted_by=by, lifted_at=at, lift_reason=reason)
        )

    def restricted_ids(self) -> set[str]:
        """The golden records whose processing is restricted now."""
        r = schema.restriction
        with self.engine.connect() as connection:
            return set(
                connection.execute(select(r.c.golden_id).where(r.c.lifted_at.is_(None))).scalars()
            )

    def restriction_events(self) -> dict[str, str]:
        """What a publish calls a resident leaving or returning for a restriction:
        ``restricted`` for each restricted now, ``restriction_lifted`` for each lifted (used
        only if the CRM does not already show them, as when the request could not reach
        it)."""
        r = schema.restriction
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(r.c.golden_id, r.c.lifted_at).order_by(r.c.restriction_id)
            ).tuples()
            latest = {golden_id: lifted_at for golden_id, lifted_at in rows}
        return {
            g: "restricted" if lifted is None else "restriction_lifted"
            for g, lifted in latest.items()
        }
