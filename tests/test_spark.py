"""The same night on Spark as on DuckDB: the same canonical records, standardised once,
scored by Splink on PySpark in local mode and on DuckDB, give the same pairs, the same
probabilities and the same clusters."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from conftest import RUN_DATE

from golden_record.matching import registry
from golden_record.matching.inference import MatchOptions, load_model, predict_and_cluster
from golden_record.run import Run

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark_api():
    from golden_record.matching.backend import spark_db_api

    api = spark_db_api()
    yield api
    api.spark.stop()


def _pairs_in_clusters(clusters: pd.DataFrame) -> set[tuple[str, str]]:
    together = set()
    for _, members in clusters.groupby("cluster_id")["unique_id"]:
        together |= set(itertools.combinations(sorted(members), 2))
    return together


def test_spark_and_duckdb_make_the_same_clusters_of_the_same_records(landed_run, spark_api):
    records = pd.read_parquet(Run.of(RUN_DATE.isoformat(), root=landed_run).standardised.records)
    model = load_model(registry.packaged())
    on_duckdb = predict_and_cluster(records, model, MatchOptions())
    on_spark = predict_and_cluster(records, model, MatchOptions(db_api=spark_api))

    key = ["unique_id_l", "unique_id_r"]
    both = on_duckdb.pairs.merge(on_spark.pairs, on=key, suffixes=("_duckdb", "_spark"))
    assert len(both) == len(on_duckdb.pairs) == len(on_spark.pairs) > 1000
    gap = (both["match_probability_duckdb"] - both["match_probability_spark"]).abs().max()
    assert gap < 1e-9, gap

    duck, spark = _pairs_in_clusters(on_duckdb.clusters), _pairs_in_clusters(on_spark.clusters)
    agreement = len(duck & spark) / len(duck | spark)
    assert agreement >= 0.999, (agreement, sorted(duck ^ spark)[:5])
    assert set(on_duckdb.clusters["unique_id"]) == set(on_spark.clusters["unique_id"])
    review = ["unique_id_l", "unique_id_r", "reason"]
    assert (
        on_duckdb.review_pairs[review].sort_values(review).values.tolist()
        == on_spark.review_pairs[review].sort_values(review).values.tolist()
    )


def test_the_backend_is_a_setting_and_a_mistyped_one_is_refused():
    from golden_record.settings import SettingsError, runtime

    assert runtime({}).backend == "duckdb"
    assert runtime({"GOLDEN_RECORD_BACKEND": "Spark"}).backend == "spark"
    settings = runtime({"GOLDEN_RECORD_SPARK_MASTER": "spark://spark-master:7077"})
    assert settings.spark_master == "spark://spark-master:7077"
    with pytest.raises(SettingsError, match="GOLDEN_RECORD_BACKEND must be one of duckdb, spark"):
        runtime({"GOLDEN_RECORD_BACKEND": "oracle"})
