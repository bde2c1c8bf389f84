"""Restriction of processing (UK GDPR Art. 18): a resident's golden record kept but not
published, until the restriction is lifted.

``restrict`` records the restriction in the golden store and publishes the CRM's last run
again without the resident (a ``restricted`` event in the change feed); every later
night's publish leaves them out too, while the store goes on keeping their record up to
date. ``lift`` ends it (the row is kept, with who lifted it and why) and publishes them
back (``restriction_lifted``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from golden_record.golden import GoldenStore
from golden_record.golden.store import StoreError
from golden_record.rights import requests


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _active_golden(store: GoldenStore, golden_id: str) -> None:
    current = store.current_status(golden_id)
    if current is None:
        raise StoreError(f"no golden record {golden_id} in the golden store")
    status, merged_into = current
    if status == "merged":
        raise StoreError(
            f"golden record {golden_id} was merged into {merged_into}: the resident "
            f"lives on as {merged_into}; restrict that one"
        )
    if status != "active":
        raise StoreError(f"golden record {golden_id} is {status}: nothing to restrict")


def restrict(
    store: GoldenStore,
    golden_id: str,
    by: str,
    basis: str,
    reason: str,
    crm_url: str | None,
    data_root: Path,
) -> dict:
    """Restrict processing of ``golden_id``; refused if already restricted."""
    requests.check(by, basis)
    if not reason.strip():
        raise StoreError("a restriction needs a reason (--reason)")
    _active_golden(store, golden_id)
    if golden_id in store.restricted_ids():
        raise StoreError(f"golden record {golden_id} is already restricted")
    with store.transaction() as connection:
        store.insert_restriction(connection, golden_id, by, _now(), reason)
        request = requests.insert_request(store, connection, "restrict", golden_id, by, basis, {})
    return _reach_crm(store, golden_id, "restricted", request["request_id"], crm_url, data_root)


def lift(
    store: GoldenStore,
    golden_id: str,
    by: str,
    basis: str,
    reason: str,
    crm_url: str | None,
    data_root: Path,
) -> dict:
    """Lift the restriction of ``golden_id``; refused if it is not restricted."""
    requests.check(by, basis)
    if not reason.strip():
        raise StoreError("lifting a restriction needs a reason (--reason)")
    if golden_id not in store.restricted_ids():
        raise StoreError(f"golden record {golden_id} is not restricted: nothing to lift")
    with store.transaction() as connection:
        store.lift_restriction(connection, golden_id, by, _now(), reason)
        request = requests.insert_request(store, connection, "lift", golden_id, by, basis, {})
    return _reach_crm(
        store, golden_id, "restriction_lifted", request["request_id"], crm_url, data_root
    )


def _reach_crm(
    store: GoldenStore,
    golden_id: str,
    event: str,
    request_id: int,
    crm_url: str | None,
    data_root: Path,
) -> dict:
    if crm_url is None:
        crm: dict = {"published": False, "why": "no CRM was given (--crm)"}
    else:
        crm = _republished(store, crm_url, data_root, {golden_id: event}, request_id)
    produced = {"crm": crm}
    with store.transaction() as connection:
        store.set_produced(connection, request_id, produced)
    return {"request_id": request_id, "golden_id": golden_id, **produced}


def _republished(
    store: GoldenStore, crm_url: str, data_root: Path, events: dict[str, str], request_id: int
) -> dict:
    from golden_record.publish import ExportError, PublishError
    from golden_record.rights.crm import republish

    try:
        return republish(store, crm_url, data_root, events, request_id)
    except (PublishError, ExportError) as exc:
        # Recorded in the store all the same: the next night's publish carries it.
        return {"published": False, "why": f"{exc}; the next night's publish carries it"}
