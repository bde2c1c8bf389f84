"""A person's source records as the nights last read them: the rows of the latest
night's canonical records (what each system holds, before standardising), read for the
records asked for only, and a record's fields as people read them. Used by the subject
access response, erasure and the steward's pages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd


def latest_canonical(data_root: Path, unique_ids: list[str]) -> pd.DataFrame:
    """The person's source records as the latest night with canonical records read them."""
    runs = data_root / "runs"
    nights = (
        sorted((p for p in runs.iterdir() if p.is_dir()), reverse=True) if runs.is_dir() else []
    )
    for night in nights:
        canonical = night / "standardised" / "canonical.parquet"
        if canonical.is_file():
            if not unique_ids:
                return pd.DataFrame(columns=["unique_id"])
            # Only the person's rows are read (a night holds a million records).
            found = pd.read_parquet(canonical, filters=[("unique_id", "in", list(unique_ids))])
            return found.assign(as_read_on=night.name).reset_index(drop=True)
    return pd.DataFrame(columns=["unique_id"])


# A source record's fields as people read them: each label and the canonical columns it
# joins (with what between them).
RECORD_FIELDS = (
    ("Name", ("title", "first_name", "middle_names", "surname"), " "),
    ("Date of birth", ("date_of_birth",), ""),
    ("Address", ("address_line_1", "address_line_2", "address_line_3", "town", "postcode"), ", "),
    ("Property reference (UPRN)", ("uprn",), ""),
    ("Email address", ("email",), ""),
    ("Phone number", ("phone",), ""),
    ("National Insurance number", ("ni_number",), ""),
)


def field_values(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each of ``RECORD_FIELDS`` for one record (a canonical row, from pandas or JSON):
    its label and its columns' values joined, empty where the record holds none."""
    values = []
    for label, columns, sep in RECORD_FIELDS:
        parts = [record.get(c) for c in columns]
        held = [str(p).strip() for p in parts if p is not None and not pd.isna(p)]
        values.append((label, sep.join(h for h in held if h)))
    return values
