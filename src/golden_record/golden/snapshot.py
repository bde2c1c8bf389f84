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
import pyarrow.parquet as pq

from golden_record import nights
from golden_record.golden.records import cross_reference
from golden_record.golden.store import GoldenStore
from golden_record.run import Run


@dataclass(frozen=True)
class GoldenFiles:
    golden: pa.Table  # active golden records, attributes as columns, by golden_id
    xref: pa.Table  # cross_reference(): every source record's golden ID
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
    return GoldenFiles(
        pa.Table.from_pandas(golden, preserve_index=False),
        pa.Table.from_pandas(cross_reference(membership), preserve_index=False),
        None,
    )


def _keys(xref: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(
        xref["source_system"].cast(pa.string()), xref["source_record_id"].cast(pa.string()), ":"
    )


def _as_in(frame: pd.DataFrame, like: pa.Table) -> pa.Table:
    """The store's rows in the file's columns and types (its text as Python objects)."""
    return (
        pa.Table.from_pandas(frame, preserve_index=False)
        .select(like.column_names)
        .cast(like.schema)
    )


def _without(table: pa.Table, values: pa.Array | pa.ChunkedArray, dropped: set[str]) -> pa.Table:
    if not dropped:
        return table
    gone = pc.is_in(values, value_set=pa.array(sorted(dropped), type=values.type))
    return table.filter(pc.invert(gone))


def golden_files(store: GoldenStore, run: Run) -> GoldenFiles:
    """The night's golden records and cross-reference after the store applied ``run``.

    Patched in Arrow, the files' own types throughout: through pandas, filtering and
    sorting every golden record and source record, then converting them back to write,
    were 1.4 s of a quiet night's golden task at a million records."""
    base = _base_night(store, run)
    if base is None:
        return _full(store)
    before = pq.read_table(base.golden.golden_records)
    ended, written = store.golden_changed_in(run.key)
    written = written.drop(columns=["merged_into"])
    new_columns = set(written.columns) - {"status"} - set(before.column_names)
    if new_columns:  # an attribute no golden record had before: read it all
        return _full(store)
    touched = ended | set(written["golden_id"])
    active = written[written["status"] == "active"].drop(columns=["status"])
    active = active.reindex(columns=before.column_names)
    kept = _without(before, before["golden_id"], touched)
    golden = pa.concat_tables([kept, _as_in(active, before)]).sort_by("golden_id")

    xref_before = pq.read_table(base.golden.xref)
    left, memberships = store.xref_changed_in(run.key)
    moved = left | set(memberships["unique_id"])
    kept_xref = _without(xref_before, _keys(xref_before), moved)
    fresh = cross_reference(
        memberships.rename(columns={"match_probability": "cluster_match_probability"})
    )
    xref = pa.concat_tables([kept_xref, _as_in(fresh, xref_before)]).sort_by(
        [("source_system", "ascending"), ("source_record_id", "ascending")]
    )
    if (golden.num_rows, xref.num_rows) != store.current_counts():
        return _full(store)
    return GoldenFiles(golden, xref, base.key)
