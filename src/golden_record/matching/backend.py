"""The Splink database API is a parameter: DuckDB by default, Spark past one machine."""

from __future__ import annotations

from typing import Any

import pandas as pd


def default_db_api() -> Any:
    from splink import DuckDBAPI

    return DuckDBAPI()


def register(db_api: Any, records: pd.DataFrame, name: str = "person_records") -> Any:
    # DuckDB cannot take pandas' nullable "string" dtype with lists beside it cleanly;
    # plain objects with None keep nulls as SQL NULL.
    frame = records.astype(object).where(records.notna(), None)
    return db_api.register(frame, dataset_display_name=name)
