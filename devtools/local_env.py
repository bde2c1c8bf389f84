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

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def airflow_env(airflow_home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(airflow_home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "false",
    }


def connections_env(
    sample_dir: Path,
    portal_url: str,
    portal_token: str,
    crm_url: str,
    database_urls: dict[str, str] | None = None,
) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` for every declared source of the sample (and the CRM)."""
    from devtools.generate.sample_sources import sample_connections

    connections = sample_connections(
        sample_dir, portal_url, portal_token, database_urls=database_urls
    )
    connections["golden_crm"] = {"conn_type": "generic", "extra": {"url": crm_url}}
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


def write_config(airflow_home: Path, settings: dict[str, str]) -> Path:
    """Write ``settings``' ``AIRFLOW__SECTION__KEY`` values into ``airflow.cfg``, so that
    Airflow started from this home without them (``airflow standalone`` by hand) still
    finds this project's DAGs and plugins and no examples, with the secrets its components
    share (made once). Other settings stay as they are; the file is replaced whole,
    never left half written."""
    import configparser
    import secrets

    from golden_record.atomic import write_text

    path = airflow_home / "airflow.cfg"
    config = configparser.ConfigParser(interpolation=None)
    config.optionxform = str  # type: ignore[assignment,method-assign]  # keys as written
    if path.is_file():
        config.read(path, encoding="utf-8")
    # Airflow writes these secrets into the airflow.cfg it generates; without them each
    # component would sign its own tokens and the api-server would refuse the workers'.
    for section, key in (("api_auth", "jwt_secret"), ("api", "secret_key")):
        if not config.has_option(section, key):
            if not config.has_section(section):
                config.add_section(section)
            config.set(section, key, secrets.token_urlsafe(32))
    for name, value in settings.items():
        parts = name.split("__")
        if len(parts) != 3 or parts[0] != "AIRFLOW":
            continue
        section, key = parts[1].lower(), parts[2].lower()
        if not config.has_section(section):
            config.add_section(section)
        config.set(section, key, value)
    from io import StringIO

    text = StringIO()
    config.write(text)
    airflow_home.mkdir(parents=True, exist_ok=True)
    write_text(text.getvalue(), path)
    return path
