"""The Airflow 3 plugin: run reports, the review queue and residents' rights in Airflow's UI.

Airflow's API server mounts the FastAPI app at ``/golden-record``; the external views put
"Golden record reports", "Review queue" and "Residents' rights" in the navigation and a
"Run report" tab on each run of the nightly DAG. Installed with the ``airflow`` extra,
Airflow finds this class through the ``airflow.plugins`` entry point in
``pyproject.toml``: no plugins folder, nothing on ``PYTHONPATH``.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from golden_record.airflow.web import URL_PREFIX


def _app() -> Any:
    from golden_record.airflow.reports_app import create_app

    return create_app()


class GoldenRecordPlugin(AirflowPlugin):
    name = "golden_record"
    fastapi_apps = [
        {"app": _app(), "url_prefix": URL_PREFIX, "name": "Golden record reports"},
    ]
    external_views = [
        {
            "name": "Golden record reports",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "golden-record-reports",
        },
        {
            "name": "Review queue",
            "href": f"{URL_PREFIX}/review",
            "destination": "nav",
            "category": "browse",
            "url_route": "golden-record-review",
        },
        {
            "name": "Residents' rights",
            "href": f"{URL_PREFIX}/rights",
            "destination": "nav",
            "category": "browse",
            "url_route": "golden-record-rights",
        },
        {
            "name": "Run report",
            "href": f"{URL_PREFIX}/dag-runs/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "golden-record-run-report",
        },
    ]
