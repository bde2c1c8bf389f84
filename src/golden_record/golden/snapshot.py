"""A night's golden files from the last accepted night's files and what the night changed.

Reading every golden record back from the store and parsing its attributes cost about 20
of a quiet night's 80 s in ``build_golden`` at a million records. The store versions
everything by run, so the state after a night is exactly the state after the night before
it, less the versions the night ended, plus the versions it wrote. When the store's last
run before this one is an accepted night whose own golden files are in its run folder
(its input fingerprint says they were written from that very application), the night's
golden records and cross-reference are that night's files patched with this night's
versions; the counts are checked against the store, and anything else reads the store in
full. ``tests/test_incremental.py`` checks the patched files against full reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from golden_record import nights
from golden_record.golden.records import cross_reference
from golden_record.golden.store import GoldenStore
from golden_record.keys import held_in
from golden_record.run import Run


@dataclass(frozen=True)
class GoldenFiles:
    golden: pd.DataFrame  # active golden records, attributes as columns, by golden_id
    xref: pd.DataFrame  # cross_reference(): every source record's golden ID
    patched_from: str | None  # the night patched, or None when read in full


def _base_night(store: GoldenStore, run: Run) -> Run | None:
    """The store's run just before ``run``, if accepted and its files are its own (in
    this data root or the folder the store recorded for it)."""
    runs = store.runs().sort_values("sequence").reset_index(drop=True)
    position = runs.index[runs["run_key"] == run.key]
    if len(position) != 1 or position[0] == 0:
        return None
    latest = runs.iloc[position[0] - 1]
    if latest["status"] != "accepted":
        return None
    key = str(latest["run_key"])
    # Wherever that run wrote its files (a command-line run into another folder).
    folder = store.folder_of(key)
    elsewhere = nights.runs_in_store([(key, folder)], run) if folder else []
    base = elsewhere[0] if elsewhere else run.other(key)
    files = base.golden
    if not all(p.is_file() for p in (files.golden_records, files.xref, files.summary)):
        return None
    written_from = json.loads(files.summary.read_text(encoding="utf-8")).get("input_fingerprint")
    return base if written_from == latest["input_fingerprint"] else None


def _full(store: GoldenStore) -> GoldenFiles:
    golden = store.golden_records().drop(columns=["status", "merged_into"])
    membership = store.current_xref().rename(
        columns={"match_probability": "cluster_match_probability"}
    )
    return GoldenFiles(golden, cross_reference(membership), None)


def _keys(xref: pd.DataFrame) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.array(xref["source_system"].astype("string"), type=pa.string()),
        pa.array(xref["source_record_id"].astype("string"), type=pa.string()),
        ":",
    )


def golden_files(store: GoldenStore, run: Run) -> GoldenFiles:
    """The night's golden records and cross-reference after the store applied ``run``."""
    base = _base_night(store, run)
    if base is None:
        return _full(store)
    before = pd.read_parquet(base.golden.golden_records)
    ended, written = store.golden_changed_in(run.key)
    written = written.drop(columns=["merged_into"])
    new_columns = set(written.columns) - {"status"} - set(before.columns)
    if new_columns:  # an attribute no golden record had before: read it all
        return _full(store)
    touched = ended | set(written["golden_id"])
    active = written[written["status"] == "active"].drop(columns=["status"])
    active = active.reindex(columns=before.columns)
    # In the file's types: the store's text comes as Python objects, and joined with
    # them every string kept from the file would become one too (a quiet night's golden
    # records at a million: 0.4 GB as read, 1.1 GB so).
    active = active.astype(
        {c: before[c].dtype for c in before.columns if isinstance(before[c].dtype, pd.StringDtype)}
    )
    kept = before[~held_in(before["golden_id"], touched)]
    golden = pd.concat([kept, active], ignore_index=True)
    golden = golden.sort_values("golden_id", kind="stable", ignore_index=True)

    xref_before = pd.read_parquet(base.golden.xref)
    left, memberships = store.xref_changed_in(run.key)
    moved = left | set(memberships["unique_id"])
    kept_xref = xref_before[~held_in(_keys(xref_before), moved)]
    fresh = cross_reference(
        memberships.rename(columns={"match_probability": "cluster_match_probability"})
    )
    xref = pd.concat([kept_xref, fresh], ignore_index=True)
    xref = xref.sort_values(["source_system", "source_record_id"]).reset_index(drop=True)
    if (len(golden), len(xref)) != store.current_counts():
        return _full(store)
    return GoldenFiles(golden, xref, base.key)
