"""Nightly golden customer records: extract the council's systems, match, publish.

extract (one task per source declared in ``sources.toml``) → gate_sources → standardise
→ match → build_golden → gate_golden → publish → retain, then report (always) and outcome. A
quality gate's critical failure stops the night before publishing, so the CRM keeps the
previous state; the report says why.

Thin by design: each task calls one stage of ``golden_record.pipeline``; heavy libraries
(pandas, Splink) are imported inside the tasks, not when the scheduler parses this file.
Data is partitioned by the run's date (``ds``), so rerunning a date yields the same result.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import Asset, dag, task

from golden_record.extract.declaration import source_systems
from golden_record.settings import runtime

# The declared source systems (one small TOML file, read as the scheduler parses this).
SOURCES = source_systems()
GOLDEN_RECORDS = Asset(name="golden_customer_records", uri="golden-record://crm/golden_customer")

# Transient failures (a source unreachable or slow) are retried; bad data is not.
SETTINGS = runtime()
EXTRACT_RETRIES = SETTINGS.extract_retries
EXTRACT_RETRY_DELAY = timedelta(seconds=SETTINGS.retry_delay_seconds)
PUBLISH_RETRIES = SETTINGS.publish_retries
PUBLISH_RETRY_DELAY = EXTRACT_RETRY_DELAY


@dag(
    dag_id="golden_record_nightly",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),  # noqa: UP017 - Airflow's own style
    catchup=False,
    max_active_runs=1,
    params={"full_refresh": False},
    tags=["golden-record"],
    doc_md=__doc__,
)
def golden_record_nightly():
    @task(retries=EXTRACT_RETRIES, retry_delay=EXTRACT_RETRY_DELAY)
    def extract(source: str, ds: str | None = None, params: dict | None = None) -> dict:
        from golden_record.airflow.stages import extract_source

        return extract_source(source, ds, full_refresh=bool((params or {}).get("full_refresh")))

    @task
    def standardise(ds: str | None = None, params: dict | None = None) -> dict:
        from golden_record.airflow.stages import standardise_run

        return standardise_run(ds, full_refresh=bool((params or {}).get("full_refresh")))

    @task
    def match(ds: str | None = None, params: dict | None = None) -> dict:
        from golden_record.airflow.stages import match_run

        return match_run(ds, full_refresh=bool((params or {}).get("full_refresh")))

    @task
    def build_golden(ds: str | None = None) -> dict:
        from golden_record.airflow.stages import build_golden_run

        return build_golden_run(ds)

    @task
    def gate(name: str, ds: str | None = None) -> dict:
        from golden_record.airflow.stages import quality_gate_run

        return quality_gate_run(name, ds)

    # A held lock or an unreachable CRM is worth another try; publishing is idempotent.
    @task(outlets=[GOLDEN_RECORDS], retries=PUBLISH_RETRIES, retry_delay=PUBLISH_RETRY_DELAY)
    def publish(ds: str | None = None, outlet_events=None) -> dict:
        from golden_record.airflow.stages import asset_extra, publish_run

        published = publish_run(ds)
        # Consumers triggered by the asset learn which feed sequences are new.
        outlet_events[GOLDEN_RECORDS].extra = asset_extra(published)
        return published

    # What is past its source's retention goes once the night is published.
    @task
    def retain(ds: str | None = None) -> dict:
        from golden_record.airflow.stages import retain_run

        return retain_run(ds)

    # The report is written whatever happened upstream: a stopped night is when officers
    # most need it.
    @task(trigger_rule="all_done")
    def report(ds: str | None = None, run_id: str | None = None, ti=None, dag_run=None) -> dict:
        from golden_record.airflow.stages import report_run

        return report_run(ds, run_id, ti, started_at=getattr(dag_run, "start_date", None))

    # The run's last task carries its state: it fails, saying why, when the night was
    # stopped, so a stopped night is red in Airflow even though its report was written.
    @task(trigger_rule="all_done")
    def outcome(ti=None) -> str:
        from golden_record.airflow.stages import outcome_run

        return outcome_run(ti)

    extracts = [extract.override(task_id=f"extract_{s}")(s) for s in SOURCES]
    gate_sources = gate.override(task_id="gate_sources")("sources")
    gate_golden = gate.override(task_id="gate_golden")("golden")
    published = publish()
    (
        extracts
        >> gate_sources
        >> standardise()
        >> match()
        >> build_golden()
        >> gate_golden
        >> published
        >> retain()
        >> report()
        >> outcome()
    )


golden_record_nightly()
