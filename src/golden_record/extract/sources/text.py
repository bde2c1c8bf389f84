"""Column helpers shared by the extractors' mappings to the canonical record."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from golden_record.extract.sources.errors import SourceDataError

TITLES = frozenset(
    {"mr", "mrs", "miss", "ms", "mx", "dr", "prof", "rev", "sir", "dame", "lady", "lord"}
)


def _blank_to_na(frame: pd.DataFrame | pd.Series) -> Any:
    stripped = (
        frame.astype("string").apply(lambda s: s.str.strip())
        if isinstance(frame, pd.DataFrame)
        else frame.astype("string").str.strip()
    )
    return stripped.mask(stripped == "")


def join_nonempty(*parts: pd.Series, sep: str = " ") -> pd.Series:
    """Join the non-empty parts of each row with ``sep``; all empty gives missing."""
    joined = None
    for part in parts:
        part = _blank_to_na(part)
        if joined is None:
            joined = part
        else:
            both = joined.notna() & part.notna()
            joined = (joined + sep + part).where(both, joined.fillna(part))
    if joined is None:
        raise ValueError("join_nonempty needs at least one column")
    return joined.astype("string")


def compact_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Shift filled address lines up; the last filled line is the town.

    A single filled line is taken as the first address line with no town.
    """
    values = _blank_to_na(lines).to_numpy(dtype=object)
    out = []
    for row in values:
        filled: list[str | None] = [v for v in row if isinstance(v, str)]
        town = filled.pop() if len(filled) > 1 else None
        filled += [None] * (3 - len(filled))
        out.append((*filled[:3], town))
    return pd.DataFrame(
        out, columns=["line_1", "line_2", "line_3", "town"], index=lines.index, dtype="string"
    )


# A change timestamp given in full, as ISO 8601 writes it: the date, hours and minutes (a
# space or T between), optional seconds, fraction and zone. A value cut short ("2026-",
# "2026-11-02 1", a file cut off mid-write) would otherwise read as a default date.
FULL_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)


def unreadable_timestamps(values: pd.Series) -> pd.Series:
    """Which values are not a change timestamp given in full (missing ones are not)."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    whole = text.str.fullmatch(FULL_TIMESTAMP.pattern).fillna(True).astype(bool)
    return ((parsed.isna() | ~whole) & text.notna()).fillna(False).astype(bool)


def iso_timestamp(source: str, values: pd.Series, record_ids: pd.Series | None = None) -> pd.Series:
    """Native change timestamps as ISO 8601 UTC strings; a bad or partial one names its
    record (or its row in the extract)."""
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    bad = unreadable_timestamps(values)
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        where = (
            f"record {record_ids.iloc[position]}"
            if record_ids is not None
            else f"row {position + 1} of the extract"
        )
        raise SourceDataError(
            source,
            f"unreadable change timestamp {values.iloc[position]!r}; expected a date and time "
            "in full, such as 2026-11-02 14:03:00",
            where,
        )
    return parsed.dt.strftime("%Y-%m-%dT%H:%M:%S").astype("string")


def split_contact_name(name: str | None) -> tuple[str | None, str | None, str | None]:
    """Split a one-field contact name into (title, first name, surname).

    Handles ``'Mr J Smith'``, ``'Mr John Smith'``, ``'John Smith'`` and ``'Smith, John'``.
    """
    if name is None or not name.strip():
        return None, None, None
    text = name.strip()
    if "," in text:
        surname, _, rest = text.partition(",")
        tokens = rest.split()
        title = tokens.pop(0) if tokens and tokens[0].lower().strip(".") in TITLES else None
        return title, " ".join(tokens) or None, surname.strip() or None
    tokens = text.split()
    title = tokens.pop(0) if len(tokens) > 1 and tokens[0].lower().strip(".") in TITLES else None
    if not tokens:
        return title, None, None
    surname = tokens.pop()
    return title, " ".join(tokens) or None, surname
