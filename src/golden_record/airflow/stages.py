"""What each task of ``golden_record_nightly`` does, in Airflow terms.

Builds the task's :class:`~golden_record.run.Run` once from Airflow's context (its
logical date, or for a run triggered with none, the day it ran after), turns Airflow
connections into the plain arguments of :mod:`golden_record.pipeline`, returns each
stage's result as the dict XCom carries, and turns bad source data into a failure that
is not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from golden_record.airflow import connections
from golden_record.memory import give_back
from golden_record.run import Run

Stage = TypeVar("Stage", bound=Callable[..., Any])


def giving_back_memory(stage: Stage) -> Stage:
    """The stage, then its freed memory handed back (one process runs every task under
    ``dag.test()``: :mod:`golden_record.memory`)."""

    @wraps(stage)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return stage(*args, **kwargs)
        finally:
            give_back()

    return run  # type: ignore[return-value]


def run_key_of(ds: str | None, run_after: datetime | None) -> str | None:
    """A DAG run's key: its logical date, or, for a run Airflow 3 made without one (a
    trigger from the UI or ``airflow dags trigger`` with none given), the day it was
    asked to run after: every task of the run, and a rerun of it, has the same."""
    if ds:
        return ds
    return run_after.astimezone(UTC).date().isoformat() if run_after else None


def _run(ds: str | None) -> Run:
    """The task's run; a date later than tomorrow fails the task at once, unretried."""
    from airflow.sdk.exceptions import AirflowFailException

    from golden_record.run import RunDateAhead

    run_after = None
    if not ds:
        from airflow.sdk import get_current_context

        run_after = get_current_context()["dag_run"].run_after
    try:
        return Run.from_context(run_key_of(ds, run_after))
    except RunDateAhead as exc:
        raise AirflowFailException(str(exc)) from None


@giving_back_memory
def extract_source(source: str, ds: str | None, full_refresh: bool = False) -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from golden_record import pipeline
    from golden_record.extract.sources import SourceDataError

    run = _run(ds)
    try:
        summary = pipeline.extract(
            source,
            run,
            connections.source_settings(),
            full_refresh=full_refresh,
            store_url=connections.store_url(),
        )
    except SourceDataError as exc:
        # Retrying cannot fix bad data: fail now, naming the source and the row or page.
        raise AirflowFailException(str(exc)) from exc
    from dataclasses import asdict

    return asdict(summary)


@giving_back_memory
def standardise_run(ds: str | None, full_refresh: bool = False) -> dict:
    from golden_record import pipeline

    return pipeline.standardise(
        _run(ds), full_refresh=full_refresh, store_url=connections.store_url()
    ).to_dict()


@giving_back_memory
def match_run(ds: str | None, full_refresh: bool = False) -> dict:
    from golden_record import pipeline
    from golden_record.settings import runtime

    run = _run(ds)
    return pipeline.match(
        run,
        model_path=runtime().model,
        store_url=connections.store_url(),
        full_refresh=full_refresh,
    ).to_dict()


def train_model_run(ds: str | None, run_key: str | None) -> dict:
    from golden_record import pipeline

    training = _run(ds)
    return pipeline.train_model(training, pipeline.training_run(training, run_key))


def promote_model_run(trained: dict, promote: bool) -> dict:
    from golden_record.matching import registry

    if not promote:
        return {**trained, "promoted": False}
    registry.promote(trained["model_file"])
    return {**trained, "promoted": True}


@giving_back_memory
def build_golden_run(ds: str | None) -> dict:
    from golden_record import pipeline

    return pipeline.build_golden(_run(ds), store_url=connections.store_url()).to_dict()


@giving_back_memory
def publish_run(ds: str | None) -> dict:
    """Publish the gated golden records; a held lock or an unreachable CRM is retried,
    anything else (refused by the gate, a broken contract, bad rows) fails at once."""
    from airflow.sdk.exceptions import AirflowFailException

    from golden_record import pipeline
    from golden_record.publish import ExportError, PublishError

    run = _run(ds)
    try:
        return pipeline.publish(
            run, connections.crm_url(), store_url=connections.store_url()
        ).to_dict()
    except PublishError as exc:
        if exc.transient:
            raise
        raise AirflowFailException(str(exc)) from None
    except (pipeline.PublishRefused, ExportError) as exc:
        raise AirflowFailException(str(exc)) from None


def asset_extra(published: dict) -> dict:
    """What the golden-records asset event tells downstream DAGs about this publish."""
    keys = ("run_key", "outcome", "publish_id", "first_sequence", "last_sequence", "export")
    return {key: published.get(key) for key in keys} | {"events": published.get("events", {})}


# Task id → the key the report knows the stage's result by.
STAGE_TASKS = {
    "gate_sources": "gate_sources",
    "standardise": "standardise",
    "match": "match",
    "golden": "build_golden",
    "gate_golden": "gate_golden",
    "publish": "publish",
    "retain": "retain",
}


@giving_back_memory
def quality_gate_run(gate: str, ds: str | None) -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from golden_record import pipeline
    from golden_record.quality import GateFailed

    try:
        return pipeline.quality_gate(gate, _run(ds), store_url=connections.store_url()).to_dict()
    except GateFailed as exc:
        # Not retried: the same data fails the same way. Nothing downstream publishes.
        raise AirflowFailException(f"{exc}. Nothing was published; see the run report.") from exc


@giving_back_memory
def retain_run(ds: str | None) -> dict:
    """Delete what is past its source's retention (a published night only)."""
    from golden_record import pipeline

    return pipeline.retain(_run(ds)).to_dict()


def report_run(ds: str | None, run_id: str | None, ti: Any, started_at: Any = None) -> dict:
    """Collect the stages' results (None where a stage did not finish) and write the
    report (``started_at``: when the DAG run started)."""
    from golden_record import pipeline
    from golden_record.extract.declaration import source_systems

    run = _run(ds)
    results = {stage: ti.xcom_pull(task_ids=task_id) for stage, task_id in STAGE_TASKS.items()}
    results["extract"] = {
        source: ti.xcom_pull(task_ids=f"extract_{source}") for source in source_systems()
    }
    return pipeline.report(
        run, results, run_id=run_id, store_url=connections.store_url(), started_at=started_at
    ).to_dict()


def outcome_run(ti: Any) -> str:
    from airflow.sdk.exceptions import AirflowFailException

    written = ti.xcom_pull(task_ids="report")
    if not written:
        raise AirflowFailException("the run report was not written; see the report task's log")
    if written["outcome"] != "published":
        # A superseded night was checked but not written: as much a failure to publish.
        lead = {"superseded": "night not written to the CRM"}.get(
            written["outcome"], "night stopped, nothing published"
        )
        raise AirflowFailException(
            f"{lead}: " + "; ".join(written["stopped"]) + f". Report: {written['report_html']}"
        )
    return f"published; report: {written['report_html']}"
