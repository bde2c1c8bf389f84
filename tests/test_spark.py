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

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_api():
    from golden_record.matching.backend import spark_db_api

    api = spark_db_api()
    yield api
    api.spark.stop()


@pytest.fixture(scope="module")
def on_duckdb(landed_run):
    """The landed run's records, the packaged model, and what DuckDB makes of them: the
    baseline every comparison here is against, computed once for the module."""
    records = pd.read_parquet(Run.of(RUN_DATE.isoformat(), root=landed_run).standardised.records)
    model = load_model(registry.packaged())
    return records, model, predict_and_cluster(records, model, MatchOptions())


@pytest.fixture(scope="module")
def on_spark(on_duckdb, spark_api):
    """What Spark makes of the same records with ``GOLDEN_RECORD_SPARK_FROM`` lowered to the
    test council's size, so the night is clustered on Spark too, with what the task makes
    of the same links (given what Spark's clustering was given): computed once, as a Spark
    prediction takes half a minute. ``clusterings`` holds, for each clustering done on
    Spark, what Spark gave and what the task gives for the same input."""
    from golden_record.matching import inference
    from golden_record.matching.clustering import cluster_without_conflicts

    records, model, _ = on_duckdb
    given: list = []
    real = inference.cluster_on_spark

    def kept(*args, **kwargs):
        on_spark = real(*args, **kwargs)
        given.append((args, {k: v for k, v in kwargs.items() if k != "db_api"}, on_spark))
        return on_spark

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inference, "cluster_on_spark", kept)
        patch.setenv("GOLDEN_RECORD_SPARK_FROM", "1000")
        found = predict_and_cluster(records, model, MatchOptions(db_api=spark_api))
    clusterings = [
        (len(args[0]), on_spark, cluster_without_conflicts(*args, **kwargs))
        for args, kwargs, on_spark in given
    ]
    return found, clusterings


def _pairs_in_clusters(clusters: pd.DataFrame) -> set[tuple[str, str]]:
    together = set()
    for _, members in clusters.groupby("cluster_id")["unique_id"]:
        together |= set(itertools.combinations(sorted(members), 2))
    return together


def test_spark_and_duckdb_make_the_same_clusters_of_the_same_records(on_duckdb, on_spark):
    _, _, on_duckdb = on_duckdb
    on_spark, _ = on_spark

    key = ["unique_id_l", "unique_id_r"]
    both = on_duckdb.pairs.merge(on_spark.pairs, on=key, suffixes=("_duckdb", "_spark"))
    assert len(both) == len(on_duckdb.pairs) == len(on_spark.pairs) > 1000
    # Every comparison at the same level (the similarity functions are DuckDB's on Spark:
    # golden_record.matching.similarity_on_spark), so the same weight to the bit.
    gammas = [c.removesuffix("_duckdb") for c in both if c.startswith("gamma_") and "_duckdb" in c]
    moved = (
        both[[f"{g}_duckdb" for g in gammas]].to_numpy()
        != both[[f"{g}_spark" for g in gammas]].to_numpy()
    ).any(axis=1)
    assert not moved.any(), both.loc[moved, key].head().to_dict("records")
    gap = (both["match_probability_duckdb"] - both["match_probability_spark"]).abs().max()
    assert gap < 1e-9, gap

    duck, spark = _pairs_in_clusters(on_duckdb.clusters), _pairs_in_clusters(on_spark.clusters)
    assert duck == spark, sorted(duck ^ spark)[:5]
    assert set(on_duckdb.clusters["unique_id"]) == set(on_spark.clusters["unique_id"])


def test_spark_sql_s_similarity_functions_are_duckdb_s(spark_api):
    """What Splink's Spark SQL calls ``jaro_winkler`` and ``damerau_levenshtein`` gives
    DuckDB's value for every pair (the jar's Jaro-Winkler differed on 15,541 of 50,000
    random ASCII pairs, and both functions on accented text)."""
    import duckdb
    from test_similarity_on_spark import _random_pairs

    pairs = _random_pairs(20_000, seed=5).reset_index(names="id")
    expected = duckdb.sql(
        "select jaro_winkler_similarity(a, b) as jw, damerau_levenshtein(a, b) as dl "
        "from pairs order by id"
    ).df()
    spark = spark_api.spark
    spark.createDataFrame(pairs.astype(object).where(pairs.notna(), None)).createOrReplaceTempView(
        "similarity_pairs"
    )
    on_spark = spark.sql(
        "select jaro_winkler(a, b) as jw, damerau_levenshtein(a, b) as dl "
        "from similarity_pairs order by id"
    ).toPandas()
    pd.testing.assert_frame_equal(
        on_spark.astype({"jw": "float64", "dl": "Int64"}),
        expected.astype({"jw": "float64", "dl": "Int64"}),
        check_exact=True,
    )


