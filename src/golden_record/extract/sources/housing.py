"""Housing management: every person on a tenancy, read from a relational database.

Incremental by the ``updated`` watermark of person or tenancy; deletions are seen by a
nightly key query (``keys``), the database having no change log we may read. Housing is
the one source holding NI numbers.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from golden_record.extract.sources._sql import read_query
from golden_record.extract.sources.text import iso_timestamp, join_nonempty
from golden_record.settings import SourceSettings

SOURCE = "housing"
KEY_COLUMN = "person_ref"
WATERMARK_COLUMN = "updated"


def extract(settings: SourceSettings, watermark: str | None, run_date: date) -> pd.DataFrame:
    return read_query(SOURCE, settings.housing_url, "housing_extract.sql", watermark)


def keys(settings: SourceSettings) -> pd.Series:
    """Every record's key, read each night: an index scan, cheap beside the extract."""
    return read_query(SOURCE, settings.housing_url, "housing_keys.sql", None)["person_ref"]


def to_canonical(raw: pd.DataFrame) -> pd.DataFrame:
    given = raw["given_names"].fillna("").str.strip().str.split(n=1, expand=True)
    given = given.reindex(columns=[0, 1])
    return pd.DataFrame(
        {
            "source_system": SOURCE,
            "source_record_id": raw["person_ref"],
            "title": raw["title"],
            "first_name": given[0],
            "middle_names": given[1],
            "surname": raw["family_name"],
            "date_of_birth": raw["date_of_birth"],
            "email": raw["email_address"],
            "phone": raw["mobile"].fillna(raw["home_phone"]),
            "address_line_1": join_nonempty(raw["house_no"], raw["street"]),
            "address_line_2": raw["locality"],
            "address_line_3": pd.NA,
            "town": raw["town"],
            "postcode": raw["post_code"],
            "uprn": raw["uprn"],
            "ni_number": raw["ni_no"],
            "source_updated_at": iso_timestamp(SOURCE, raw[WATERMARK_COLUMN], raw["person_ref"]),
        }
    )
