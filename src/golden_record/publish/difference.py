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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from golden_record.golden.content import row_hashes
from golden_record.keys import held_in
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
    hashes = row_hashes(golden[list(columns)])
    return pd.Series([f"{h:016x}" for h in hashes.tolist()], index=golden.index, dtype=object)


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

    keys = list(SOURCE_KEY)
    listed = ", ".join(SOURCE_COLUMNS)
    was = read_frame(connection, f"SELECT {listed} FROM golden_customer_source")
    tonight = sources[list(SOURCE_COLUMNS)].astype({k: object for k in [*keys, "golden_id"]})
    was = was.astype({k: object for k in [*keys, "golden_id"]})
    joined = tonight.merge(was, on=keys, how="outer", suffixes=("", "_was"), indicator=True)
    here = joined["_merge"] != "right_only"
    gone = joined["_merge"] == "right_only"
    other_golden = joined["golden_id"].to_numpy(object) != joined["golden_id_was"].to_numpy(object)
    p, p_was = (
        joined["cluster_match_probability"].to_numpy(float),
        joined["cluster_match_probability_was"].to_numpy(float),
    )
    other_probability = ~((p == p_was) | (np.isnan(p) & np.isnan(p_was)))
    rewrite = here & (other_golden | other_probability)
    membership = here & other_golden  # includes records new tonight
    moved = set(joined.loc[membership, "golden_id"]) | set(
        joined.loc[(membership | gone) & joined["golden_id_was"].notna(), "golden_id_was"]
    )
    removed = stored.index.difference(ids)
    stayed = joined.loc[here & held_in(joined["golden_id_was"], removed)]
    went_to = (
        stayed.groupby(["golden_id_was", "golden_id"])
        .size()
        .rename("records")
        .reset_index()
        .sort_values(["golden_id_was", "records", "golden_id"], ascending=[True, False, True])
        .drop_duplicates("golden_id_was")
    )
    return Difference(
        golden=staged_golden,
        new_golden=sorted(ids[new]),
        removed_golden=sorted(removed),
        went_to=dict(zip(went_to["golden_id_was"], went_to["golden_id"], strict=True)),
        sources=joined.loc[rewrite, list(SOURCE_COLUMNS)].reset_index(drop=True),
        removed_sources=joined.loc[gone, keys].reset_index(drop=True),
        moved=moved,
    )