def test_records_reach_spark_as_a_checkpointed_table_not_a_plan_of_local_rows(spark_api):
    """Records registered from pandas are written to checkpoint storage: as a LocalRelation
    every query reading them carried the rows in its plan, and Splink's blocking (two reads
    per rule) ran a 2 GB driver out of memory at 31,000 records."""
    from golden_record.matching.backend import register

    records = pd.DataFrame({"unique_id": ["a:1", "b:2"], "surname": ["Ng", None]})
    registered = register(spark_api, records)
    plan = spark_api.spark.table(registered.physical_name)._jdf.queryExecution().analyzed()
    assert "LocalRelation" not in plan.toString(), plan.toString()
    assert spark_api.spark.table(registered.physical_name).count() == 2


def test_the_backend_is_a_setting_and_a_mistyped_one_is_refused():
    from golden_record.settings import SettingsError, runtime

    assert runtime({}).backend == "duckdb"
    assert runtime({"GOLDEN_RECORD_BACKEND": "Spark"}).backend == "spark"
    settings = runtime({"GOLDEN_RECORD_SPARK_MASTER": "spark://spark-master:7077"})
    assert settings.spark_master == "spark://spark-master:7077"
    assert settings.spark_from == 200_000
    assert runtime({"GOLDEN_RECORD_SPARK_FROM": "5000000"}).spark_from == 5_000_000
    with pytest.raises(SettingsError, match="GOLDEN_RECORD_SPARK_FROM must be a number"):
        runtime({"GOLDEN_RECORD_SPARK_FROM": "lots"})
    with pytest.raises(SettingsError, match="GOLDEN_RECORD_BACKEND must be one of duckdb, spark"):
        runtime({"GOLDEN_RECORD_BACKEND": "oracle"})


def test_a_cluster_without_shared_checkpoint_storage_is_refused_before_spark_starts(
    monkeypatch,
):
    """Executors in other containers write their part of a checkpoint to their own
    disks, and the driver then found nothing to read (UNABLE_TO_INFER_SCHEMA): a cluster
    needs GOLDEN_RECORD_SPARK_CHECKPOINT_DIR, said before a JVM starts."""
    from golden_record.settings import SettingsError
    from golden_record.spark_session import spark_session

    monkeypatch.setenv("GOLDEN_RECORD_SPARK_MASTER", "spark://spark-master:7077")
    monkeypatch.delenv("GOLDEN_RECORD_SPARK_CHECKPOINT_DIR", raising=False)
    with pytest.raises(SettingsError, match="set GOLDEN_RECORD_SPARK_CHECKPOINT_DIR"):
        spark_session()


def _change_at_source(council, stamp: str) -> None:
    """A tenant's new email and a tenancy's new address, as a quiet night sees them."""
    council.housing(
        "UPDATE tenancy_person SET email_address = 'new.address@example.net', "
        f"updated = '{stamp}' WHERE person_ref = 'HP00000003'",
        "UPDATE tenancy SET house_no = '7', street = 'Mill Lane', post_code = 'BS7 8AA', "
        f"uprn = '100000999999', updated = '{stamp}' WHERE tenancy_ref = 'T00000002'",
    )


