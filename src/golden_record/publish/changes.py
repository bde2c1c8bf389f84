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

from golden_record.publish.staging import (
    SOURCE_COLUMNS,
    SOURCE_KEY,
    STAGED_GOLDEN,
    STAGED_SOURCES,
    bulk_insert,
    create_temp_table,
)

# The order a consumer can apply a publish's events in: new IDs before updates that may
# refer to them, removals last.
EVENT_ORDER = ("created", "split", "updated", "merged", "retired")
CHANGED_GOLDEN = "stage_changed_golden"
CHANGED_SOURCES = "stage_changed_source"


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
    connection: Connection, golden_columns: Sequence[str], lineage: pd.DataFrame | None
) -> tuple[ChangeSet, list[str], list[str]]:
    """Events for the difference between published and staged rows; also the golden IDs
    whose rows must be rewritten and removed."""
    columns = ", ".join(golden_columns)
    removed = _keys(
        connection,
        f"SELECT p.golden_id FROM golden_customer p LEFT JOIN {STAGED_GOLDEN} s"
        " ON s.golden_id = p.golden_id WHERE s.golden_id IS NULL ORDER BY p.golden_id",
    )
    added = _keys(
        connection,
        f"SELECT s.golden_id FROM {STAGED_GOLDEN} s LEFT JOIN golden_customer p"
        " ON p.golden_id = s.golden_id WHERE p.golden_id IS NULL ORDER BY s.golden_id",
    )
    differing = set(
        _keys(
            connection,
            f"SELECT golden_id FROM (SELECT {columns} FROM {STAGED_GOLDEN}"
            f" EXCEPT SELECT {columns} FROM golden_customer) d",
        )
    )
    new_ids, gone_ids = set(added), set(removed)
    rewritten = sorted(differing - new_ids)
    # Golden IDs whose source records changed (a record arrived, left or moved).
    membership = ", ".join(("source_system", "source_record_id", "golden_id"))
    moved = set(
        _keys(
            connection,
            f"SELECT golden_id FROM (SELECT {membership} FROM {STAGED_SOURCES}"
            f" EXCEPT SELECT {membership} FROM golden_customer_source) a"
            f" UNION SELECT golden_id FROM (SELECT {membership} FROM golden_customer_source"
            f" EXCEPT SELECT {membership} FROM {STAGED_SOURCES}) b",
        )
    )
    attributes = _changed_attributes(connection, rewritten, golden_columns)
    updated = sorted((set(rewritten) | moved) - new_ids - gone_ids)

    split_from = _lineage_map(lineage, "split_from")
    merged_into = _lineage_map(lineage, "merged_into")
    rows: list[tuple[str, str, str | None, str | None]] = []
    for golden_id in added:
        origin = split_from.get(golden_id)
        rows.append(("split" if origin else "created", golden_id, origin, None))
    for golden_id in updated:
        changed = list(attributes.get(golden_id, []))
        if golden_id in moved:
            changed.append("source_records")
        rows.append(("updated", golden_id, None, json.dumps(changed)))
    for golden_id in removed:
        into = merged_into.get(golden_id)
        rows.append(("merged" if into else "retired", golden_id, into, None))
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
) -> int:
    """Rewrite only the golden rows that changed and the source rows that changed; return
    how many source rows were rewritten."""
    create_staging_keys(connection, [*write_ids, *remove_ids])
    in_changed = f"golden_id IN (SELECT golden_id FROM {CHANGED_GOLDEN})"
    _rewrite(connection, "golden_customer", STAGED_GOLDEN, golden_columns, in_changed, in_changed)

    key = ", ".join(SOURCE_KEY)
    create_temp_table(
        connection,
        CHANGED_SOURCES,
        f"{', '.join(f'{k} TEXT' for k in SOURCE_KEY)}, PRIMARY KEY ({key})",
    )
    compared = ", ".join(SOURCE_COLUMNS)
    connection.execute(
        text(
            f"INSERT INTO {CHANGED_SOURCES} ({key})"
            f" SELECT {key} FROM (SELECT {compared} FROM {STAGED_SOURCES}"
            f" EXCEPT SELECT {compared} FROM golden_customer_source) a"
            f" UNION SELECT p.source_system, p.source_record_id"
            f" FROM golden_customer_source p LEFT JOIN {STAGED_SOURCES} s"
            " ON s.source_system = p.source_system AND s.source_record_id = p.source_record_id"
            " WHERE s.source_system IS NULL"
        )
    )
    published = "golden_customer_source"
    _rewrite(
        connection,
        published,
        STAGED_SOURCES,
        SOURCE_COLUMNS,
        _in_changed_sources(published),
        _in_changed_sources("s"),
    )
    return int(connection.execute(text(f"SELECT COUNT(*) FROM {CHANGED_SOURCES}")).scalar() or 0)


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
