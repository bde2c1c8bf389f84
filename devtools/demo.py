"""``make demo``: the real nightly DAG on embedded defaults, with no server and no Docker.

Generates sample council data, serves the portal API on 127.0.0.1, points Airflow
connections at the samples, runs ``golden_record_nightly`` in-process with ``dag.test()``
(project-local Airflow home, SQLite metadata), and prints where the results are.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any

from devtools import local_env
from golden_record.run import Run

DAG_ID = "golden_record_nightly"


def run_dag_test(dag_id: str, logical_date: datetime) -> Any:
    """Run one DAG run in-process; return its final state as a string."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(local_env.PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    dag_run = dag.test(logical_date=logical_date)
    _started_when_its_first_task_did(dag_run)
    return str(dag_run.state)


def _started_when_its_first_task_did(dag_run: Any) -> None:
    """``dag.test()`` records the run as started at its logical date (02:00 for a
    nightly run), so the Airflow UI's grid showed a demo run of a minute as 18 hours;
    the run started when its first task did."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        first = session.scalar(
            select(func.min(TaskInstance.start_date)).where(
                TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
            )
        )
        run = session.scalar(
            select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        )
        if first is not None and run is not None:
            run.start_date = first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--date", default=None, help="run date YYYY-MM-DD (default: today)")
    parser.add_argument("--workdir", type=Path, default=local_env.PROJECT_ROOT / "data")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    sample_dir = workdir / "sample"
    crm_db = workdir / "crm.db"
    run_day = (
        datetime.fromisoformat(args.date).date() if args.date else datetime.now(timezone.utc).date()  # noqa: UP017
    )
    logical_date = datetime.combine(run_day, time(2, 0), tzinfo=timezone.utc)  # noqa: UP017

    airflow_home = local_env.PROJECT_ROOT / "airflow_home"
    settings = local_env.airflow_env(airflow_home)
    local_env.apply(settings)
    # The same settings in airflow.cfg, so Airflow started from this home by hand (or by
    # `make airflow`) shows this project's DAGs, not the examples.
    local_env.write_config(airflow_home, settings)
    from golden_record.matching.registry import packaged

    local_env.apply(
        {
            "GOLDEN_RECORD_DATA": str(workdir),
            "GOLDEN_RECORD_EXTRACT_RETRIES": "0",
            "GOLDEN_RECORD_PUBLISH_RETRIES": "0",
            # The demo matches with the packaged model; a council's first night trains its
            # own (README: "Training").
            "GOLDEN_RECORD_MODEL": os.environ.get("GOLDEN_RECORD_MODEL", str(packaged())),
        }
    )

    from devtools.generate import generate
    from devtools.generate.portal_api import running_portal
    from golden_record.extract.declaration import source_systems

    manifest = sample_dir / "manifest.json"
    made = json.loads(manifest.read_text()) if manifest.is_file() else {}
    # Made again for another seed, or by a generator that knew other systems.
    if made.get("seed") != args.seed or set(made.get("records", {})) != set(source_systems()):
        print(f"generating {args.people} people of sample council data (seed {args.seed})")
        # Dated the run's day, so the sources look as fresh as a council's would on the
        # night (the freshness check passes on demo day).
        generate(args.people, args.seed, sample_dir, as_of=run_day, show_progress=True)
    print("preparing Airflow metadata database (airflow db migrate)")
    local_env.migrate_metadata_db()

    token = secrets.token_urlsafe(24)
    with running_portal(sample_dir / "portal" / "customers.jsonl", token) as portal:
        local_env.apply(
            local_env.connections_env(sample_dir, portal.base_url, token, f"sqlite:///{crm_db}")
        )
        print(f"running {DAG_ID} for {run_day} with dag.test()")
        state = run_dag_test(DAG_ID, logical_date)

    run = Run.of(run_day.isoformat(), root=workdir)
    print()
    print(f"DAG run state:   {state}")
    print(f"golden records:  {run.golden.golden_records}")
    print(f"cross-reference: {run.golden.xref}")
    print(f"CRM database:    {crm_db}  (views crm_golden_customer, crm_change_feed, …)")
    print(f"CRM export:      {workdir / 'crm_exports' / run.key}  (CSV, Parquet)")
    print(f"change events:   {run.golden.events}")
    print(f"golden store:    {workdir / 'golden_store.db'}  (IDs, history, review queue)")
    print(f"run report:      {run.report_html}  (Data Docs linked from it)")
    if state != "success":
        return 1
    _print_accuracy(run, sample_dir)
    return 0


def _print_accuracy(run: Run, sample_dir: Path) -> None:
    import pandas as pd

    from golden_record.matching.evaluation import merged_hard_cases, pairwise_scores

    xref = pd.read_parquet(run.golden.xref)
    truth = pd.read_csv(sample_dir / "truth" / "ground_truth.csv", dtype="string")
    labelled = xref.merge(truth, on=["source_system", "source_record_id"])
    scores = pairwise_scores(labelled, "golden_id", "person_id")
    merged = merged_hard_cases(labelled, pd.read_csv(sample_dir / "truth" / "hard_cases.csv"))
    print(
        f"against the ground truth: {scores.records} records, {scores.true_entities} people, "
        f"{scores.predicted_entities} golden records; pairwise precision {scores.precision:.4f}, "
        f"recall {scores.recall:.4f}, F1 {scores.f1:.4f}; household pairs merged: {len(merged)}"
    )


if __name__ == "__main__":
    sys.exit(main())
