"""A person's source records as the nights last read them: the rows of the latest
night's canonical records (what each system holds, before standardising), read for the
records asked for only. Used by the subject access response, erasure and the steward's
golden record page."""

from __future__ import annotations

from pathlib import Path

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
