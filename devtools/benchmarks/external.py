"""Labelled person records from elsewhere, in whatever column names they come with.

``make bench-accuracy EXTERNAL=name=path.csv`` (or ``--external``) adds such a file as a
held-out row: Splink's own example data (``splink_datasets.fake_1000``, which Splink
downloads from GitHub) or a council's clerically reviewed extract. Common names are
recognised (``dob`` for date of birth, ``city`` for town, ``group`` or ``cluster`` for the
true person); a column it does not know is left out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from golden_record.extract.canonical import CANONICAL_COLUMNS

ALIASES = {
    "record_id": "source_record_id",
    "unique_id": "source_record_id",
    "id": "source_record_id",
    "given_name": "first_name",
    "forename": "first_name",
    "last_name": "surname",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
    "city": "town",
    "suburb": "town",
    "postcode_fake": "postcode",
    "address": "address_line_1",
    "group": "person_id",
    "cluster": "person_id",
    "true_match_id": "person_id",
}


def read_labelled(path: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(canonical records, truth) from a labelled CSV or Parquet file."""
    path = Path(path)
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path).astype("string")
    else:
        frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    frame = frame.rename(columns={c: ALIASES.get(c.lower(), c.lower()) for c in frame.columns})
    if "person_id" not in frame or "source_record_id" not in frame:
        raise ValueError(
            f"{path}: a labelled file needs a record id column (unique_id, id, record_id) "
            "and a true person column (group, cluster, person_id)"
        )
    frame["source_system"] = frame.get("source_system", pd.Series(name, index=frame.index))
    frame["source_updated_at"] = "2000-01-01T00:00:00"
    canonical = frame.reindex(columns=list(CANONICAL_COLUMNS)).astype("string")
    truth = frame[["source_system", "source_record_id", "person_id"]].astype("string")
    return canonical, truth
