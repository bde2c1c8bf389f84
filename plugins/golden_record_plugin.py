"""The Airflow 3 plugin: run reports and Data Docs inside the Airflow UI.

Airflow's API server mounts the FastAPI app at ``/golden-record``; the external views put
"Golden record reports", "Review queue" and "Residents' rights" in the navigation and a
"Run report" tab on each run of the nightly DAG. Airflow imports every ``.py`` file in
``plugins/`` as a module, so the ``golden_record_airflow`` package is listed in
``.airflowignore`` and only this file is loaded as a plugin.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/golden-record"


def _app():
    from golden_record_airflow.reports_app import create_app

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
