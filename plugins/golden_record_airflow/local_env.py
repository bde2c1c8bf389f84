"""Environment for running the DAGs in-process on a laptop: demo and tests.

Airflow reads its configuration from ``AIRFLOW__*`` variables and connections from
``AIRFLOW_CONN_*`` variables, so a project-local Airflow home with SQLite metadata and
connections pointing at generated sample data needs no server and no manual step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def airflow_env(airflow_home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "false",
    }


def connections_env(
    sample_dir: Path, portal_url: str, portal_token: str, crm_url: str
) -> dict[str, str]:
    from urllib.parse import urlparse

    portal = urlparse(portal_url)
    connections = {
        "golden_revenues": {
            "conn_type": "generic",
            "extra": {"url": f"sqlite:///{sample_dir / 'revenues.db'}"},
        },
        "golden_housing": {
            "conn_type": "generic",
            "extra": {"url": f"sqlite:///{sample_dir / 'housing.db'}"},
        },
        "golden_waste": {"conn_type": "fs", "extra": {"path": str(sample_dir / "waste" / "drop")}},
        "golden_portal": {
            "conn_type": "http",
            "host": portal.hostname,
            "port": portal.port,
            "schema": portal.scheme,
            "password": portal_token,
            "extra": {"base_path": portal.path, "page_size": 1000, "timeout": 10},
        },
        "golden_crm": {"conn_type": "generic", "extra": {"url": crm_url}},
    }
    return {f"AIRFLOW_CONN_{cid.upper()}": json.dumps(conn) for cid, conn in connections.items()}


def apply(env: dict[str, str]) -> None:
    os.environ.update(env)


def migrate_metadata_db() -> None:
    """Create or upgrade the SQLite metadata database (``airflow db migrate``)."""
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "db", "migrate"], env=os.environ.copy(), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")
