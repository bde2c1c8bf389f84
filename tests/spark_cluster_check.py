"""Run by ``tests/test_spark.py`` in a process of its own, against the Spark master in
``GOLDEN_RECORD_SPARK_MASTER`` (a standalone cluster): standardises and matches a landed
run's records there and prints, as JSON, whether each step gave what it gives in the task.
A process of its own because a Python process holds one Spark session, and the tests'
other session is local mode."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from golden_record.matching import clustering_on_spark, inference, registry
from golden_record.matching.backend import spark_db_api
from golden_record.matching.clustering import cluster_without_conflicts
from golden_record.matching.inference import MatchOptions, load_model, predict_and_cluster
from golden_record.run import Run
from golden_record.standardise.fields import standardise
from golden_record.standardise.on_spark import standardise_on_spark


def main(root: Path, run_date: str) -> dict:
    run = Run.of(run_date, root=root)
    api = spark_db_api()
    context = api.spark.sparkContext
    canonical = pd.read_parquet(run.standardised.canonical).drop(columns=["unique_id"])
    as_of = date.fromisoformat(run_date)
    standardised_equal = standardise_on_spark(canonical, as_of, api.spark).equals(
        standardise(canonical, as_of=as_of)
    )

    records = pd.read_parquet(run.standardised.records)
    seen: list = []
    real = clustering_on_spark.cluster_on_spark

    def kept(*args, **kwargs):
        found = real(*args, **kwargs)
        seen.append((args, {k: v for k, v in kwargs.items() if k != "db_api"}, found))
        return found

    inference.cluster_on_spark = kept  # type: ignore[assignment]
    predict_and_cluster(records, load_model(registry.packaged()), MatchOptions(db_api=api))
    [(args, kwargs, on_spark)] = seen
    in_task = cluster_without_conflicts(*args, **kwargs)
    executors = context._jsc.sc().getExecutorMemoryStatus().size() - 1
    checkpoint_dir = context._jsc.sc().getCheckpointDir().get()
    checkpoint_files = sum(
        len(files) for _, _, files in os.walk(checkpoint_dir.removeprefix("file:"))
    )
    result = {
        "master": context.master,
        "executors": executors,
        "standardised_equal": bool(standardised_equal),
        "clusters_equal": bool(on_spark.clusters.equals(in_task.clusters)),
        "refused_equal": bool(
            set(on_spark.refused.itertuples(index=False, name=None))
            == set(in_task.refused.itertuples(index=False, name=None))
        ),
        "records": len(records),
        "checkpoint_dir": checkpoint_dir,
        "checkpoint_files": checkpoint_files,
    }
    api.spark.stop()
    return result


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])))
