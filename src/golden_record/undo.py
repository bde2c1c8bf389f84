"""Undoing a run published by mistake: the golden store and the CRM back to the last good
night, the mistaken run withdrawn.

A run can pass every gate and still be wrong: dated years ahead (before the run date was
checked), or extracted from a source restored to the wrong day. Once published, it is
the CRM's latest run and later nights are "superseded" by it. :func:`undo_run`

1. takes the run back from the golden store, with every run applied after it (they were
   built on it), newest first and in one transaction (:meth:`GoldenStore.take_back_since`);
   their accepted marks are withdrawn, so no later night builds on them;
2. publishes the last good run's golden records again, withdrawing the mistaken runs'
   publishes in the same transaction (CRM contract v6): the CRM shows the last good
   night, and its change feed carries the way back as ordinary events;
3. moves the mistaken runs' CRM exports aside (``crm_exports/.withdrawn/``), so a CRM
   that takes files does not read them as the latest, and writes the good run's again.

It records who, when and why in ``runs/<run>/undone.json`` first, so an undo interrupted
after step 1 (the CRM unreachable) is finished by running it again. The nights taken
back after the mistaken one are then run again (from ``build_golden``): they rebuild
on the good night.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record import nights
from golden_record.atomic import write_text
from golden_record.golden import GoldenStore
from golden_record.golden.store import StoreError
from golden_record.run import Run


def _marker(run: Run) -> Path:
    return run.dir / "undone.json"


def undo_run(
    run: Run,
    by: str,
    reason: str,
    crm_url: str,
    store: GoldenStore,
    export_root: Path | None = None,
) -> dict:
    """Undo ``run`` (see the module's docstring); returns what was done. Raises
    ``StoreError`` saying why when there is nothing to undo or nothing to go back to."""
    if not by.strip() or not reason.strip():
        raise StoreError("undoing a run needs who undoes it (--by) and why (--reason)")
    marker = _marker(run)
    taken = store.runs_since(run.key)
    if taken:
        accepted = store.runs(accepted_only=True)
        good = _last_good(accepted, set(taken))
        if good is None:
            raise StoreError(
                f"run {run.key} is the golden store's first accepted run: there is no good "
                "night to go back to. Nothing was changed"
            )
        record: dict[str, Any] = {
            "run_key": run.key,
            "undone_by": by,
            "reason": reason,
            "undone_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "taken_back": taken,
            "back_to": good,
            "crm": None,
        }
        write_text(json.dumps(record, indent=2) + "\n", marker)
        store.take_back_since(run.key)
        for key in taken:
            nights.withdraw(run.other(key))
    elif marker.is_file():
        record = json.loads(marker.read_text(encoding="utf-8"))
        if record.get("crm"):
            return {**record, "already_done": True}
    else:
        raise StoreError(f"run {run.key} is not in the golden store; nothing to undo")
    record["crm"] = _publish_good_night(run, record, crm_url, store, export_root)
    write_text(json.dumps(record, indent=2) + "\n", marker)
    return record


def _last_good(accepted: pd.DataFrame, taken: set[str]) -> str | None:
    """The store's last accepted run that is not being taken back."""
    kept = accepted[~accepted["run_key"].isin(taken)]
    return None if kept.empty else str(kept.sort_values("sequence")["run_key"].iloc[-1])


def _publish_good_night(
    run: Run, record: dict, crm_url: str, store: GoldenStore, export_root: Path | None
) -> dict:
    from golden_record.publish import export_run, exports_root
    from golden_record.publish.publishing import Withdrawal
    from golden_record.rights.crm import publish_as_seen

    good = run.other(record["back_to"])
    files = good.golden
    if not all(path.is_file() for path in (files.golden_records, files.xref, files.lineage)):
        raise StoreError(
            f"run {good.key}'s golden files are not under {run.root}: give the pipeline's "
            "data folder. The store is back at that night; the CRM was not changed (run the "
            "undo again to finish it)"
        )
    withdrawal = Withdrawal(tuple(record["taken_back"]), record["undone_by"], record["reason"])
    summary = publish_as_seen(store, files, good.key, crm_url, withdrawal=withdrawal)
    exports = exports_root(export_root or run.root)
    moved = []
    for key in record["taken_back"]:
        folder = exports / key
        if folder.is_dir():
            aside = exports / ".withdrawn" / key
            shutil.rmtree(aside, ignore_errors=True)
            aside.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(aside)
            moved.append(str(aside))
    export = export_run(good.key, crm_url, export_root or run.root)
    return {
        "published": good.key,
        "outcome": summary.outcome,
        "publish_id": summary.publish_id,
        "events": dict(summary.events),
        "export": str(export),
        "exports_withdrawn": moved,
    }
