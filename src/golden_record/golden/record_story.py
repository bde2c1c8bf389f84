"""A golden record as a steward looks at it: its values now with the source system and
date of each, every source record as the systems hold it, and its history (merges,
splits, updates, records joining and leaving, steward decisions, corrections and
restrictions) in the order they happened.

Read from the golden store and the latest night's canonical records; nothing is written.
The steward's golden record page (:mod:`golden_record.airflow.person_pages`) shows it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record.golden.held_records import latest_canonical
from golden_record.golden.store import GoldenStore, StoreError

# What happened, in a steward's words.
EVENT_WORDS = {
    "created": "created",
    "updated": "updated",
    "merged": "merged into",
    "split": "split off from",
    "retired": "retired (no source record left)",
}


@dataclass(frozen=True)
class Value:
    attribute: str
    value: str
    source_system: str
    source_record: str
    updated: str


@dataclass(frozen=True)
class Happening:
    run_key: str
    what: str
    other_golden_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class RecordStory:
    golden_id: str
    status: str  # active | merged | retired
    merged_into: str | None
    merged_ids: list[str]  # golden IDs merged into this one, directly or in a chain
    values: list[Value]
    source_records: list[dict[str, Any]]  # as the latest night's canonical records hold them
    history: list[Happening]  # oldest first
    decisions: list[dict[str, Any]]  # steward decisions about its records
    corrections: list[dict[str, Any]]


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain values (missing ones None)."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


def story(store: GoldenStore, golden_id: str, data_root: Path, attributes: list) -> RecordStory:
    """Everything a steward sees about ``golden_id`` (:class:`StoreError` if the store
    has no such golden record). ``attributes``: survivorship's (name, columns) pairs."""
    current = store.golden_record(golden_id)
    if current is None:
        raise StoreError(f"no golden record {golden_id} in the golden store")
    ids = store.person_golden_ids(golden_id)
    records = store.person_records(ids)
    held = store.person_history(ids, records)

    values = []
    for name, columns in attributes:
        sep = ", " if name == "address" else " "
        shown = sep.join(_text(current.get(c)) for c in columns if _text(current.get(c)))
        if shown:
            values.append(
                Value(
                    attribute=name,
                    value=shown,
                    source_system=_text(current.get(f"{name}_source_system")),
                    source_record=_text(current.get(f"{name}_source")),
                    updated=_text(current.get(f"{name}_source_updated_at"))[:10],
                )
            )

    history: list[tuple[tuple, Happening]] = []
    for row in held.events.to_dict("records"):
        mine = row["golden_id"] in ids
        event, other = str(row["event"]), row["other_golden_id"]
        if not mine:
            # Another golden record's event that names this one: merged into it, or a
            # part split off it.
            what = "took in" if event == "merged" else "lost a part to"
            history.append(
                (
                    (row["run_key"], row["sequence"]),
                    Happening(row["run_key"], what, row["golden_id"]),
                )
            )
            continue
        detail = ""
        if event == "updated" and row.get("changed"):
            detail = ", ".join(json.loads(row["changed"]))
        who = "" if row["golden_id"] == golden_id else f"{row['golden_id']} "
        history.append(
            (
                (row["run_key"], row["sequence"]),
                Happening(row["run_key"], who + EVENT_WORDS.get(event, event), other, detail),
            )
        )
    xref = held.xref
    for row in xref.to_dict("records"):
        history.append(
            (
                (row["valid_from_run"], 0),
                Happening(row["valid_from_run"], "record joined", None, row["unique_id"]),
            )
        )
        if _text(row["valid_to_run"]):
            history.append(
                (
                    (row["valid_to_run"], 0),
                    Happening(row["valid_to_run"], "record left", None, row["unique_id"]),
                )
            )
    for row in held.undone.to_dict("records"):
        when = str(row["undone_at"])[:10]
        history.append(
            (
                (when, 0),
                Happening(
                    when,
                    f"decision '{row['decision']}' undone by {row['undone_by']}",
                    None,
                    f"{row['record_a']} · {row['record_b']}: {row['undo_reason']}",
                ),
            )
        )
    history.sort(key=lambda item: (str(item[0][0]), int(item[0][1] or 0)))

    return RecordStory(
        golden_id=golden_id,
        status=str(current["status"]),
        merged_into=current.get("merged_into"),
        merged_ids=[g for g in ids if g != golden_id],
        values=values,
        source_records=_records(latest_canonical(data_root, records)),
        history=[happening for _, happening in history],
        decisions=_records(held.decisions),
        corrections=_records(store.corrections(ids)),
    )
