"""The Splink database API is a parameter: DuckDB by default, Spark past one machine.

DuckDB gets a memory limit (``GOLDEN_RECORD_DUCKDB_MEMORY_GB``, 1.5 GB unless set) and a
folder of its own to spill to beyond it: left to itself it takes up to 80% of the
machine's memory, and a million-record match peaked at 5.1 GB where with 2 GB it peaks at
4.3 GB and with 1.5 GB at 4.0 GB (the whole process, under issue 17's 4 GB a task) in
about the same time, with the same clusters (``docs/benchmarks.md``).

Records go to DuckDB and pairs come back as Arrow, not as pandas object columns: at a
million records, an object column per field held some 22 million Python strings (about
1.5 GB) to hand DuckDB what Arrow hands it without a copy.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def default_db_api() -> Any:
    import shutil
    import tempfile
    import weakref

    import duckdb
    from splink import DuckDBAPI

    from golden_record.settings import runtime

    memory_gb = runtime().duckdb_memory_gb
    if not memory_gb:
        return DuckDBAPI()
    # One folder per connection: two processes' spill files never meet.
    spill = tempfile.mkdtemp(prefix="golden-record-duckdb-")
    connection = duckdb.connect(
        config={"memory_limit": f"{memory_gb * 1024:.0f}MB", "temp_directory": spill}
    )
    api = DuckDBAPI(connection=connection)
    weakref.finalize(api, shutil.rmtree, spill, True)
    return api


def _speaks_arrow(db_api: Any) -> bool:
    from splink import DuckDBAPI

    return isinstance(db_api, DuckDBAPI)


def register(db_api: Any, records: pd.DataFrame, name: str = "person_records") -> Any:
    if _speaks_arrow(db_api):
        import pyarrow as pa

        table = pa.Table.from_pandas(records, preserve_index=False)
        return db_api.register(table, dataset_display_name=name)
    # Other backends take pandas; plain objects with None keep nulls as SQL NULL.
    frame = records.astype(object).where(records.notna(), None)
    return db_api.register(frame, dataset_display_name=name)


def as_frame(splink_frame: Any) -> pd.DataFrame:
    """A Splink result table as pandas, text held in Arrow where the backend gives Arrow."""
    if _speaks_arrow(splink_frame.db_api):
        return splink_frame.as_pyarrow_table().to_pandas()
    frame: pd.DataFrame = splink_frame.as_pandas_dataframe()
    return frame
