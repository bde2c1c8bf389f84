"""Nightly golden customer records: extract the four council systems, match, publish.

Thin by design: each task calls one stage of ``dedupe.pipeline``; heavy libraries
(pandas, Splink) are imported inside the tasks, not when the scheduler parses this file.
Data is partitioned by the run's date (``ds``), so rerunning a date yields the same result.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import Asset, dag, task

SOURCES = ("revenues", "housing", "waste", "portal")
GOLDEN_RECORDS = Asset(name="golden_customer_records", uri="golden-record://crm/golden_customer")

# Transient failures (a source unreachable or slow) are retried; bad data is not.
EXTRACT_RETRIES = int(os.environ.get("GOLDEN_RECORD_EXTRACT_RETRIES", "2"))
EXTRACT_RETRY_DELAY = timedelta(seconds=int(os.environ.get("GOLDEN_RECORD_RETRY_DELAY", "300")))


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
        from golden_record_airflow.stages import extract_source

        return extract_source(source, ds, full_refresh=bool((params or {}).get("full_refresh")))

    @task
    def standardise(ds: str | None = None) -> dict:
        from golden_record_airflow.stages import standardise_run

        return standardise_run(ds)

    @task
    def match(ds: str | None = None) -> dict:
        from golden_record_airflow.stages import match_run

        return match_run(ds)

    @task
    def build_golden(ds: str | None = None) -> dict:
        from golden_record_airflow.stages import build_golden_run

        return build_golden_run(ds)

    @task(outlets=[GOLDEN_RECORDS])
    def publish(ds: str | None = None) -> dict:
        from golden_record_airflow.stages import publish_run

        return publish_run(ds)

    @task
    def report(results: dict, ds: str | None = None) -> dict:
        from golden_record_airflow.stages import report_run

        return report_run(ds, results)

    extracts = {s: extract.override(task_id=f"extract_{s}")(s) for s in SOURCES}
    standardised = standardise()
    matched = match()
    golden = build_golden()
    published = publish()
    list(extracts.values()) >> standardised >> matched >> golden >> published
    report(
        {
            "extract": extracts,
            "standardise": standardised,
            "match": matched,
            "golden": golden,
            "publish": published,
        }
    )


golden_record_nightly()
