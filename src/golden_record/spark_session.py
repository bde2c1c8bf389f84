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

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    from golden_record.settings import SettingsError, runtime, spark_workers_use

    settings = runtime()
    # Refused before a JVM starts when a cluster has nowhere shared to checkpoint.
    checkpoints = _checkpoint_dir(settings)
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
    session.sparkContext.setCheckpointDir(checkpoints)
    return session


def _checkpoint_dir(settings: Any) -> str:
    """A folder of this process's own for Splink's checkpoints, under the configured one
    (every executor writes its part there and the driver reads them all back: on a
    cluster it must be storage they share), removed when the process ends."""
    import atexit
    import shutil
    import tempfile
    import uuid
    from urllib.parse import urlsplit

    from golden_record.settings import SettingsError

    base = settings.spark_checkpoint_dir
    if not base:
        if not settings.spark_master.startswith("local"):
            raise SettingsError(
                f"GOLDEN_RECORD_SPARK_MASTER is {settings.spark_master}: set "
                "GOLDEN_RECORD_SPARK_CHECKPOINT_DIR to a folder the driver and every executor "
                "reach at the same path (a shared volume, or an hdfs:// or s3a:// URL); a "
                "local temporary folder is on the driver's machine only"
            )
        base = tempfile.gettempdir()
    folder = f"{base.rstrip('/')}/golden-record-spark-{uuid.uuid4().hex[:12]}"
    scheme = urlsplit(folder).scheme
    if scheme in ("", "file"):
        local = urlsplit(folder).path if scheme else folder
        atexit.register(shutil.rmtree, local, True)
    # Elsewhere (hdfs://, s3a://) the storage's own lifecycle rules clear what is left.
    return folder