def test_a_night_on_spark_gives_the_same_golden_records_as_on_duckdb(
    sample, tmp_path, monkeypatch, spark_api
):
    """Two nights (extracts to publish, the second incremental) with
    GOLDEN_RECORD_BACKEND=spark, beside the same nights on DuckDB: the same golden
    records, IDs included, and the same CRM rows."""
    from datetime import date

    from night_runner import Council
    from sqlalchemy import create_engine

    first = date(2026, 11, 2)
    night = date(2026, 11, 3)
    councils = {b: Council.generated(sample, tmp_path / b) for b in ("duckdb", "spark")}
    try:
        for day in (first, night):
            if day == night:
                for council in councils.values():
                    _change_at_source(council, "2026-11-02 12:00:00")
            monkeypatch.delenv("GOLDEN_RECORD_BACKEND", raising=False)
            on_duckdb = councils["duckdb"].night(day)
            assert on_duckdb.outcome == "published", on_duckdb.failed
            monkeypatch.setenv("GOLDEN_RECORD_BACKEND", "spark")
            on_spark = councils["spark"].night(day)
            assert on_spark.outcome == "published", on_spark.failed
        # The second night builds on the first on Spark too: the earlier pairs kept
        # (read in Arrow) beside those Spark scored tonight.
        matched = on_spark.results["match"]
        assert matched["scoring"] == "incremental", matched["why_full"]
        assert 0 < matched["records_rescored"] < matched["records"]
    finally:
        for council in councils.values():
            council.close()

    def golden(council: Council) -> pd.DataFrame:
        frame = pd.read_parquet(council.run(night).golden.golden_records)
        return frame.sort_values("golden_id").reset_index(drop=True)

    pd.testing.assert_frame_equal(golden(councils["duckdb"]), golden(councils["spark"]))

    def crm_rows(council: Council) -> list[tuple]:
        engine = create_engine(council.crm_url)
        try:
            query = "SELECT * FROM crm_golden_customer ORDER BY golden_id"
            return [tuple(r) for r in pd.read_sql(query, engine).itertuples(index=False)]
        finally:
            engine.dispose()

    assert crm_rows(councils["duckdb"]) == crm_rows(councils["spark"])


def test_standardising_on_spark_gives_what_pandas_gives(landed_run, spark_api):
    from golden_record.standardise.fields import standardise
    from golden_record.standardise.on_spark import standardise_on_spark

    run = Run.of(RUN_DATE.isoformat(), root=landed_run)
    canonical = pd.read_parquet(run.standardised.canonical).drop(columns=["unique_id"])
    in_pandas = standardise(canonical, as_of=RUN_DATE)
    on_spark = standardise_on_spark(canonical, RUN_DATE, spark_api.spark)
    assert len(on_spark) == len(canonical) > 1000
    pd.testing.assert_frame_equal(on_spark, in_pandas)


def _clustering_inputs(records: pd.DataFrame, model: dict, options, monkeypatch) -> list:
    """What the night hands the clustering (records, links, kept-apart pairs), taken from
    a match on DuckDB."""
    from golden_record.matching import inference

    seen: list = []
    real = inference.cluster_without_conflicts

    def spy(*args, **kwargs):
        seen.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(inference, "cluster_without_conflicts", spy)
    predict_and_cluster(records, model, options)
    monkeypatch.setattr(inference, "cluster_without_conflicts", real)
    return seen


@pytest.mark.parametrize("household_guard", [True, False])
def test_clustering_on_spark_gives_the_clusters_the_task_gives(
    on_duckdb, spark_api, monkeypatch, household_guard
):
    """The same links clustered in the task and on Spark: the same cluster for every
    record, the same probability, the same links refused for the same reasons. A
    steward's cannot-link pair inside a cluster is kept apart on both."""
    from golden_record.matching.clustering import cluster_without_conflicts
    from golden_record.matching.clustering_on_spark import cluster_on_spark

    records, model, first = on_duckdb
    largest = first.clusters.groupby("cluster_id")["unique_id"].agg(sorted)
    members = largest[largest.map(len) >= 3].iloc[0]
    options = MatchOptions(
        household_guard=household_guard, cannot_link=frozenset({frozenset(members[:2])})
    )
    [(args, kwargs)] = _clustering_inputs(records, model, options, monkeypatch)

    in_task = cluster_without_conflicts(*args, **kwargs)
    on_spark = cluster_on_spark(*args, **kwargs, db_api=spark_api)

    pd.testing.assert_frame_equal(on_spark.clusters, in_task.clusters)
    cluster_of = on_spark.clusters.set_index("unique_id")["cluster_id"]
    assert cluster_of[members[0]] != cluster_of[members[1]]

    def refused(clustering) -> set[tuple]:
        return set(
            clustering.refused[["unique_id_l", "unique_id_r", "reason"]].itertuples(
                index=False, name=None
            )
        )

    assert refused(on_spark) == refused(in_task)
    reasons = set(in_task.refused["reason"])
    # The test council's households make the guard refuse links, so the guarded path ran.
    assert reasons == ({"conflict", "ambiguous"} if household_guard else {"conflict"}), reasons


