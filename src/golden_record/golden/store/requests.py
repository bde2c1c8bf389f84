"""Residents' rights requests in the golden store: each one with who made it, when, its
legal basis and what it produced (the audit :mod:`golden_record.rights.requests` keeps)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from golden_record.golden.store import schema
from golden_record.golden.store.reading import StoreReading


class RightsRequests(StoreReading):
    """The requests' rows and the counts the run report gives."""

    @staticmethod
    def insert_request(connection: Connection, row: dict[str, Any]) -> int:
        """The request's row, inside the caller's transaction; returns its id."""
        found = connection.execute(insert(schema.rights_request).values(**row))
        key = found.inserted_primary_key
        assert key is not None
        return int(key[0])

    @staticmethod
    def set_produced(connection: Connection, request_id: int, produced: dict[str, Any]) -> None:
        q = schema.rights_request
        connection.execute(
            update(q)
            .where(q.c.request_id == request_id)
            .values(produced=json.dumps(produced, sort_keys=True))
        )

    @staticmethod
    def produced_of(connection: Connection, request_id: int) -> dict[str, Any]:
        q = schema.rights_request
        stored = connection.execute(
            select(q.c.produced).where(q.c.request_id == request_id)
        ).scalar()
        return dict(json.loads(stored or "{}"))

    def first_request(self, kind: str, golden_id: str) -> dict | None:
        """The first request of a kind about a golden record (its id and when), or None."""
        q = schema.rights_request
        with self.engine.connect() as connection:
            row = connection.execute(
                select(q.c.request_id, q.c.made_at)
                .where(and_(q.c.kind == kind, q.c.golden_id == golden_id))
                .order_by(q.c.request_id)
                .limit(1)
            ).first()
        return None if row is None else {"request_id": int(row.request_id), "made_at": row.made_at}

    def request_counts(self, since: str | None = None) -> dict[str, int]:
        """Requests by kind (``since``: made at or after that UTC timestamp)."""
        q = schema.rights_request
        query = select(q.c.kind, func.count()).group_by(q.c.kind)
        if since:
            query = query.where(q.c.made_at >= since)
        with self.engine.connect() as connection:
            return {str(kind): int(n) for kind, n in connection.execute(query).tuples()}

    def requests(self) -> pd.DataFrame:
        q = schema.rights_request
        return self.read(select(q).order_by(q.c.request_id))

    def rights_in_force(self) -> dict[str, int]:
        """Golden records restricted now, corrections in force, source records
        suppressed."""
        r, c, s = schema.restriction, schema.correction, schema.suppression
        with self.engine.connect() as connection:
            restricted = connection.execute(
                select(func.count(func.distinct(r.c.golden_id))).where(r.c.lifted_at.is_(None))
            ).scalar()
            in_force = connection.execute(
                select(func.count()).select_from(c).where(c.c.ended_at.is_(None))
            ).scalar()
            suppressed = connection.execute(select(func.count()).select_from(s)).scalar()
        return {
            "restricted": int(restricted or 0),
            "corrections_in_force": int(in_force or 0),
            "suppressed_records": int(suppressed or 0),
        }
