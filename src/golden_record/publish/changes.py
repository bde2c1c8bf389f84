"""What changed between the published tables and the staged ones, as change-feed events,
and applying only those rows.

The feed describes the CRM's own tables from one publish to the next, so it stays true
whatever happened in between: a night stopped by a gate (its changes arrive with the next
publish), or a run re-run with new input (consumers get the difference from what they
last saw, not a replay). The golden store's lineage (``merged_into``, ``split_from``)
names where a disappearing or new golden ID went or came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from golden_record.bulk_load import bulk_insert
from golden_record.publish.difference import Difference
from golden_record.publish.staging import (
    SOURCE_COLUMNS,
    SOURCE_KEY,
    STAGED_GOLDEN,
    STAGED_SOURCES,
    create_temp_table,
)

# The order a consumer can apply a publish's events in: new IDs before updates that may
# refer to them, removals last.
EVENT_ORDER = (
    "created",
    "restriction_lifted",
    "split",
    "updated",
    "merged",
    "retired",
    "restricted",
    "erased",
)
# What a rights request makes of a golden ID leaving or returning to the CRM, in place of
# the night's "retired" or "created" (contract v5).
RIGHTS_EVENTS = ("restricted", "restriction_lifted", "erased")
CHANGED_GOLDEN = "stage_changed_golden"
CHANGED_SOURCES = "stage_changed_source"
HASH_ONLY = "stage_hash_only_golden"


@dataclass
class ChangeSet:
    events: pd.DataFrame  # event, golden_id, related_golden_id, changed_attributes
    golden_rows: int = 0  # golden_customer rows rewritten

    @property
    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.events["event"].value_counts().items()}

    @property
    def empty(self) -> bool:
        return self.events.empty and not self.golden_rows


def _keys(connection: Connection, query: str) -> list:
    return [row[0] for row in connection.execute(text(query))]


def _lineage_map(lineage: pd.DataFrame | None, column: str) -> dict[str, str]:
    if lineage is None or column not in lineage:
        return {}
    known = lineage[lineage[column].notna()]
    return dict(zip(known["golden_id"], known[column], strict=True))


def _changed_attributes(
    connection: Connection, golden_ids: list[str], columns: Sequence[str]
) -> dict[str, list[str]]:
    """Which contract columns differ for each golden ID, published vs staged."""
    if not golden_ids:
        return {}
    create_staging_keys(connection, golden_ids)
    wanted = ", ".join(f"t.{c}" for c in columns)

    def read(table: str) -> pd.DataFrame:
        query = (
            f"SELECT {wanted} FROM {table} t JOIN {CHANGED_GOLDEN} k ON k.golden_id = t.golden_id"
        )
        frame = pd.read_sql(text(query), connection).set_index("golden_id")
        # PostgreSQL returns dates and parsed JSON; compare them as the staged text does.
        return frame.map(_comparable)

    before, after = read("golden_customer"), read(STAGED_GOLDEN)
    before = before.reindex(after.index)
    differs = (before != after) & ~(before.isna() & after.isna())
    return {
        str(golden_id): [str(c) for c, flag in row.items() if flag]
        for golden_id, row in differs.iterrows()
        if row.any()
    }


def _comparable(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def create_staging_keys(connection: Connection, golden_ids: list[str]) -> None:
    create_temp_table(connection, CHANGED_GOLDEN, "golden_id TEXT PRIMARY KEY")
    bulk_insert(connection, CHANGED_GOLDEN, pd.DataFrame({"golden_id": golden_ids}))


def compare(
    connection: Connection,
    golden_columns: Sequence[str],
    lineage: pd.DataFrame | None,
    difference: Difference,
    rights_events: dict[str, str] | None = None,
) -> tuple[ChangeSet, list[str], list[str]]:
    """Events for the difference between published and staged rows (the staged rows are
    those ``difference`` found new or changed); also the golden IDs whose rows must be
    rewritten and removed. ``rights_events``: golden ID → the rights event its leaving
    or returning is (restricted, restriction_lifted, erased)."""
    rights = rights_events or {}
    columns = ", ".join(golden_columns)
    removed, added = difference.removed_golden, difference.new_golden
    differing = set(
        _keys(
            connection,
            f"SELECT golden_id FROM (SELECT {columns} FROM {STAGED_GOLDEN}"
            f" EXCEPT SELECT {columns} FROM golden_customer) d",
        )
    )
    new_ids, gone_ids = set(added), set(removed)
    rewritten = sorted(differing - new_ids)
    moved = difference.moved
    attributes = _changed_attributes(connection, rewritten, golden_columns)
    updated = sorted((set(rewritten) | moved) - new_ids - gone_ids)

    split_from = _lineage_map(lineage, "split_from")
    merged_into = _lineage_map(lineage, "merged_into")
    rows: list[tuple[str, str, str | None, str | None]] = []
    for golden_id in added:
        origin = split_from.get(golden_id)
        if rights.get(golden_id) == "restriction_lifted":
            rows.append(("restriction_lifted", golden_id, None, None))
            continue
        rows.append(("split" if origin else "created", golden_id, origin, None))
    for golden_id in updated:
        changed = list(attributes.get(golden_id, []))
        if golden_id in moved:
            changed.append("source_records")
        rows.append(("updated", golden_id, None, json.dumps(changed)))
    for golden_id in removed:
        if rights.get(golden_id) in ("restricted", "erased"):
            rows.append((rights[golden_id], golden_id, None, None))
            continue
        into = merged_into.get(golden_id) or difference.went_to.get(golden_id)
        rows.append(("merged" if into else "retired", golden_id, into, None))
    # Erased while already out of the views (restricted): the CRM still hears of it, if
    # it ever had the ID.
    unheard = sorted(g for g, e in rights.items() if e == "erased" and g not in {*added, *removed})
    for golden_id in unheard:
        last = connection.execute(
            text(
                "SELECT event FROM golden_change_feed WHERE golden_id = :g"
                " ORDER BY sequence DESC LIMIT 1"
            ),
            {"g": golden_id},
        ).scalar()
        if last is not None and last != "erased":
            rows.append(("erased", golden_id, None, None))
    events = pd.DataFrame(
        rows, columns=["event", "golden_id", "related_golden_id", "changed_attributes"]
    )
    events["order"] = events["event"].map(EVENT_ORDER.index)
    events = events.sort_values(["order", "golden_id"]).drop(columns="order")
    changes = ChangeSet(
        events=events.reset_index(drop=True),
        golden_rows=len(added) + len(rewritten) + len(removed),
    )
    return changes, sorted(new_ids | set(rewritten)), removed


def apply(
    connection: Connection,
    golden_columns: Sequence[str],
    write_ids: list[str],
    remove_ids: list[str],
    difference: Difference,
) -> int:
    """Rewrite only the golden rows that changed and the source rows that changed; fill
    in the hash of staged rows whose values were already published; return how many
    source rows were rewritten."""
    create_staging_keys(connection, [*write_ids, *remove_ids])
    in_changed = f"golden_id IN (SELECT golden_id FROM {CHANGED_GOLDEN})"
    _rewrite(
        connection,
        "golden_customer",
        STAGED_GOLDEN,
        [*golden_columns, "row_hash"],
        in_changed,
        in_changed,
    )
    # Rows published before contract v4 (no hash) whose values are unchanged: the hash
    # only, so the row keeps the run that last changed it. (A NOT IN over the staged
    # rows instead took minutes on PostgreSQL at 600,000 rows.)
    hash_only = sorted(set(difference.golden["golden_id"]) - set(write_ids) - set(remove_ids))
    if hash_only:
        create_temp_table(connection, HASH_ONLY, "golden_id TEXT PRIMARY KEY")
        bulk_insert(connection, HASH_ONLY, pd.DataFrame({"golden_id": hash_only}))
        connection.execute(
            text(
                "UPDATE golden_customer SET row_hash = (SELECT s.row_hash FROM"
                f" {STAGED_GOLDEN} s WHERE s.golden_id = golden_customer.golden_id)"
                f" WHERE golden_id IN (SELECT golden_id FROM {HASH_ONLY})"
            )
        )

    key = ", ".join(SOURCE_KEY)
    create_temp_table(
        connection,
        CHANGED_SOURCES,
        f"{', '.join(f'{k} TEXT' for k in SOURCE_KEY)}, PRIMARY KEY ({key})",
    )
    changed_keys = pd.concat(
        [difference.sources[list(SOURCE_KEY)], difference.removed_sources[list(SOURCE_KEY)]],
        ignore_index=True,
    )
    bulk_insert(connection, CHANGED_SOURCES, changed_keys)
    published = "golden_customer_source"
    _rewrite(
        connection,
        published,
        STAGED_SOURCES,
        SOURCE_COLUMNS,
        _in_changed_sources(published),
        _in_changed_sources("s"),
    )
    return len(changed_keys)


def _rewrite(
    connection: Connection,
    table: str,
    staged: str,
    columns: Sequence[str],
    published_changed: str,
    staged_changed: str,
) -> None:
    """Delete the published rows that changed, then insert their staged versions (aliased
    ``s``) stamped with the staged run."""
    connection.execute(text(f"DELETE FROM {table} WHERE {published_changed}"))
    listed = ", ".join((*columns, "changed_in_run"))
    connection.execute(
        text(
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {staged} s WHERE {staged_changed}"
        )
    )


def _in_changed_sources(table: str) -> str:
    same_key = " AND ".join(f"c.{k} = {table}.{k}" for k in SOURCE_KEY)
    return f"EXISTS (SELECT 1 FROM {CHANGED_SOURCES} c WHERE {same_key})"
