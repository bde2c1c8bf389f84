"""What DuckDB's similarity functions cost on Spark, and what the jar's changed.

``python -m devtools.benchmarks.spark_similarity --people 20000``: a generated council,
standardised, scored by the packaged model on DuckDB, on Spark local[2] with the
similarity functions of the jar Splink ships, and on Spark with DuckDB's
(:mod:`golden_record.matching.similarity_on_spark`, what a night uses). Prints, for each
Spark run, the scoring's time, how many pairs landed at another comparison level than on
DuckDB (or above the review threshold on one engine only), and how many record pairs were
linked otherwise (components of the pairs at 0.9 and above). The predictions are
the night's scoring alone (:func:`golden_record.matching.inference.score`, Splink's
predict with the night's blocking rules), without clustering and guards, so the time is
where the similarity functions are.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd


def _predict(records: pd.DataFrame, db_api: Any, model: dict) -> tuple[pd.DataFrame, float]:
    from golden_record.matching.inference import Thresholds, score

    started = time.perf_counter()
    # At the night's review threshold, as a night scores (every blocked pair would be
    # millions, more than a driver collects).
    pairs = score(records, model, threshold=Thresholds().review, db_api=db_api)
    return pairs, time.perf_counter() - started


def _levels(pairs: pd.DataFrame) -> pd.DataFrame:
    gammas = sorted(c for c in pairs.columns if c.startswith("gamma_"))
    return pairs.set_index(["unique_id_l", "unique_id_r"])[gammas].sort_index()


def _together(pairs: pd.DataFrame, threshold: float = 0.9) -> set[tuple[str, str]]:
    """Every two records the pairs at or above ``threshold`` put in one component."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    linked = pairs[pairs["match_probability"] >= threshold]
    ids = pd.Index(pd.unique(pd.concat([linked["unique_id_l"], linked["unique_id_r"]])))
    left, right = ids.get_indexer(linked["unique_id_l"]), ids.get_indexer(linked["unique_id_r"])
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    together: set[tuple[str, str]] = set()
    for _, members in pd.Series(ids, index=labels).groupby(level=0):
        together |= set(itertools.combinations(sorted(members), 2))
    return together


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    from devtools.benchmarks.speed import prepare
    from golden_record.matching import registry, similarity_on_spark
    from golden_record.matching.backend import default_db_api, spark_db_api
    from golden_record.matching.inference import load_model

    workdir = Path(tempfile.gettempdir()) / "golden-record-bench"
    _, standardised, _ = prepare(args.people, args.seed, workdir)
    records = pd.read_parquet(standardised)
    model = load_model(registry.packaged())

    on_duckdb, duck_seconds = _predict(records, default_db_api(), model)
    duck_levels, duck_together = _levels(on_duckdb), _together(on_duckdb)
    result: dict[str, object] = {
        "records": len(records),
        "pairs": len(on_duckdb),
        "duckdb_predict_s": round(duck_seconds, 1),
    }
    spark = spark_db_api()
    for name in ("jar", "duckdb_functions"):
        if name == "jar":
            # The jar's functions, as Splink registers them (ours replaced them on creation).
            spark._register_udfs_from_jar()
        else:
            similarity_on_spark.register(spark.spark)
        on_spark, seconds = _predict(records, spark, model)
        # Pairs scored above the threshold by one engine only count as moved too.
        levels = _levels(on_spark)
        both = duck_levels.index.union(levels.index)
        moved = int((levels.reindex(both) != duck_levels.reindex(both)).any(axis=1).sum())
        result[f"spark_{name}_predict_s"] = round(seconds, 1)
        result[f"spark_{name}_pairs_at_another_level"] = moved
        result[f"spark_{name}_record_pairs_clustered_otherwise"] = len(
            _together(on_spark) ^ duck_together
        )
    spark.spark.stop()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
