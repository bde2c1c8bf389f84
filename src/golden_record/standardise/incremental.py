"""Standardise only the canonical records that changed since the last accepted night.

A standardised record is a function of three things: its canonical record, the
standardising code, and the run's date (a date of birth after it, or more than 120 years
before it, is dropped as implausible). So a night's standardised records are exactly:

* the earlier night's standardised rows of the canonical records whose content hash is
  the same tonight, with their date of birth read again against tonight's date, plus
* the new and changed canonical records, standardised in full,

in tonight's canonical order. The earlier night must be accepted (a refused night is
never a baseline) and standardised by the same code over the same canonical columns;
otherwise, or when a full run is asked for, every record is standardised. A test checks
that both ways write the same file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from golden_record.digest import files_sha256
from golden_record.keys import positions_in
from golden_record.standardise.fields import date_of_birth, plausible_birth_dates
from golden_record.standardise.on_spark import standardise_records

HASHES_COLUMNS = ["unique_id", "canonical_hash"]


def standardiser_digest() -> str:
    """The standardising code and its data: a night standardised by other code is never
    reused."""
    from golden_record.standardise import fields, nicknames

    return files_sha256(
        [Path(fields.__file__), Path(nicknames.__file__), nicknames.DATA_DIR / "uk_nicknames.csv"]
    )[:12]


def canonical_hashes(keyed: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per canonical record over all its columns, by name order
    (DuckDB's ``hash``: 0.2 s at a million records). A missing value hashes unlike any
    text, so blanking a value changes the hash."""
    columns = sorted(keyed.columns)
    connection = duckdb.connect()
    try:
        connection.register("records", keyed[columns])
        listed = ", ".join(f'"{c}"' for c in columns)
        found = connection.execute(f"select hash({listed}) from records").fetchnumpy()
        return np.asarray(next(iter(found.values())), dtype=np.uint64)
    finally:
        connection.close()


@dataclass(frozen=True)
class EarlierStandardised:
    """An accepted night's standardised files, to take unchanged records' rows from."""

    run_key: str
    about: dict[str, Any]
    records_file: Path
    hashes_file: Path


@dataclass(frozen=True)
class StandardisedNight:
    records: pd.DataFrame  # the standardised records, in the canonical records' order
    hashes: pd.DataFrame  # HASHES_COLUMNS, same order
    about: dict[str, Any]


def why_not_reuse(earlier: EarlierStandardised | None, columns: list[str]) -> str | None:
    if earlier is None:
        return "no earlier accepted night to build on"
    if earlier.about.get("standardiser") != standardiser_digest():
        return f"night {earlier.run_key} was standardised by other code"
    if earlier.about.get("canonical_columns") != sorted(columns):
        return f"night {earlier.run_key}'s canonical records had other columns"
    return None


def _dates_to_check_again(kept: pd.Series, as_of: date) -> np.ndarray:
    """Which reused dates of birth another day may read otherwise: a date is kept only
    in the day's plausible range (:func:`plausible_birth_dates`), so one kept before and still in
    that range is kept again, and only the rest (outside it now, or missing: perhaps in
    the future then) are read again; at a million records, a few thousand rather than
    every one (a second of each night)."""
    low, high = (day.strftime("%Y-%m-%d") for day in plausible_birth_dates(as_of))
    # ISO dates compare as text.
    inside = (kept >= low) & (kept <= high)
    return ~inside.fillna(False).to_numpy(dtype=bool)


def standardise_night(
    keyed: pd.DataFrame,
    as_of: date,
    earlier: EarlierStandardised | None = None,
    why_full: str | None = None,
) -> StandardisedNight:
    """Standardise ``keyed`` (conformed canonical records with their ``unique_id``) as of
    ``as_of``, reusing ``earlier`` where it allows (see the module's docstring)."""
    keyed = keyed.reset_index(drop=True)
    hashes = canonical_hashes(keyed)
    about: dict[str, Any] = {
        "standardiser": standardiser_digest(),
        "canonical_columns": sorted(keyed.columns),
        "as_of": as_of.isoformat(),
    }
    hash_frame = pd.DataFrame({"unique_id": keyed["unique_id"], "canonical_hash": hashes})
    why_full = why_full or why_not_reuse(earlier, list(keyed.columns))
    if why_full is not None or earlier is None:
        records = standardise_records(keyed.drop(columns=["unique_id"]), as_of)
        about |= {"mode": "full", "why_full": why_full, "standardised": len(records)}
        return StandardisedNight(records, hash_frame, about)

    before = pd.read_parquet(earlier.hashes_file)
    position = positions_in(keyed["unique_id"], before["unique_id"])
    held = position >= 0
    same = np.zeros(len(keyed), dtype=bool)
    before_hash = before["canonical_hash"].to_numpy(dtype=np.uint64)
    same[held] = before_hash[position[held]] == hashes[held]

    kept = pd.read_parquet(earlier.records_file).iloc[position[same]].reset_index(drop=True)
    if earlier.about.get("as_of") != as_of.isoformat():
        given = keyed.loc[same, "date_of_birth"].reset_index(drop=True)
        # (A record given no date has none whatever the day.)
        again = _dates_to_check_again(kept["date_of_birth"], as_of) & given.notna().to_numpy()
        checked = kept["date_of_birth"].to_numpy(dtype=object, copy=True)
        if again.any():
            checked[again] = date_of_birth(given[again], as_of).to_numpy(dtype=object)
        kept["date_of_birth"] = checked
    if same.all():
        records = kept
    else:
        fresh = standardise_records(keyed.loc[~same].drop(columns=["unique_id"]), as_of)
        order = np.concatenate([np.flatnonzero(same), np.flatnonzero(~same)])
        combined = pd.concat([kept, fresh], ignore_index=True) if same.any() else fresh
        records = combined.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    about |= {
        "mode": "incremental",
        "why_full": None,
        "base_run": earlier.run_key,
        "standardised": int((~same).sum()),
        "reused": int(same.sum()),
    }
    return StandardisedNight(records, hash_frame, about)


def read_about(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
