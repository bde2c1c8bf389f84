"""Erasure (UK GDPR Art. 17): a resident removed from the golden store, the CRM and the
pipeline's own files, and kept out of every later night.

In order, each step safe to repeat:

1. **Files**: every night's files and every CRM export lose the person's rows
   (:mod:`golden_record.rights.files`), so no later night builds on them.
2. **Store**, in one transaction: every version of the person's golden records (theirs
   and those merged into them), their cross-reference and record history, review items
   and their scored detail, steward decisions about their records, corrections and
   restrictions are deleted; each of their source records goes on the suppression list
   (:mod:`golden_record.rights.suppression`); the request is recorded. Change events
   (which hold golden IDs and attribute names, no values) and the golden ID's
   registration (so it is never issued again) are kept.
3. **CRM**: its last run published again without them, an ``erased`` event in the feed
   (:mod:`golden_record.rights.crm`). Should the CRM be unreachable, erasing again
   finishes the job (steps 1 and 2 find nothing left to do).
4. **For the source systems' owners**: ``erasure-<golden ID>/source_records_to_delete.csv``
   lists each system's record ids to delete (the sources are theirs; until they delete
   them, the suppression list keeps the nights from reading them).

Erasure cannot be undone.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

from golden_record.atomic import replace_folder
from golden_record.extract.canonical import split_unique_ids
from golden_record.golden import GoldenStore
from golden_record.golden.held_records import latest_canonical
from golden_record.golden.store import StoreError
from golden_record.rights import files, requests, suppression

# The values of a person distinctive enough to search the pipeline's text files for.
DISTINCTIVE = ("email", "phone", "ni_number")


def _check_erasable(store: GoldenStore, golden_id: str) -> None:
    current = store.current_status(golden_id)
    if current is None:
        raise StoreError(f"no golden record {golden_id} in the golden store")
    status, merged_into = current
    if status == "merged":
        raise StoreError(
            f"golden record {golden_id} was merged into {merged_into}: the resident "
            f"lives on as {merged_into}; erase that one (it takes {golden_id} with it)"
        )


def erase(
    store: GoldenStore,
    golden_id: str,
    by: str,
    basis: str,
    reason: str,
    data_root: Path,
    crm_url: str | None,
    out: Path,
) -> dict[str, Any]:
    """Erase the person of ``golden_id`` (see the module's docstring); returns what was
    done, with no personal data."""
    requests.check(by, basis)
    if not reason.strip():
        raise StoreError("an erasure needs a reason (--reason)")
    earlier = store.first_request("erase", golden_id)
    if earlier is not None:
        return _finish_crm(
            store, golden_id, earlier["request_id"], crm_url, data_root, resumed=True
        )
    _check_erasable(store, golden_id)
    ids = store.person_golden_ids(golden_id)
    records = store.person_records(ids)
    key = suppression.read_key(data_root, create=True)
    assert key is not None
    mentions = _distinctive_values(data_root, records)
    # A night staged but not yet decided may hold the person: it is taken back (its gate
    # then finds nothing staged and says so; the night is run again).
    taken_back = store.take_back_pending()
    purged = files.purge(data_root, set(records), set(ids), mentions=mentions)
    deletion_list = _write_deletion_list(out, golden_id, records)
    with store.transaction() as connection:
        request = requests.insert_request(store, connection, "erase", golden_id, by, basis, {})
        request_id = request["request_id"]
        removed = store.purge_person(connection, ids, records)
        store.suppress(connection, suppression.record_hashes(key, records), request_id)
        produced = {
            "golden_ids_erased": len(ids),
            "source_records_suppressed": len(records),
            "store_rows_removed": removed,
            "file_rows_removed": purged.rows_removed,
            "files_rewritten": len(purged.files_rewritten),
            "text_files_still_naming_them": purged.still_named_in,
            "runs_taken_back": taken_back,
            "deletion_list": str(deletion_list),
        }
        store.set_produced(connection, request_id, produced)
    finished = _finish_crm(store, golden_id, request_id, crm_url, data_root, resumed=False)
    return {**finished, **produced}


def preview(store: GoldenStore, golden_id: str, data_root: Path) -> dict[str, Any]:
    """What erasing ``golden_id`` would remove, changing nothing (a dry run): the golden
    IDs, the source records by system, the store's rows by table, the pipeline's file
    rows and the files holding them, text files still naming them, and staged nights
    that would be taken back. No personal data, only ids and counts."""
    if store.first_request("erase", golden_id) is not None:
        raise StoreError(f"{golden_id} is already erased; erasing it again only finishes the CRM")
    _check_erasable(store, golden_id)
    ids = store.person_golden_ids(golden_id)
    records = store.person_records(ids)
    purged = files.purge(
        data_root,
        set(records),
        set(ids),
        mentions=_distinctive_values(data_root, records),
        write=False,
    )
    by_system: dict[str, int] = {}
    for record in records:
        system = record.split(":", 1)[0]
        by_system[system] = by_system.get(system, 0) + 1
    return {
        "golden_id": golden_id,
        "golden_ids": ids,
        "source_records": dict(sorted(by_system.items())),
        "records": sorted(records),
        "store_rows": store.rows_held(ids, records),
        "file_rows": purged.rows_removed,
        "files": purged.files_rewritten,
        "text_files_naming_them": purged.still_named_in,
        "runs_taken_back": store.pending_runs(),
    }


def _distinctive_values(data_root: Path, records: list[str]) -> set[str]:
    held = latest_canonical(data_root, records)
    values: set[str] = set()
    for column in DISTINCTIVE:
        if column in held:
            values |= {str(v) for v in held[column].dropna()}
    return values


def _finish_crm(
    store: GoldenStore,
    golden_id: str,
    request_id: int,
    crm_url: str | None,
    data_root: Path,
    resumed: bool,
) -> dict[str, Any]:
    from golden_record.publish import ExportError, PublishError
    from golden_record.rights.crm import republish

    if crm_url is None:
        crm: dict[str, Any] = {"published": False, "why": "no CRM was given (--crm)"}
    else:
        try:
            crm = republish(store, crm_url, data_root, {golden_id: "erased"}, request_id)
        except (PublishError, ExportError, StoreError) as exc:
            crm = {
                "published": False,
                "why": f"{exc}. Erase {golden_id} again once the CRM is reachable",
            }
    with store.transaction() as connection:
        produced = {**store.produced_of(connection, request_id), "crm": crm}
        store.set_produced(connection, request_id, produced)
    return {"request_id": request_id, "golden_id": golden_id, "resumed": resumed, "crm": crm}


def _write_deletion_list(out: Path, golden_id: str, records: list[str]) -> Path:
    """``erasure-<golden ID>/source_records_to_delete.csv``: system, record id; built
    beside its place and swapped in whole."""
    import pandas as pd

    final = Path(out) / f"erasure-{golden_id}"
    building = final.with_name(f".{final.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    systems, ids = split_unique_ids(pd.Series(records, dtype="string"))
    with (building / "source_records_to_delete.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["source_system", "source_record_id"])
        for system, record_id in sorted(zip(systems, ids, strict=True)):
            writer.writerow([system, record_id])
    replace_folder(building, final)
    return final / "source_records_to_delete.csv"
