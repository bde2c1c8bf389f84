"""A steward's acceptance of a night the golden gate refused for the size of its changes.

The change-share bands stop a mass merge, but a real one happens (a source's clean-up, a
retrained model). A steward who has checked the night accepts it, with who and why; the
night is then applied again and its gate passes for exactly that input. The gate lets an
acceptance cover only the change shares (``golden_record.quality.batches.CHANGES_BATCH``): a
broken record or a missing column is a defect to fix, not a judgement to make.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from golden_record.golden import schema
from golden_record.golden.store import GoldenStore, StoreError


def accept_night(
    store: GoldenStore, run_key: str, input_fingerprint: str, by: str, reason: str
) -> dict:
    if not by.strip() or not reason.strip():
        raise StoreError("accepting a night needs who accepts it (--by) and why (--reason)")
    row = {
        "run_key": run_key,
        "input_fingerprint": input_fingerprint,
        "accepted_by": by,
        "accepted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": reason,
    }
    a = schema.night_acceptance
    with store.engine.begin() as connection:
        connection.execute(delete(a).where(a.c.run_key == run_key))
        connection.execute(insert(a).values(**row))
    return row


def acceptance_of(store: GoldenStore, run_key: str, input_fingerprint: str) -> dict | None:
    """The steward's acceptance of this night with this input, if there is one."""
    a = schema.night_acceptance
    with store.engine.connect() as connection:
        row = connection.execute(
            select(a).where(a.c.run_key == run_key, a.c.input_fingerprint == input_fingerprint)
        ).first()
    if row is None:
        return None
    return dict(row._mapping)
