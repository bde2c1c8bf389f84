"""The audit of residents' rights requests: each one recorded in the golden store with
who made it, when, the legal basis given and what was produced, and listed for the
information-governance officers who answer for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from golden_record.golden import GoldenStore, schema
from golden_record.golden.store import StoreError

# access: Art. 15; rectify, withdraw (a correction): Art. 16; erase: Art. 17;
# restrict, lift (a restriction): Art. 18.
KINDS = ("access", "rectify", "withdraw", "erase", "restrict", "lift")


def check(by: str, basis: str) -> None:
    """Refuse a request without who made it or its legal basis, before anything is done."""
    if not by.strip() or not basis.strip():
        raise StoreError("a request needs who made it (--by) and its legal basis (--basis)")


def record(
    store: GoldenStore, kind: str, golden_id: str, by: str, basis: str, produced: dict[str, Any]
) -> dict[str, Any]:
    """Record a request that was answered; refuse one without who or why."""
    with store.engine.begin() as connection:
        return insert_request(connection, kind, golden_id, by, basis, produced)


def insert_request(
    connection: Connection,
    kind: str,
    golden_id: str,
    by: str,
    basis: str,
    produced: dict[str, Any],
) -> dict[str, Any]:
    """Record a request inside the caller's transaction (the change it made commits with
    it, or neither does); returns the row with its ``request_id``."""
    if kind not in KINDS:
        raise StoreError(f"a request is one of {', '.join(KINDS)}, not {kind!r}")
    check(by, basis)
    row: dict[str, Any] = {
        "kind": kind,
        "golden_id": golden_id,
        "requested_by": by,
        "legal_basis": basis,
        "made_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "produced": json.dumps(produced, sort_keys=True),
    }
    found = connection.execute(insert(schema.rights_request).values(**row))
    key = found.inserted_primary_key
    assert key is not None
    row["request_id"] = int(key[0])
    return row


def set_produced(connection: Connection, request_id: int, produced: dict[str, Any]) -> None:
    """What a request produced, once known (its id is needed first: the suppression
    entries and the CRM's publish row name it)."""
    q = schema.rights_request
    connection.execute(
        update(q)
        .where(q.c.request_id == request_id)
        .values(produced=json.dumps(produced, sort_keys=True))
    )


def counts(store: GoldenStore, since: str | None = None) -> dict[str, int]:
    """Requests answered by kind (``since``: made at or after that UTC timestamp)."""
    q = schema.rights_request
    query = select(q.c.kind, func.count()).group_by(q.c.kind)
    if since:
        query = query.where(q.c.made_at >= since)
    with store.engine.connect() as connection:
        return {str(kind): int(n) for kind, n in connection.execute(query).tuples()}


def listed(store: GoldenStore) -> pd.DataFrame:
    q = schema.rights_request
    return store.read(select(q).order_by(q.c.request_id))


def standing(store: GoldenStore) -> dict[str, Any]:
    """For the run report: requests answered by kind, golden records restricted now,
    corrections in force and source records suppressed."""
    r, c, s = schema.restriction, schema.correction, schema.suppression
    with store.engine.connect() as connection:
        restricted = connection.execute(
            select(func.count(func.distinct(r.c.golden_id))).where(r.c.lifted_at.is_(None))
        ).scalar()
        in_force = connection.execute(
            select(func.count()).select_from(c).where(c.c.ended_at.is_(None))
        ).scalar()
        suppressed = connection.execute(select(func.count()).select_from(s)).scalar()
    return {
        "requests": counts(store),
        "restricted": int(restricted or 0),
        "corrections_in_force": int(in_force or 0),
        "suppressed_records": int(suppressed or 0),
    }
