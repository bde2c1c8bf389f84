"""Stewards' corrections (:mod:`golden_record.rights.correction`) inside a night's store
update: which golden records must be rebuilt for them, the corrected values laid over
what survivorship chose, and their undoing when the night is taken back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from golden_record.golden import schema
from golden_record.golden.survivorship import Survivorship
from golden_record.golden.survivorship import load as load_survivorship
from golden_record.sqlread import read_frame


class UnknownAttribute(ValueError):
    """A correction names an attribute golden records do not have."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def group_of(field: str, config: Survivorship) -> str:
    """The attribute group (whose provenance a correction takes) ``field`` belongs to."""
    for attribute in config.attributes:
        if field in attribute.columns:
            return attribute.name
    fields = ", ".join(config.value_columns)
    raise UnknownAttribute(f"there is no golden attribute {field!r}: one of {fields}")


def pending(connection: Connection) -> pd.DataFrame:
    """Corrections a night must rebuild its golden record for: in force, or ended by a
    steward since the last night (so the record is chosen afresh)."""
    c = schema.correction
    return read_frame(
        connection, select(c).where(c.c.ended_run.is_(None)).order_by(c.c.correction_id)
    )


def apply(
    connection: Connection,
    golden: pd.DataFrame,
    corrections: pd.DataFrame,
    run_key: str,
    config: Survivorship | None = None,
) -> pd.DataFrame:
    """The night's rebuilt golden records with the corrections in force applied; ends
    those the sources now agree with, and stamps the night on those ended since."""
    if corrections.empty or golden.empty:
        return golden
    config = config or load_survivorship()
    c = schema.correction
    golden = golden.set_index("golden_id", drop=False)
    ended = corrections[corrections["ended_at"].notna()]
    for correction_id in ended["correction_id"]:
        connection.execute(
            update(c).where(c.c.correction_id == int(correction_id)).values(ended_run=run_key)
        )
    lists = {attribute: column for column, attribute in config.lists.items()}
    in_force = corrections[corrections["ended_at"].isna()]
    for row in in_force.to_dict("records"):
        golden_id, name, value = str(row["golden_id"]), str(row["field"]), str(row["value"])
        if golden_id not in golden.index:
            continue  # not rebuilt tonight (merged away, say): kept for when it is
        chosen = _text(golden.at[golden_id, name])
        group = group_of(name, config)
        provenance = _text(golden.at[golden_id, f"{group}_source"]) or ""
        if chosen == value and not provenance.startswith("correction:"):
            connection.execute(
                update(c)
                .where(c.c.correction_id == int(row["correction_id"]))
                .values(ended_at=_now(), ended_how="source agrees", ended_run=run_key)
            )
            continue
        golden.at[golden_id, name] = value
        golden.at[golden_id, f"{group}_source"] = f"correction:{row['correction_id']}"
        golden.at[golden_id, f"{group}_source_system"] = "steward"
        golden.at[golden_id, f"{group}_source_updated_at"] = row["corrected_at"]
        column = lists.get(group)
        single = next(a for a in config.attributes if a.name == group).columns == (name,)
        if column is not None and single:
            held = json.loads(_text(golden.at[golden_id, column]) or "[]")
            replaced = (value, _text(row["previous_value"]), chosen)
            golden.at[golden_id, column] = json.dumps(
                [value, *(v for v in held if v not in replaced)]
            )
    return golden.reset_index(drop=True)


def take_back(connection: Connection, run_key: str) -> None:
    """Undo what a night taken back did to corrections."""
    c = schema.correction
    connection.execute(
        update(c)
        .where(and_(c.c.ended_run == run_key, c.c.ended_how == "source agrees"))
        .values(ended_at=None, ended_how=None, ended_run=None)
    )
    connection.execute(update(c).where(c.c.ended_run == run_key).values(ended_run=None))
