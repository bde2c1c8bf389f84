"""Corrections (UK GDPR Art. 16) in the golden store: made, replaced, ended, listed, and
read, ended and put back by a night. What a correction does to a night's golden records
is :mod:`golden_record.golden.corrections`."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from golden_record.golden.store import schema
from golden_record.golden.store.common import now_text
from golden_record.golden.store.reading import StoreReading
from golden_record.sqlread import read_frame


class Rectifications(StoreReading):
    """The correction rows."""

    @staticmethod
    def end_correction_in_force(
        connection: Connection, golden_id: str, field: str, how: str, by: str, at: str
    ) -> None:
        c = schema.correction
        connection.execute(
            update(c)
            .where(and_(c.c.golden_id == golden_id, c.c.field == field, c.c.ended_at.is_(None)))
            .values(ended_at=at, ended_how=how, ended_by=by)
        )

    @staticmethod
    def insert_correction(connection: Connection, values: dict[str, Any]) -> int:
        made = connection.execute(insert(schema.correction).values(**values))
        key = made.inserted_primary_key
        assert key is not None
        return int(key[0])

    @staticmethod
    def correction(connection: Connection, correction_id: int) -> dict | None:
        c = schema.correction
        row = connection.execute(select(c).where(c.c.correction_id == correction_id)).first()
        return None if row is None else dict(row._mapping)

    @staticmethod
    def end_correction(
        connection: Connection, correction_id: int, how: str, by: str, at: str
    ) -> None:
        c = schema.correction
        connection.execute(
            update(c)
            .where(c.c.correction_id == correction_id)
            .values(ended_at=at, ended_how=how, ended_by=by)
        )

    def corrections(self, golden_id: str | list[str] | None = None) -> pd.DataFrame:
        """Every correction, or those of one golden ID or of several (a person's chain)."""
        c = schema.correction
        query = select(c).order_by(c.c.correction_id)
        if isinstance(golden_id, list):
            query = query.where(c.c.golden_id.in_(golden_id))
        elif golden_id:
            query = query.where(c.c.golden_id == golden_id)
        return self.read(query)

    @staticmethod
    def corrections_pending(connection: Connection) -> pd.DataFrame:
        """Corrections a night must rebuild its golden record for: in force, or ended by a
        steward since the last night (so the record is chosen afresh)."""
        c = schema.correction
        return read_frame(
            connection, select(c).where(c.c.ended_run.is_(None)).order_by(c.c.correction_id)
        )

    @staticmethod
    def corrections_seen_by(
        connection: Connection, run_key: str, ended: list[int], sources_agree: list[int]
    ) -> None:
        """A night's mark on the corrections: those ended since the last night carry its
        run key; those the sources now agree with end, by it."""
        c = schema.correction
        for correction_id in ended:
            connection.execute(
                update(c).where(c.c.correction_id == correction_id).values(ended_run=run_key)
            )
        for correction_id in sources_agree:
            connection.execute(
                update(c)
                .where(c.c.correction_id == correction_id)
                .values(ended_at=now_text(), ended_how="source agrees", ended_run=run_key)
            )

    @staticmethod
    def take_back_corrections(connection: Connection, run_key: str) -> None:
        """Undo what a night taken back did to corrections."""
        c = schema.correction
        connection.execute(
            update(c)
            .where(and_(c.c.ended_run == run_key, c.c.ended_how == "source agrees"))
            .values(ended_at=None, ended_how=None, ended_run=None)
        )
        connection.execute(update(c).where(c.c.ended_run == run_key).values(ended_run=None))
