"""Clustering on Spark: the night's auto-match links into people by Spark's executors,
the same clusters as :func:`golden_record.matching.clustering.cluster_without_conflicts`
gives in the task.

That clustering works component by component, and so does this:

1. Records that cannot be told from an undated namesake at their postcode lose their
   links (the one step that looks across components, over the records: in the task).
2. Connected components of the remaining links, by Splink's clustering on Spark.
3. A component whose records hold one identity (forename, surname, date of birth, NI
   number) and no pair a steward or a household rule kept apart cannot hold a conflict:
   it is one person, named after its lowest record id, on Spark in SQL.
4. Every other component (a household, a name mistyped) is clustered link by link by
   ``cluster_without_conflicts`` itself, in Spark's Python workers, whole components to
   a slice. Every step of it (joining clusters, conflicts, stewards' pairs, the lowest id
   naming a cluster) looks only inside a component, so slices give what the whole would.

With ``GOLDEN_RECORD_BACKEND=spark`` a night clusters here when it has at least
``GOLDEN_RECORD_SPARK_FROM`` records to match (200,000 unless set), as it standardises;
fewer are quicker in the task than Spark's jobs start. As with standardising on Spark,
step 4's Python workers must have this package (local mode has; workers from this
project's image, as in the compose profile, have).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from golden_record.matching.clustering import Clustering, cluster_without_conflicts
from golden_record.matching.guard import namesakes_without_birth_date
from golden_record.matching.levels import LevelWeights

IDENTITY = ["first_name", "surname", "date_of_birth", "ni_number"]
RECORD_COLUMNS = ["unique_id", *IDENTITY, "first_name_variants"]
LINK_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "agrees"]
REFUSED_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "reason"]
OUT_COLUMNS = ["kind", "unique_id", "cluster_id", "probability", "unique_id_r", "reason"]
_OUT = (
    "kind string, unique_id string, cluster_id string, probability double, "
    "unique_id_r string, reason string"
)


def spark_api_of(db_api: Any) -> Any | None:
    """The Spark database API a night was scored on, or None (DuckDB).

    Told by the class's name, not by importing Splink's Spark backend: that imports
    pyspark, half a second and some 50 MB in every DuckDB night."""
    spark_api = any(
        kind.__name__ == "SparkAPI" and kind.__module__.startswith("splink.")
        for kind in type(db_api).__mro__
    )
    return db_api if spark_api else None


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)


def _without_namesake_links(
    records: pd.DataFrame, links: pd.DataFrame, weights: LevelWeights, household_guard: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Step 1: the links kept, and those refused as touching an undated namesake (unless a
    personal detail on the link says which of the two people the record is)."""
    if not household_guard:
        return links, pd.DataFrame(columns=REFUSED_COLUMNS)
    ambiguous = records.loc[namesakes_without_birth_date(records, weights), "unique_id"]
    touching = (
        links["unique_id_l"].isin(ambiguous) | links["unique_id_r"].isin(ambiguous)
    ) & ~links["agrees"]
    refused = links.loc[touching, REFUSED_COLUMNS[:3]].assign(reason="ambiguous")
    return links[~touching], refused


def cluster_on_spark(
    records: pd.DataFrame,
    links: pd.DataFrame,
    cannot_link: set[frozenset[str]] | None = None,
    *,
    weights: LevelWeights,
    household_guard: bool = True,
    db_api: Any,
) -> Clustering:
    """As ``cluster_without_conflicts(records, links, cannot_link, ...)``, on the Spark
    session of ``db_api`` (a Splink ``SparkAPI``); clusters in the order of ``records``."""
    from pyspark.sql import functions as F
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    session = db_api.spark  # pandas crosses to Spark and back by Arrow, on by default
    records = records.reset_index(drop=True)
    links = links.assign(agrees=links["agrees"].astype(bool) if "agrees" in links else False)[
        LINK_COLUMNS
    ]
    links, refused_first = _without_namesake_links(records, links, weights, household_guard)
    ids = set(records["unique_id"])
    cannot = [tuple(sorted(p)) for p in cannot_link or () if len(p) == 2 and set(p) <= ids]

    nodes = session.createDataFrame(
        _plain(records[RECORD_COLUMNS]),
        schema="unique_id string, first_name string, surname string, "
        "date_of_birth string, ni_number string, first_name_variants array<string>",
    )
    edges = session.createDataFrame(
        _plain(links),
        schema="unique_id_l string, unique_id_r string, match_probability double, agrees boolean",
    )
    # Every edge is an auto-match link already: no threshold.
    found = cluster_pairwise_predictions_at_threshold(
        nodes.select("unique_id"), edges, db_api, "unique_id"
    )
    component = (
        found.as_spark_dataframe()
        .select("unique_id", F.col("cluster_id").alias("component"))
        .cache()
    )
    nodes = nodes.join(component, "unique_id")
    edges = edges.join(component.withColumnRenamed("unique_id", "unique_id_l"), "unique_id_l")
    kept_apart = _kept_apart(session, cannot, component)
    contested = kept_apart.select("component")
    if household_guard:
        identity = F.to_json(F.struct(*IDENTITY))
        several = (
            nodes.groupBy("component")
            .agg(F.countDistinct(identity).alias("identities"))
            .where("identities > 1")
            .select("component")
        )
        contested = contested.union(several)
    contested = contested.distinct().cache()

    plain = _one_person_components(nodes, edges, contested).toPandas()
    guarded = _guarded_components(
        nodes, edges, kept_apart, contested, weights, household_guard, session
    ).toPandas()
    component.unpersist()
    contested.unpersist()

    return _assembled(records, plain, guarded, refused_first)


