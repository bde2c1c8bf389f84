"""Standardising on Spark: the same pandas code (:func:`golden_record.standardise.fields.
standardise`), run by Spark's Python workers over slices of the records.

Standardising is row by row (a record's standard form depends on nothing but itself and
the run's date), so slices give exactly what the whole would. With
``GOLDEN_RECORD_BACKEND=spark`` a night standardises on Spark when it has at least
``GOLDEN_RECORD_SPARK_FROM`` records (200,000 unless set) to standardise (a first night,
a monthly full run); fewer
(a quiet night's changes) are quicker in the task than a Spark job's start. The Python
that runs the slices must have this package: Spark's local mode does, and so do workers
started from this project's image.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

# Columns that hold a list of texts (a forename's variants, a surname's parts).
LIST_COLUMNS = ("first_name_variants", "surname_parts")


def _schema(sample: pd.DataFrame) -> Any:
    from pyspark.sql.types import ArrayType, BooleanType, StringType, StructField, StructType

    def kind(column: str) -> Any:
        if column in LIST_COLUMNS:
            return ArrayType(StringType())
        if sample[column].dtype == bool:
            return BooleanType()
        return StringType()

    return StructType([StructField(c, kind(c), True) for c in sample.columns])


def standardise_on_spark(canonical: pd.DataFrame, as_of: date, session: Any = None) -> pd.DataFrame:
    """``canonical`` standardised by Spark, in the order given, the dtypes the pandas path
    gives."""
    from golden_record.spark_session import spark_session
    from golden_record.standardise.fields import standardise

    session = session or spark_session()
    sample = standardise(canonical.head(50), as_of=as_of)
    schema = _schema(sample)
    order = canonical.assign(_row=range(len(canonical)))
    plain = order.astype(object).where(order.notna(), None)
    frame = session.createDataFrame(plain)
    slices = max(2, session.sparkContext.defaultParallelism * 2)

    def run(batches: Any) -> Any:
        for batch in batches:
            rows = batch.pop("_row")
            done = standardise(batch.astype("string"), as_of=as_of)
            done["_row"] = rows.to_numpy()
            yield done

    row_schema = schema.add("_row", "long")
    result = frame.repartition(slices).mapInPandas(run, schema=row_schema).toPandas()
    result = result.sort_values("_row").drop(columns="_row").reset_index(drop=True)
    for column in result.columns:
        if column in LIST_COLUMNS:
            result[column] = result[column].map(
                lambda v: None if v is None else list(v), na_action="ignore"
            )
        elif sample[column].dtype == bool:
            result[column] = result[column].astype(bool)
        else:
            result[column] = result[column].astype(sample[column].dtype)
    return result[list(sample.columns)]


def standardise_records(canonical: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """On Spark when the backend is Spark and there are enough records, else in pandas."""
    from golden_record.settings import runtime
    from golden_record.standardise.fields import standardise

    settings = runtime()
    if settings.backend == "spark" and len(canonical) >= settings.spark_from:
        return standardise_on_spark(canonical, as_of)
    return standardise(canonical, as_of=as_of)
