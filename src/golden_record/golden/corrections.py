"""Stewards' corrections (:mod:`golden_record.rights.correction`) inside a night's build:
the corrected values laid over what survivorship chose, and which corrections the
sources now agree with. The store reads and ends them
(:mod:`golden_record.golden.store.rectifications`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from golden_record.golden.survivorship import Survivorship
from golden_record.golden.survivorship import load as load_survivorship


class UnknownAttribute(ValueError):
    """A correction names an attribute golden records do not have."""


@dataclass
class Corrected:
    """A night's golden records with the corrections laid over them, and the ids of the
    corrections the sources now agree with (they have done their work and end)."""

    golden: pd.DataFrame
    sources_agree: list[int] = field(default_factory=list)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def group_of(field: str, config: Survivorship) -> str:
    """The attribute group (whose provenance a correction takes) ``field`` belongs to."""
    for attribute in config.attributes:
        if field in attribute.columns:
            return attribute.name
    fields = ", ".join(config.value_columns)
    raise UnknownAttribute(f"there is no golden attribute {field!r}: one of {fields}")


def apply(
    golden: pd.DataFrame, corrections: pd.DataFrame, config: Survivorship | None = None
) -> Corrected:
    """The night's rebuilt golden records with the corrections in force applied, and
    those the sources now agree with."""
    if corrections.empty or golden.empty:
        return Corrected(golden)
    config = config or load_survivorship()
    agreed: list[int] = []
    golden = golden.set_index("golden_id", drop=False)
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
            agreed.append(int(row["correction_id"]))
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
    return Corrected(golden.reset_index(drop=True), agreed)
