"""The docker-compose stack, checked offline against the Compose specification's schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"


def test_compose_file_is_valid_against_the_compose_spec():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_airflow_component_and_both_databases():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    commands = {name: service.get("command") for name, service in services.items()}
    for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert any(c and component in c for c in commands.values()), component
    assert {"airflow-db", "crm-db", "airflow-init", "sample-portal"} <= set(services)
    environment = services["airflow-scheduler"]["environment"]
    assert environment["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_every_secret_the_compose_file_uses_is_in_the_env_example():
    used = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used <= documented, used - documented


def test_airflow_services_mount_the_project_and_run_the_image_built_from_the_lock_file():
    compose = yaml.safe_load(COMPOSE.read_text())
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        service = compose["services"][name]
        mounts = {volume.split(":")[1] for volume in service["volumes"]}
        for folder in ("dags", "src"):
            assert f"/opt/golden-record/{folder}" in mounts, (name, folder)
        assert service["image"] == "golden-record:latest" and service["build"] == "."
        # The CRM is its own database server, not Airflow's.
        crm = service["environment"]["AIRFLOW_CONN_GOLDEN_CRM"]
        assert "@crm-db:${CRM_DB_PORT:-5432}/crm" in crm and "airflow-db" not in crm
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml uv.lock" in dockerfile
    assert "uv sync --frozen" in dockerfile  # the lock file, never a fresh resolution
    assert (ROOT / ".env").exists() is False or ".env" in (ROOT / ".gitignore").read_text()


def test_the_spark_profile_runs_the_locks_spark_wired_to_the_tasks():
    import tomllib

    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    pyspark = next(p["version"] for p in lock["package"] if p["name"] == "pyspark")
    for name in ("spark-master", "spark-worker"):
        assert services[name]["profiles"] == ["spark"]
    # The driver (the task) and the cluster must run the same Spark: the official image of
    # the lock's version for the master; the worker from this project's image (the lock's
    # pyspark, with this package for the executors' pandas steps), its code the tasks'.
    assert services["spark-master"]["image"] == f"apache/spark:{pyspark}"
    worker = services["spark-worker"]
    assert worker["image"] == services["airflow-scheduler"]["image"]
    assert "spark://spark-master:7077" in worker["command"]
    assert worker["environment"]["PYSPARK_PYTHON"] == "/opt/venv/bin/python"
    assert "./src:/opt/golden-record/src:ro" in worker["volumes"]
    environment = services["airflow-scheduler"]["environment"]
    assert environment["GOLDEN_RECORD_BACKEND"] == "${GOLDEN_RECORD_BACKEND:-duckdb}"
    assert "spark://spark-master:7077" in environment["GOLDEN_RECORD_SPARK_MASTER"]
    assert "spark.driver.host=airflow-scheduler" in environment["GOLDEN_RECORD_SPARK_CONF"]
    # Splink's checkpoints on storage the driver and the workers share at one path.
    checkpoints = environment["GOLDEN_RECORD_SPARK_CHECKPOINT_DIR"]
    shared = [
        v.split(":")[1]
        for v in worker["volumes"]
        if v in services["airflow-scheduler"]["volumes"] and not v.endswith(":ro")
    ]
    assert any(checkpoints.startswith(f"{folder}/") for folder in shared), (checkpoints, shared)
    # The golden store on PostgreSQL, its own server.
    store = environment["AIRFLOW_CONN_GOLDEN_STORE"]
    assert "@store-db:${STORE_DB_PORT:-5432}/golden_store" in store
    assert "openjdk-17-jre-headless" in (ROOT / "Dockerfile").read_text()


def test_every_named_volume_the_runtime_user_mounts_is_its_own_in_the_image():
    """A named volume starts as the image's folder at its mount point: the folders the
    project's services mount are created and given to the image's user, or the service
    (running as that user) cannot write there."""
    compose = yaml.safe_load(COMPOSE.read_text())
    named = set(compose["volumes"])
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    made = set(re.findall(r"mkdir -p ([^&\n]+)", dockerfile)[0].split())
    owned = set(re.findall(r"chown -R airflow ([^&\n]+)", dockerfile)[0].split())
    mounted = set()
    for service in compose["services"].values():
        if service.get("image") != "golden-record:latest":
            continue
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source in named:
                mounted.add(target)
    assert {"/data", "/sources"} <= mounted
    assert mounted <= made & owned, sorted(mounted - (made & owned))


def test_the_image_keeps_no_package_cache():
    # uv's download cache was 2.7 GB of the image's 4.97 GB.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "UV_NO_CACHE=1" in dockerfile
    assert "pip install --no-cache-dir" in dockerfile
    assert "rm -rf /var/lib/apt/lists/*" in dockerfile
