"""Rectification (UK GDPR Art. 16): a steward's correction of one golden attribute.

A correction in force overrides survivorship for its golden record: each night the
store rebuilds that record, and where the value survivorship chose differs from the
correction, the correction's value is shown, its provenance ``correction:<id>`` from
``steward`` on the day it was made, and the corrected value first in the attribute's
list in place of the one it corrects. When the chosen source value comes to agree (the
source system was put right), the correction has done its work and ends ("source
agrees"); a steward may withdraw it ("withdrawn"). The next night's publish sends the
change to the CRM as an ``updated`` event.

The value is checked and written in the form the pipeline standardises that attribute
to (an email lower-cased, a phone in E.164, a postcode spaced), so that "the source
agrees" compares like with like.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record.golden import GoldenStore
from golden_record.golden.corrections import UnknownAttribute, group_of
from golden_record.golden.store import StoreError
from golden_record.rights import requests
from golden_record.standardise import checked


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def standard_form(field: str, value: str) -> str:
    """``value`` as the pipeline standardises ``field``; refused if not a valid one."""
    if not value.strip():
        raise StoreError(f"a correction of {field} needs a value (--value)")
    try:
        return checked.standard_form(field, value)
    except checked.InvalidValue as exc:
        raise StoreError(str(exc)) from None


def correct(
    store: GoldenStore,
    golden_id: str,
    field: str,
    value: str,
    by: str,
    basis: str,
    reason: str,
    data_root: Path,
) -> dict:
    """Record a correction; returns it with the source records that still hold the value
    it corrects (their owners should put them right too)."""
    requests.check(by, basis)
    if not reason.strip():
        raise StoreError("a correction needs a reason (--reason)")
    try:
        group_of(field, store.survivorship)
    except UnknownAttribute as exc:
        raise StoreError(str(exc)) from None
    corrected = standard_form(field, value)
    found = store.golden_record(golden_id)
    if found is None or found["status"] != "active":
        raise StoreError(f"no active golden record {golden_id} in the golden store")
    previous = None if found.get(field) is None else str(found[field])
    if previous == corrected:
        raise StoreError(
            f"golden record {golden_id} already shows that {field}: nothing to correct"
        )
    holding = _records_holding(store, golden_id, field, previous, data_root)
    with store.transaction() as connection:
        # A new correction of the same attribute replaces the one in force.
        store.end_correction_in_force(connection, golden_id, field, "replaced", by, _now())
        correction_id = store.insert_correction(
            connection,
            {
                "golden_id": golden_id,
                "field": field,
                "value": corrected,
                "previous_value": previous,
                "reason": reason,
                "corrected_by": by,
                "corrected_at": _now(),
            },
        )
        produced = {
            "correction_id": correction_id,
            "field": field,
            "still_held_by": holding,
            "takes_effect": "with the next night's build and publish",
        }
        request = requests.insert_request(
            store, connection, "rectify", golden_id, by, basis, produced
        )
    return {"request_id": request["request_id"], "golden_id": golden_id, **produced}


def withdraw(store: GoldenStore, correction_id: int, by: str, basis: str, reason: str) -> dict:
    """End a correction in force; survivorship chooses the attribute again from the next
    night."""
    requests.check(by, basis)
    if not reason.strip():
        raise StoreError("withdrawing a correction needs a reason (--reason)")
    with store.transaction() as connection:
        row = store.correction(connection, correction_id)
        if row is None:
            raise StoreError(f"no correction {correction_id}")
        if row["ended_at"] is not None:
            raise StoreError(f"correction {correction_id} already ended ({row['ended_how']})")
        store.end_correction(connection, correction_id, "withdrawn", by, _now())
        produced = {"correction_id": correction_id, "field": row["field"]}
        request = requests.insert_request(
            store, connection, "withdraw", row["golden_id"], by, basis, produced
        )
    return {"request_id": request["request_id"], "golden_id": row["golden_id"], **produced}


def _records_holding(
    store: GoldenStore, golden_id: str, field: str, value: str | None, data_root: Path
) -> list[str]:
    """The golden record's source records (ids) that hold the value being corrected, as
    the latest night read them."""
    if value is None:
        return []
    from golden_record.golden.held_records import latest_canonical

    members = store.current_xref()
    mine = members.loc[members["golden_id"] == golden_id, "unique_id"].tolist()
    records = latest_canonical(data_root, mine)
    if records.empty or field not in records:
        return []

    def same(held: Any) -> bool:
        if held is None or pd.isna(held):
            return False
        try:
            return standard_form(field, str(held)) == value
        except StoreError:
            return False

    return sorted(records.loc[records[field].map(same).astype(bool), "unique_id"].tolist())


def listed(store: GoldenStore, golden_id: str | None = None) -> pd.DataFrame:
    return store.corrections(golden_id)
