"""The audit of residents' rights requests: each one recorded in the golden store with
who made it, when, the legal basis given and what was produced, and listed for the
information-governance officers who answer for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from golden_record.golden import GoldenStore
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
    with store.transaction() as connection:
        return insert_request(store, connection, kind, golden_id, by, basis, produced)


def insert_request(
    store: GoldenStore,
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
    row["request_id"] = store.insert_request(connection, row)
    return row


def counts(store: GoldenStore, since: str | None = None) -> dict[str, int]:
    """Requests answered by kind (``since``: made at or after that UTC timestamp)."""
    return store.request_counts(since)


def listed(store: GoldenStore) -> pd.DataFrame:
    return store.requests()


def standing(store: GoldenStore) -> dict[str, Any]:
    """For the run report: requests answered by kind, golden records restricted now,
    corrections in force and source records suppressed."""
    return {"requests": counts(store), **store.rights_in_force()}
