"""The Spark session the settings describe, for every stage that runs on Spark.

Standardising and clustering on Spark (``standardise.on_spark``,
``matching.clustering_on_spark``) and Splink's Spark backend (``matching.backend``) share
one session; it lives below them all so no stage reaches into another for it.
"""

from __future__ import annotations

from typing import Any


def spark_session() -> Any:
    """The Spark session the settings describe (the running one, if there is one)."""
    import sys
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    from golden_record.settings import SettingsError, runtime, spark_workers_use

    settings = runtime()
    builder = (
        SparkSession.builder.appName("golden-record")
        .master(settings.spark_master)
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
    )
    if not settings.pyspark_python:
        # Executors start Python workers for the steps that run this package's pandas code
        # (standardising, the guarded clustering); unless told otherwise they would start
        # whatever "python3" is first on PATH, which lacks it unless a virtual environment
        # is activated. Ours, at the same path on every machine of one image (the compose
        # profile's worker); set PYSPARK_PYTHON otherwise. PySpark names the workers'
        # Python from the environment variable when the context starts (its UDFs and
        # mapInPandas carry it), not from spark.pyspark.python: both are set.
        spark_workers_use(sys.executable)
        builder = builder.config("spark.pyspark.python", sys.executable)
    for pair in filter(None, (p.strip() for p in settings.spark_conf.split(";"))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(
                f"GOLDEN_RECORD_SPARK_CONF holds {pair!r}: write key=value;key=value"
            )
        builder = builder.config(key.strip(), value.strip())
    session = builder.getOrCreate()
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="golden-record-spark-"))
    return session
