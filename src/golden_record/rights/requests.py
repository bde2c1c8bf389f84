"""The audit of residents' rights requests: each one recorded in the golden store with
who made it, when, the legal basis given and what was produced, and listed for the
information-governance officers who answer for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

from golden_record.golden import GoldenStore, schema
from golden_record.golden.store import StoreError

KINDS = ("access",)


def record(
    store: GoldenStore, kind: str, golden_id: str, by: str, basis: str, produced: dict[str, Any]
) -> dict[str, Any]:
    """Record a request that was answered; refuse one without who or why."""
    if kind not in KINDS:
        raise StoreError(f"a request is one of {', '.join(KINDS)}, not {kind!r}")
    if not by.strip() or not basis.strip():
        raise StoreError("a request needs who made it (--by) and its legal basis (--basis)")
    row = {
        "kind": kind,
        "golden_id": golden_id,
        "requested_by": by,
        "legal_basis": basis,
        "made_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "produced": json.dumps(produced, sort_keys=True),
    }
    with store.engine.begin() as connection:
        connection.execute(insert(schema.rights_request).values(**row))
    return row


def listed(store: GoldenStore) -> pd.DataFrame:
    q = schema.rights_request
    return store.read(select(q).order_by(q.c.request_id))
