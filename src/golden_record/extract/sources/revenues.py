"""Revenues (council tax): liable parties on accounts, read from a relational database.

Incremental by the ``last_modified`` watermark of party or account; deletions are seen
by a nightly key query (``keys``), the database having no change log we may read.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from golden_record.extract.sources._sql import read_query
from golden_record.extract.sources.text import compact_lines, iso_timestamp
from golden_record.settings import SourceSettings

SOURCE = "revenues"
KEY_COLUMN = "party_id"
WATERMARK_COLUMN = "last_modified"


def extract(settings: SourceSettings, watermark: str | None, run_date: date) -> pd.DataFrame:
    return read_query(SOURCE, settings.revenues_url, "revenues_extract.sql", watermark)


def keys(settings: SourceSettings) -> pd.Series:
    """Every record's key, read each night: an index scan, cheap beside the extract."""
    return read_query(SOURCE, settings.revenues_url, "revenues_keys.sql", None)["party_id"]


def to_canonical(raw: pd.DataFrame) -> pd.DataFrame:
    # Council tax address lines are filled top-down with the town in the last used line.
    lines = compact_lines(raw[["addr_1", "addr_2", "addr_3", "addr_4"]])
    return pd.DataFrame(
        {
            "source_system": SOURCE,
            "source_record_id": raw["party_id"],
            "title": raw["title"],
            "first_name": raw["forename"],
            "middle_names": raw["middle_name"],
            "surname": raw["surname"],
            "date_of_birth": raw["dob"],
            "email": raw["email"],
            "phone": raw["telephone"],
            "address_line_1": lines["line_1"],
            "address_line_2": lines["line_2"],
            "address_line_3": lines["line_3"],
            "town": lines["town"],
            "postcode": raw["postcode"],
            "uprn": raw["property_uprn"],
            "ni_number": pd.NA,
            "source_updated_at": iso_timestamp(SOURCE, raw[WATERMARK_COLUMN], raw["party_id"]),
        }
    )
