"""The Splink database API is a parameter: DuckDB by default, Spark past one machine.

:func:`matching_db_api` is the one a night scores its pairs on: DuckDB, or Spark when
``GOLDEN_RECORD_BACKEND=spark`` (a plain ``SparkSession`` built from the
``GOLDEN_RECORD_SPARK_*`` settings, so a cluster is its master URL away: ``local[2]`` by
default, ``spark://host:7077`` for a standalone cluster). The similarity functions
(Jaro-Winkler, Damerau-Levenshtein) are DuckDB's on Spark too
(:mod:`golden_record.matching.similarity_on_spark`), not those of the jar Splink ships.
Everything else (training, the lookup, explanations) stays on DuckDB, which answers one
question or a training sample faster than a cluster starts.

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

    settings = runtime()
    config: dict[str, str | bool | int | float | list[str]] = {}
    if settings.duckdb_threads:
        config["threads"] = settings.duckdb_threads
    if not settings.duckdb_memory_gb:
        return DuckDBAPI(connection=duckdb.connect(config=config))
    # One folder per connection: two processes' spill files never meet.
    spill = tempfile.mkdtemp(prefix="golden-record-duckdb-")
    config |= {"memory_limit": f"{settings.duckdb_memory_gb * 1024:.0f}MB", "temp_directory": spill}
    api = DuckDBAPI(connection=duckdb.connect(config=config))
    weakref.finalize(api, shutil.rmtree, spill, True)
    return api


def matching_db_api(backend: str | None = None) -> Any:
    """The database the night's pairs are scored on (``backend``: the setting if None)."""
    from golden_record.settings import runtime

    chosen = backend or runtime().backend
    return spark_db_api() if chosen == "spark" else default_db_api()


def spark_db_api() -> Any:
    from splink.backends.spark import SparkAPI

    from golden_record.matching import similarity_on_spark
    from golden_record.spark_session import spark_session

    api = SparkAPI(spark_session=spark_session())
    # Splink's API registers its jar's similarity functions as it is made; DuckDB's replace
    # them, so a pair lands at the same level whichever engine scores it.
    similarity_on_spark.register(api.spark)
    return api


def release(db_api: Any) -> None:
    """Close a DuckDB connection made for one match (its tables and buffers go with it);
    another backend's session is left as it is."""
    if _speaks_arrow(db_api):
        db_api.duckdb_con.close()


def _speaks_arrow(db_api: Any) -> bool:
    from splink import DuckDBAPI

    return isinstance(db_api, DuckDBAPI)


def register(db_api: Any, records: pd.DataFrame, name: str = "person_records") -> Any:
    if _speaks_arrow(db_api):
        import pyarrow as pa

        table = pa.Table.from_pandas(records, preserve_index=False)
        return db_api.register(table, dataset_display_name=name)
    # Other backends take pandas; plain objects with None keep nulls as SQL NULL. A Spark
    # session outlives one match (every task of dag.test() in one process) and its
    # views are the session's: each registration gets a name of its own.
    import uuid

    frame = records.astype(object).where(records.notna(), None)
    display = f"{name}_{uuid.uuid4().hex[:8]}"
    spark = getattr(db_api, "spark", None)
    if spark is None:
        return db_api.register(frame, dataset_display_name=display)
    # Written to the session's checkpoint storage, not held in the query plan: a frame
    # made from local data is a LocalRelation inlined in every plan that reads it, and
    # Splink's blocking reads it twice per rule; at 31,000 records that plan ran a 2 GB
    # driver out of memory.
    table = spark.createDataFrame(frame).checkpoint(eager=True)
    return db_api.register(table, dataset_display_name=display)


def lists_in_arrow(arrow_type: Any) -> Any:
    """A ``types_mapper`` for Arrow → pandas keeping list columns (a forename's variants,
    a surname's parts) in Arrow: as pandas objects each row's list is a NumPy array of its
    own, three million of them in a quiet night's kept pairs at a million records (those
    pairs: 907 MB in pandas with the arrays, 606 MB with the lists in Arrow)."""
    import pyarrow as pa

    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None


def lists_as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its Arrow-held columns (:func:`lists_in_arrow`) as plain objects."""
    held = [c for c in frame.columns if isinstance(frame[c].dtype, pd.ArrowDtype)]
    if not held:
        return frame
    return frame.assign(**{c: frame[c].astype(object) for c in held})


def as_frame(splink_frame: Any) -> pd.DataFrame:
    """A Splink result table as pandas, text held in Arrow where the backend gives Arrow."""
    if _speaks_arrow(splink_frame.db_api):
        return splink_frame.as_pyarrow_table().to_pandas(types_mapper=lists_in_arrow)
    frame: pd.DataFrame = splink_frame.as_pandas_dataframe()
    return frame


def taken_as_frame(
    splink_frame: Any, sort_by: list[str], close_connection: bool = False
) -> pd.DataFrame:
    """A Splink result table as pandas sorted by ``sort_by``, the table dropped from the
    database as soon as it is read: at a million records the predictions are a gigabyte
    in DuckDB, another in Arrow and a third in pandas, and holding all three at once was
    the match's peak. Sorted in Arrow, whose copy is freed as pandas takes it.
    ``close_connection``: close the DuckDB connection once the table is out of it,
    before the sort (:func:`release`; the caller's own, nothing else in it needed)."""
    if not _speaks_arrow(splink_frame.db_api):
        frame = splink_frame.as_pandas_dataframe()
        splink_frame.drop_table_from_database_and_remove_from_cache()
        sorted_frame: pd.DataFrame = frame.sort_values(sort_by, kind="stable")
        return sorted_frame.reset_index(drop=True)
    return sorted_frame_of(_taken(splink_frame, close_connection), sort_by)


def _taken(splink_frame: Any, close_connection: bool = False) -> Any:
    """The Splink table as Arrow, dropped from the database (its connection closed too
    when asked)."""
    table = splink_frame.as_pyarrow_table()
    splink_frame.drop_table_from_database_and_remove_from_cache()
    if close_connection:
        release(splink_frame.db_api)
    return table


def sorted_frame_of(table: Any, sort_by: list[str]) -> pd.DataFrame:
    """An Arrow table as pandas sorted by ``sort_by`` (lists kept in Arrow). The caller
    passes the table without keeping a name for it (a name would hold every unsorted
    column to the end).

    Sorted a column at a time, each unsorted column let go once its sorted copy is made:
    sorting the whole table held every column twice (at a million records, 0.6 GB more
    at the match's peak on a first night, and on a quiet night when the kept pairs and
    the new are joined)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = pc.sort_indices(table, sort_keys=[(column, "ascending") for column in sort_by])
    schema = table.schema
    columns = dict(zip(table.column_names, table.columns, strict=True))
    del table
    for name in list(columns):
        columns[name] = columns[name].take(order)
    joined = pa.table(columns, schema=schema)
    del columns
    return joined.to_pandas(self_destruct=True, split_blocks=True, types_mapper=lists_in_arrow)
