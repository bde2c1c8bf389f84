"""Retrain the matching model, rarely: monthly, or by hand after a big change in sources.

Trains on the standardised records of the last accepted night on or before this run's
logical date (or the run named in the ``run_key`` param), so a rerun reads the same
night; writes a new versioned model with its metadata and parameter charts, checks it,
and promotes it so the next nightly run loads it. The nightly DAG trains only on a
council's first night, when no model has been promoted.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import dag, task


@dag(
    dag_id="golden_record_train",
    schedule="@monthly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),  # noqa: UP017 - Airflow's own style
    catchup=False,
    max_active_runs=1,
    params={"run_key": None, "promote": True},
    tags=["golden-record"],
    doc_md=__doc__,
)
def golden_record_train():
    @task
    def train_model(ds: str | None = None, params: dict | None = None) -> dict:
        from golden_record.airflow.stages import train_model_run

        return train_model_run(ds, (params or {}).get("run_key"))

    @task
    def promote_model(trained: dict, params: dict | None = None) -> dict:
        from golden_record.airflow.stages import promote_model_run

        return promote_model_run(trained, promote=bool((params or {}).get("promote", True)))

    promote_model(train_model())


golden_record_train()
