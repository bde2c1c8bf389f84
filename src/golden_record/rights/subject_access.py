"""A subject access request (UK GDPR Article 15): everything held about one person, in
one folder an information-governance officer can send.

From the golden store: the golden record now and every earlier version with the source
of each value, the golden IDs merged into it, every source record of the person in every
system (ids, and their values from the latest night's canonical records), every change
event, and the stewards' decisions and review items about the person's records. From the
CRM, when given: the change feed rows and the publishes that carried the person. From
the exports folder: which nightly export files hold the golden ID.

Nothing about anyone else: a review pair or a decision joining one of the person's
records to another person's names only "another record", and the values of the other
record are never read. The folder is written beside its final place and swapped in
whole: ``letter.html``, the response a resident can read
(:mod:`golden_record.rights.letter`); ``technical_annex.html``, everything above in
tables for the officer; ``subject_access.json`` for machines.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record.atomic import replace_folder
from golden_record.golden import GoldenStore
from golden_record.golden.held_records import latest_canonical
from golden_record.keys import held_in
from golden_record.rights.letter import Notice, load_notice, render

OTHER_RECORD = "another record (not this person's)"
LETTER, ANNEX = "letter.html", "technical_annex.html"


def _plain(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def gather(
    store: GoldenStore,
    golden_id: str,
    data_root: Path,
    crm_url: str | None = None,
    exports: Path | None = None,
) -> dict[str, Any]:
    """Everything held about the person of ``golden_id`` (see the module's docstring)."""
    ids = store.person_golden_ids(golden_id)
    records = store.person_records(ids)
    held = store.person_history(ids, records)
    versions, xref, events = held.versions, held.xref, held.events
    decisions, reviews, undone = held.decisions, held.reviews, held.undone
    # Another person's golden ID in a merge or split event is theirs, not this person's.
    for column in ("golden_id", "other_golden_id"):
        events[column] = events[column].where(
            events[column].isna() | events[column].isin(ids), "another golden record"
        )
    for frame in (decisions, reviews, undone):
        for column in ("record_a", "record_b"):
            frame[column] = frame[column].where(frame[column].isin(records), OTHER_RECORD)
    current = versions[versions["valid_to_run"].isna() & (versions["golden_id"] == golden_id)]
    return {
        "golden_id": golden_id,
        "produced_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "golden_ids": ids,
        "golden_record": (
            {**json.loads(current.iloc[0]["attributes"]), "status": current.iloc[0]["status"]}
            if len(current)
            else None
        ),
        "history": [
            {**row, "attributes": json.loads(row["attributes"])}
            for row in _plain(versions.drop(columns=["content_hash"], errors="ignore"))
        ],
        "source_records": _plain(latest_canonical(data_root, records)),
        "cross_reference": _plain(xref),
        "change_events": _plain(events),
        "steward_decisions": _plain(decisions),
        "undone_decisions": _plain(undone),
        "review_items": _plain(reviews),
        "corrections": _plain(store.corrections(ids)),
        "crm": _crm(crm_url, ids) if crm_url else None,
        "exports": _exports(exports, ids) if exports and exports.is_dir() else [],
    }


def _crm(crm_url: str, ids: list[str]) -> dict[str, Any]:
    from golden_record.publish.database import crm_engine, safe_url
    from golden_record.sqlread import read_frame

    engine = crm_engine(crm_url)
    marks = ", ".join(f":g{i}" for i in range(len(ids)))
    params = {f"g{i}": g for i, g in enumerate(ids)}
    try:
        with engine.connect() as connection:
            feed = read_frame(
                connection,
                f"SELECT sequence, event, golden_id, related_golden_id, changed_attributes, "
                f"run_key, published_at FROM crm_change_feed WHERE golden_id IN ({marks}) "
                "ORDER BY sequence",
                params,
            )
            feed["related_golden_id"] = feed["related_golden_id"].where(
                feed["related_golden_id"].isna() | feed["related_golden_id"].isin(ids),
                "another golden record",
            )
            held = read_frame(
                connection,
                "SELECT golden_id, changed_in_run FROM golden_customer "
                f"WHERE golden_id IN ({marks})",
                params,
            )
    finally:
        engine.dispose()
    return {"crm": safe_url(crm_url), "published_now": _plain(held), "change_feed": _plain(feed)}


def _exports(exports: Path, ids: list[str]) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    found = []
    for folder in sorted(p for p in exports.iterdir() if p.is_dir() and not p.name.startswith(".")):
        customers = folder / "golden_customer.parquet"
        if customers.is_file():
            golden = pq.read_table(customers, columns=["golden_id"]).column("golden_id")
            if held_in(golden, ids).any():
                found.append({"export": folder.name, "files": ["golden_customer.csv",
                              "golden_customer.parquet", "golden_customer_source.csv",
                              "golden_customer_source.parquet"]})  # fmt: skip
    return found


def write(found: dict[str, Any], out: Path, notice: Notice | None = None) -> Path:
    """The request's folder under ``out``: the letter, the technical annex and JSON.
    ``notice``: the council's privacy notice (the packaged wording if None)."""
    from golden_record.golden import survivorship

    attributes = [(a.name, tuple(a.columns)) for a in survivorship.load().attributes]
    letter = render(
        found, notice or load_notice(), attributes, found.get("corrections", []), date.today()
    )
    final = out / f"subject-access-{found['golden_id']}"
    building = out / f".subject-access-{found['golden_id']}.building"
    building.mkdir(parents=True, exist_ok=True)
    (building / "subject_access.json").write_text(
        json.dumps(found, indent=2, default=str) + "\n", encoding="utf-8"
    )
    (building / LETTER).write_text(letter, encoding="utf-8")
    (building / ANNEX).write_text(_page(found), encoding="utf-8")
    replace_folder(building, final)
    return final


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>None.</p>"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape('' if row.get(c) is None else str(row.get(c)))}</td>"
            for c in columns
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(found: dict[str, Any]) -> str:
    record = found["golden_record"] or {}
    sections = [
        ("The golden record now", _table([record]) if record else "<p>No current record.</p>"),
        ("Source records in each system", _table(found["source_records"])),
        ("Which record of which system was part of the person, and when",
         _table(found["cross_reference"])),
        ("Every version of the golden record", _table(
            [{k: v for k, v in row.items() if k != "attributes"} for row in found["history"]])),
        ("Changes", _table(found["change_events"])),
        ("Stewards' decisions", _table(found["steward_decisions"])),
        ("Stewards' decisions since undone", _table(found.get("undone_decisions", []))),
        ("Corrections", _table(found.get("corrections", []))),
        ("Pairs sent for clerical review", _table(found["review_items"])),
        ("Published to the CRM", _table((found["crm"] or {}).get("change_feed", []))),
        ("Nightly exports holding the record", _table(found["exports"])),
    ]  # fmt: skip
    body = "".join(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections)
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>Subject access, technical annex: {html.escape(found['golden_id'])}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem}"
        "table{border-collapse:collapse;display:block;overflow-x:auto}"
        "th,td{border-bottom:1px solid #bbb;padding:.3rem .6rem;text-align:left}</style></head>"
        f"<body><h1>Subject access, technical annex: golden record "
        f"{html.escape(found['golden_id'])}</h1><p>For the officer: everything the "
        f"pipeline holds about the person, as it holds it. The resident's response is "
        f"{LETTER}.</p>"
        f"<p>Produced {html.escape(found['produced_at'])}. Golden IDs of this person: "
        f"{html.escape(', '.join(found['golden_ids']))}.</p>{body}</body></html>"
    )