def test_a_large_night_on_spark_clusters_on_spark(on_spark):
    """From GOLDEN_RECORD_SPARK_FROM records a Spark night clusters on Spark (the setting
    lowered to the test council's size), and its clusters are the task's for its links.
    (Below the setting a night on Spark clusters in the task: the whole night's test.)"""
    _, clusterings = on_spark
    [(records, on_spark_cluster, in_task)] = clusterings
    assert records > 1000
    pd.testing.assert_frame_equal(on_spark_cluster.clusters, in_task.clusters)
    refused = ["unique_id_l", "unique_id_r", "reason"]
    assert set(on_spark_cluster.refused[refused].itertuples(index=False, name=None)) == set(
        in_task.refused[refused].itertuples(index=False, name=None)
    )
    assert len(in_task.refused) > 0


def test_on_a_standalone_cluster_standardising_and_clustering_give_what_the_task_gives(
    landed_run, tmp_path
):
    """Against ``spark://`` (a master and a worker in JVMs of their own, the compose
    profile's arrangement): executors start this package's Python for standardising and
    the guarded clustering, and both give what the task gives."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from devtools.spark_standalone import standalone_cluster

    script = Path(__file__).with_name("spark_cluster_check.py")
    checkpoints = tmp_path / "shared" / "checkpoints"
    with standalone_cluster(workers=1, cores=2, memory="3g") as master:
        # Without it a cluster is refused (tests/test_settings.py); here the driver and
        # the executors share the machine's disk, as compose's share a volume.
        env = {
            **os.environ,
            "GOLDEN_RECORD_SPARK_MASTER": master,
            "GOLDEN_RECORD_SPARK_CHECKPOINT_DIR": f"file://{checkpoints}",
        }
        env["GOLDEN_RECORD_SPARK_FROM"] = "1000"
        env.pop("PYSPARK_PYTHON", None)
        # As from a clone whose virtual environment is not activated: its Python is not on
        # PATH, and the executors must still start the driver's.
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join(
            p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
        )
        done = subprocess.run(
            [sys.executable, str(script), str(landed_run), RUN_DATE.isoformat()],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["master"] == master and result["executors"] == 1, result
    assert result["records"] > 1000
    assert result["standardised_equal"] and result["clusters_equal"] and result["refused_equal"]
    # Splink's steps checkpointed in the configured folder, each session in one of its
    # own, removed when the driver's process ended.
    assert f"{checkpoints}/golden-record-spark-" in result["checkpoint_dir"], result
    assert result["checkpoint_files"] > 0
    assert checkpoints.is_dir() and not any(checkpoints.iterdir())


def test_clustering_on_spark_with_no_links_and_nothing_kept_apart(on_duckdb, spark_api):
    """A night whose records link to nothing (each its own person) and one with links
    but no pair kept apart: the same clusters as in the task."""
    from golden_record.matching.clustering import cluster_without_conflicts
    from golden_record.matching.clustering_on_spark import cluster_on_spark
    from golden_record.matching.levels import LevelWeights

    records, model, first = on_duckdb
    weights = LevelWeights.of(model)
    sizes = first.clusters.groupby("cluster_id")["unique_id"].transform("size")
    together = first.clusters.loc[sizes > 1, "cluster_id"].drop_duplicates().head(100)
    chosen_ids = first.clusters.loc[first.clusters["cluster_id"].isin(together), "unique_id"]
    alone = first.clusters.loc[sizes == 1, "unique_id"].head(50)
    some = records[records["unique_id"].isin(pd.concat([chosen_ids, alone]))]
    links = first.links
    ends = (
        links["unique_id_l"].isin(some["unique_id"]),
        links["unique_id_r"].isin(some["unique_id"]),
    )
    within = links[ends[0] & ends[1]].assign(agrees=False)
    assert len(within) > 0
    for chosen in (within.head(0), within):
        in_task = cluster_without_conflicts(some, chosen, set(), weights=weights)
        on_spark = cluster_on_spark(some, chosen, set(), weights=weights, db_api=spark_api)
        pd.testing.assert_frame_equal(on_spark.clusters, in_task.clusters)
        assert len(on_spark.refused) == len(in_task.refused)