def _kept_apart(session: Any, cannot: list[tuple[str, ...]], component: Any) -> Any:
    """Stewards' and household rules' pairs whose records share a component."""
    from pyspark.sql import functions as F

    pairs = session.createDataFrame(
        pd.DataFrame(cannot, columns=["unique_id_l", "unique_id_r"]),
        schema="unique_id_l string, unique_id_r string",
    )
    left = component.select(F.col("unique_id").alias("unique_id_l"), "component")
    right = component.select(
        F.col("unique_id").alias("unique_id_r"), F.col("component").alias("component_r")
    )
    return (
        pairs.join(left, "unique_id_l")
        .join(right, "unique_id_r")
        .where("component = component_r")
        .drop("component_r")
    )


def _one_person_components(nodes: Any, edges: Any, contested: Any) -> Any:
    """Step 3: each record's cluster is its component; its probability, its strongest link."""
    from pyspark.sql import functions as F

    ends = edges.select(
        F.explode(F.array("unique_id_l", "unique_id_r")).alias("unique_id"), "match_probability"
    )
    best = ends.groupBy("unique_id").agg(F.max("match_probability").alias("probability"))
    return (
        nodes.join(contested, "component", "left_anti")
        .join(best, "unique_id", "left")
        .select("unique_id", F.col("component").alias("cluster_id"), "probability")
    )


def _guarded_components(
    nodes: Any,
    edges: Any,
    kept_apart: Any,
    contested: Any,
    weights: LevelWeights,
    household_guard: bool,
    session: Any,
) -> Any:
    """Step 4: the contested components, clustered link by link in Python workers."""
    from pyspark.sql import functions as F

    slices = max(2, session.sparkContext.defaultParallelism * 2)
    bucket = F.pmod(F.xxhash64("component"), F.lit(slices)).alias("bucket")
    own = nodes.join(contested, "component").select(bucket, *RECORD_COLUMNS)
    both = edges.join(contested, "component")
    pairs = both.select(bucket, *LINK_COLUMNS, F.lit("link").alias("kind")).unionByName(
        kept_apart.join(contested, "component").select(
            bucket,
            "unique_id_l",
            "unique_id_r",
            F.lit(None).cast("double").alias("match_probability"),
            F.lit(False).alias("agrees"),
            F.lit("cannot").alias("kind"),
        )
    )

    def cluster(records: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
        is_link = pairs["kind"] == "link"
        cannot = {
            frozenset(pair)
            for pair in pairs.loc[~is_link, ["unique_id_l", "unique_id_r"]].itertuples(
                index=False, name=None
            )
        }
        done = cluster_without_conflicts(
            records.drop(columns="bucket"),
            pairs.loc[is_link, LINK_COLUMNS],
            cannot,
            weights=weights,
            household_guard=household_guard,
            namesakes=False,
        )
        clusters = done.clusters.rename(columns={"cluster_match_probability": "probability"})
        refused = done.refused.rename(
            columns={"unique_id_l": "unique_id", "match_probability": "probability"}
        )
        out = pd.concat(
            [clusters.assign(kind="cluster"), refused.assign(kind="refused")], ignore_index=True
        ).reindex(columns=OUT_COLUMNS)
        # Plain objects: Arrow-backed text columns reach Spark's writer as chunked arrays,
        # which it refuses.
        probability = out.pop("probability").astype(float)
        return _plain(out).assign(probability=probability)[OUT_COLUMNS]

    return (
        own.groupBy("bucket").cogroup(pairs.groupBy("bucket")).applyInPandas(cluster, schema=_OUT)
    )


def _assembled(
    records: pd.DataFrame, plain: pd.DataFrame, guarded: pd.DataFrame, refused_first: pd.DataFrame
) -> Clustering:
    is_cluster = guarded["kind"] == "cluster"
    clusters = pd.concat(
        [plain, guarded.loc[is_cluster, ["unique_id", "cluster_id", "probability"]]],
        ignore_index=True,
    ).rename(columns={"probability": "cluster_match_probability"})
    ids = records["unique_id"]
    if len(clusters) != len(ids) or clusters["unique_id"].duplicated().any():
        raise RuntimeError(
            f"clustering on Spark returned {len(clusters)} rows for {len(ids)} records "
            f"({int(clusters['unique_id'].duplicated().sum())} repeated): a component was "
            "split across slices or lost"
        )
    ordered = clusters.set_index("unique_id").reindex(ids)
    # Built from arrays, as the task's clustering builds its frame: the same dtypes.
    clusters = pd.DataFrame(
        {
            "unique_id": ids.to_numpy(),
            "cluster_id": ordered["cluster_id"].to_numpy(dtype=object),
            "cluster_match_probability": ordered["cluster_match_probability"].to_numpy(
                dtype=float, na_value=float("nan")
            ),
        }
    )
    later = guarded.loc[~is_cluster].rename(
        columns={"unique_id": "unique_id_l", "probability": "match_probability"}
    )[REFUSED_COLUMNS]
    refused = pd.concat(
        [r for r in (refused_first, later) if not r.empty] or [refused_first], ignore_index=True
    )
    return Clustering(
        clusters=clusters[["unique_id", "cluster_id", "cluster_match_probability"]],
        refused=refused.reset_index(drop=True),
    )


def should_cluster_on_spark(db_api: Any, records: int) -> bool:
    from golden_record.settings import runtime

    return spark_api_of(db_api) is not None and records >= runtime().spark_from
