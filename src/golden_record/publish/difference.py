"""What tonight's golden records change in the CRM, found before anything is staged.

Staging and comparing the whole population took most of a publish (a million source
records and 590,000 golden customers, every night, to change 1% of them). Each published
golden row keeps a hash of the values the publisher wrote (contract v4, ``row_hash``);
tonight's rows are hashed the same way and only those whose hash is new or differs are
staged and compared column by column. Source rows are four short columns: the published
ones are read and compared with tonight's in memory. What is staged is then checked as
before, and the CRM's tables as a whole are audited after the change, inside the same
transaction (:func:`golden_record.publish.staging.audit_published`).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Connection

from golden_record.golden.content import row_hashes
from golden_record.keys import held_in, joined_keys, positions_in
from golden_record.publish.staging import SOURCE_COLUMNS, SOURCE_KEY, AuditFailed
from golden_record.sqlread import read_frame


@dataclass
class Difference:
    golden: pd.DataFrame  # golden rows to stage (new, or hash differs), with row_hash
    new_golden: list[str]  # golden IDs not published yet
    removed_golden: list[str]  # published golden IDs absent tonight
    sources: pd.DataFrame  # source rows to stage: new, or another golden ID or probability
    removed_sources: pd.DataFrame  # SOURCE_KEY of published source rows absent tonight
    moved: set[str]  # golden IDs a source record joined or left
    # Each published golden ID absent tonight whose records are still here → the golden
    # ID holding most of them: where the CRM's ID went, known even when the store's
    # lineage is not (a night re-run after a steward merged two of its golden records
    # mints its IDs afresh, and the CRM still holds the first run's).
    went_to: dict[str, str] = field(default_factory=dict)


def check_keys(golden: pd.DataFrame, sources: pd.DataFrame) -> None:
    """The night's whole population, before anything is staged: each golden ID once and
    present, each source record once (only changed rows are staged, so the staged
    audits alone would not see a duplicate of an unchanged row)."""
    ids = golden["golden_id"]
    if ids.isna().any():
        raise AuditFailed("audit 'no golden record lacks its ID' failed at null")
    doubled = ids[ids.duplicated()]
    if len(doubled):
        raise AuditFailed(f"audit 'every golden record is staged once' failed at {doubled.iloc[0]}")
    keys = sources[list(SOURCE_KEY)]
    twice = keys[keys.duplicated()]
    if len(twice):
        first = twice.iloc[0]
        raise AuditFailed(
            "audit 'every source record is staged once' failed at "
            f"{first['source_system']}:{first['source_record_id']}"
        )


def golden_row_hashes(golden: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """16 hex digits per golden row over the contract's columns, by the frame's index."""
    hashes = np.asarray(row_hashes(golden[list(columns)]), dtype=np.uint64)
    # Formatted in one go: the hex of the big-endian bytes, cut into sixteen digits a row
    # (a Python format per row took 0.4 s at 590,000 golden records).
    digits = np.frombuffer(binascii.hexlify(hashes.astype(">u8").tobytes()), dtype="S16")
    return pd.Series(digits.astype(str).astype(object), index=golden.index, dtype=object)


def difference(
    connection: Connection, golden: pd.DataFrame, sources: pd.DataFrame, columns: Sequence[str]
) -> Difference:
    published = read_frame(connection, "SELECT golden_id, row_hash FROM golden_customer")
    stored = pd.Series(
        published["row_hash"].to_numpy(object),
        index=pd.Index(published["golden_id"].to_numpy(object), dtype=object),
    )
    ids = pd.Index(golden["golden_id"].to_numpy(object), dtype=object)
    hashes = golden_row_hashes(golden, columns)
    before = stored.reindex(ids).to_numpy(object)
    after = hashes.to_numpy(object)
    # A row published before v4 has no hash: staged and compared in full, once.
    write = pd.isna(before) | (before != after)
    new = ~held_in(ids, stored.index)
    staged_golden = golden[write].assign(row_hash=after[write])

    removed = stored.index.difference(ids)
    listed = ", ".join(SOURCE_COLUMNS)
    was = read_frame(connection, f"SELECT {listed} FROM golden_customer_source")
    sourced = _source_changes(sources, was, removed)
    return Difference(
        golden=staged_golden,
        new_golden=sorted(ids[new]),
        removed_golden=sorted(removed),
        went_to=sourced.went_to,
        sources=sourced.rewrite,
        removed_sources=sourced.removed,
        moved=sourced.moved,
    )


@dataclass(frozen=True)
class _SourceChanges:
    rewrite: pd.DataFrame  # SOURCE_COLUMNS of tonight's rows that are new or differ
    removed: pd.DataFrame  # SOURCE_KEY of published rows absent tonight
    moved: set[str]
    went_to: dict[str, str]


def _keys_of(frame: pd.DataFrame) -> pa.Array:
    return joined_keys([frame[c] for c in SOURCE_KEY])


def _source_changes(tonight: pd.DataFrame, was: pd.DataFrame, removed: pd.Index) -> _SourceChanges:
    """Tonight's source rows against the published ones, matched by key in Arrow: a
    pandas outer merge of a million rows a side, each key a Python object, took 1.6 s of
    a quiet night's publish. Rows come out in key order, as that merge gave them."""
    tonight_keys, was_keys = _keys_of(tonight), _keys_of(was)
    position_was = positions_in(tonight_keys, was_keys)
    held = position_was >= 0
    golden_id = tonight["golden_id"].to_numpy(object)
    golden_id_was = np.full(len(tonight), None, dtype=object)
    golden_id_was[held] = was["golden_id"].to_numpy(object)[position_was[held]]
    p = tonight["cluster_match_probability"].to_numpy(float)
    p_was = np.full(len(tonight), np.nan)
    p_was[held] = was["cluster_match_probability"].to_numpy(float)[position_was[held]]
    other_golden = ~held | (golden_id != golden_id_was)
    other_probability = ~((p == p_was) | (np.isnan(p) & np.isnan(p_was)))
    rewrite = other_golden | other_probability
    gone = positions_in(was_keys, tonight_keys) < 0
    moved = (
        set(golden_id[other_golden].tolist())
        | {g for g in golden_id_was[other_golden & held].tolist() if g is not None}
        | set(was.loc[gone, "golden_id"].dropna().tolist())
    )
    stayed = held_in(pd.Series(golden_id_was), removed) & held
    went_to = (
        pd.DataFrame({"golden_id_was": golden_id_was[stayed], "golden_id": golden_id[stayed]})
        .groupby(["golden_id_was", "golden_id"])
        .size()
        .rename("records")
        .reset_index()
        .sort_values(["golden_id_was", "records", "golden_id"], ascending=[True, False, True])
        .drop_duplicates("golden_id_was")
    )
    keys = list(SOURCE_KEY)
    as_objects = {k: object for k in [*keys, "golden_id"]}
    staged = tonight.loc[rewrite, list(SOURCE_COLUMNS)].astype(as_objects)
    removed_rows = was.loc[gone, keys].astype({k: object for k in keys})
    return _SourceChanges(
        rewrite=staged.sort_values(keys, kind="stable").reset_index(drop=True),
        removed=removed_rows.sort_values(keys, kind="stable").reset_index(drop=True),
        moved=moved,
        went_to=dict(zip(went_to["golden_id_was"], went_to["golden_id"], strict=True)),
    )
