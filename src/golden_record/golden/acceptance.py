"""A steward's acceptance of a night a gate refused for a judgement a person can make.

The change-share bands stop a mass merge, but a real one happens (a source's clean-up, a
retrained model); the sources gate stops a column emptied at source or a night that
changed many of a source's records, which a system's own clean-up also does. A steward
who has checked the night accepts it, with who and why; the gate then passes for exactly
that input. An acceptance covers only those batches
(``golden_record.quality.batches.ACCEPTABLE``): a broken record or a missing column is
a defect to fix, not a judgement to make.
"""

from __future__ import annotations

from datetime import UTC, datetime

from golden_record.golden.store import GoldenStore, StoreError


def accept_night(
    store: GoldenStore,
    run_key: str,
    input_fingerprint: str,
    by: str,
    reason: str,
    gate: str = "golden",
) -> dict:
    if not by.strip() or not reason.strip():
        raise StoreError("accepting a night needs who accepts it (--by) and why (--reason)")
    row = {
        "run_key": run_key,
        "gate": gate,
        "input_fingerprint": input_fingerprint,
        "accepted_by": by,
        "accepted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": reason,
    }
    store.replace_acceptance(row)
    return row


def acceptance_of(
    store: GoldenStore, run_key: str, input_fingerprint: str, gate: str = "golden"
) -> dict | None:
    """The steward's acceptance of this night's gate with this input, if there is one."""
    return store.acceptance(run_key, input_fingerprint, gate)
