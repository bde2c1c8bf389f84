"""``make compose-test``: the production stack (docker-compose.yaml) run for real here.

On a machine with no image registry it builds what the stack needs (images.py), starts
every service on the host's network listening on 127.0.0.1 only (host-network.yaml),
and checks what a council's data engineer would: the migrations and the sample sources
finish, the API answers with no DAG import errors, a night triggered with no logical
date succeeds and publishes to the CRM on PostgreSQL every record the sample holds, the
golden store is on its own PostgreSQL, and running the date again publishes nothing new.
The stack is removed afterwards, volumes and all. Skips, saying why, without root or a
Docker engine. Not part of ``make test``: it takes minutes and gigabytes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from devtools.compose import images

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "golden-record-compose-test"
OVERRIDE = Path(__file__).with_name("host-network.yaml")


class Skip(Exception):
    """This machine cannot run the stack (no root, no Docker)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _export(work: Path) -> Path:
    """The working tree's tracked files, as a clone would have them, in a folder of its
    own (the stack's .env is written there, never into the checkout)."""
    tree = work / "project"
    tree.mkdir()
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = tree / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return tree


def _env_file(tree: Path, given: dict[str, str] | None = None) -> dict[str, str]:
    """.env from .env.example with fresh secrets and free ports on 127.0.0.1 (``given``:
    the values of an earlier call, kept, with any changed)."""
    values = given or {
        "AIRFLOW_DB_PASSWORD": secrets.token_urlsafe(16),
        "CRM_DB_PASSWORD": secrets.token_urlsafe(16),
        "STORE_DB_PASSWORD": secrets.token_urlsafe(16),
        "PARKING_DB_PASSWORD": secrets.token_urlsafe(16),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(48),
        "PORTAL_TOKEN": secrets.token_urlsafe(16),
        "SAMPLE_PEOPLE": os.environ.get("SAMPLE_PEOPLE", "2000"),
        "AIRFLOW_API_PORT": str(_free_port()),
        "AIRFLOW_DB_PORT": str(_free_port()),
        "CRM_DB_PORT": str(_free_port()),
        "STORE_DB_PORT": str(_free_port()),
        "PARKING_DB_PORT": str(_free_port()),
    }
    lines = []
    for line in (tree / ".env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values[key]}" if key in values and "=" in line else line)
    (tree / ".env").write_text("\n".join(lines) + "\n")
    return values


def _compose_file(tree: Path, *profiles: str) -> Path:
    """docker-compose.yaml with the host-network override merged in (and the services of
    ``profiles``), without the ports it publishes (host networking has no port mappings:
    each service listens on its own port of 127.0.0.1)."""
    chosen = [arg for profile in profiles for arg in ("--profile", profile)]
    merged = subprocess.run(
        ["docker-compose", "-p", PROJECT, *chosen, "-f", "docker-compose.yaml",
         "-f", str(OVERRIDE), "config"],
        cwd=tree, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    config = yaml.safe_load(merged)
    for name, service in list(config["services"].items()):
        service.pop("ports", None)
        # A profile's services start with the rest when it is chosen, else not at all
        # (this file is all docker-compose is given).
        wanted = service.pop("profiles", None)
        if wanted and not set(wanted) & set(profiles):
            del config["services"][name]
    path = tree / "compose-on-the-host.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _compose(tree: Path, compose: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["docker-compose", "-p", PROJECT, "-f", str(compose), *args],
        cwd=tree, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(f"docker-compose {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _container(service: str) -> str:
    return f"{PROJECT}_{service}_1"


def _state(service: str) -> dict[str, Any]:
    done = subprocess.run(
        ["docker", "inspect", "--format", "{{json .State}}", _container(service)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return json.loads(done.stdout) if done.returncode == 0 else {}


def _wait(what: str, check: Any, timeout: float, every: float = 3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _exited_cleanly(service: str) -> bool:
    state = _state(service)
    if state.get("Status") == "exited" and state.get("ExitCode") != 0:
        logs = subprocess.run(
            ["docker", "logs", "--tail", "40", _container(service)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        raise AssertionError(f"{service} exited {state['ExitCode']}:\n{logs.stderr}{logs.stdout}")
    return state.get("Status") == "exited"


class Api:
    """Airflow's REST API as the admin the stack signs in."""

    def __init__(self, port: str):
        self.base = f"http://127.0.0.1:{port}"
        self.token: str | None = None

    def call(self, path: str, body: Any = None, method: str = "GET") -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read().decode() or "null")

    def answers(self) -> bool:
        try:
            return bool(self.call("/api/v2/version"))
        except OSError:
            return False

    def sign_in(self) -> None:
        passwords = subprocess.run(
            ["docker", "exec", _container("airflow-apiserver"), "cat",
             "/opt/airflow/simple_auth_manager_passwords.json.generated"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        self.token = self.call(
            "/auth/token",
            {"username": "admin", "password": json.loads(passwords)["admin"]},
            "POST",
        )["access_token"]

    def runs(self) -> list[dict]:
        return list(self.call("/api/v2/dags/golden_record_nightly/dagRuns")["dag_runs"])


def _sql(port: str, user: str, password: str, database: str, query: str) -> Any:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"postgresql+psycopg2://{user}:{password}@127.0.0.1:{port}/{database}")
    try:
        with engine.connect() as connection:
            return connection.execute(text(query)).scalar()
    finally:
        engine.dispose()


def _every_run_finished(api: Api) -> list[dict] | None:
    runs = api.runs()
    states = {run["state"] for run in runs}
    return runs if runs and states <= {"success", "failed"} else None


def check_the_stack(
    tree: Path, compose: Path, settings: dict[str, str], timings: dict[str, float]
) -> dict:
    """Start the stack ``compose`` describes and check it; return what was measured."""
    started = time.monotonic()
    _compose(tree, compose, "up", "-d", "--no-build")
    _wait("airflow-init to finish", lambda: _exited_cleanly("airflow-init"), 300)
    _wait("the sample sources", lambda: _exited_cleanly("sample-sources"), 300)
    _wait("parking loaded into PostgreSQL", lambda: _exited_cleanly("sample-parking"), 300)
    api = Api(settings["AIRFLOW_API_PORT"])
    _wait("Airflow's API", api.answers, 300)
    timings["stack up (s)"] = round(time.monotonic() - started, 1)
    api.sign_in()
    dags = _wait(
        "the DAGs to be parsed",
        lambda: {d["dag_id"] for d in api.call("/api/v2/dags")["dags"]} or None,
        300,
    )
    assert dags == {"golden_record_nightly", "golden_record_train"}, dags
    assert api.call("/api/v2/importErrors")["total_entries"] == 0

    # Unpaused, the scheduler runs the latest night too; the triggered run has no
    # logical date (Airflow 3 allows it): keyed by today.
    started = time.monotonic()
    api.call("/api/v2/dags/golden_record_nightly", {"is_paused": False}, "PATCH")
    api.call("/api/v2/dags/golden_record_nightly/dagRuns", {"logical_date": None}, "POST")
    runs = _wait("the nights", lambda: _every_run_finished(api), 900, every=5)
    timings["nights (s)"] = round(time.monotonic() - started, 1)
    assert {run["state"] for run in runs} == {"success"}, runs
    # A task's log as the UI shows it: read by the API server from the logs volume.
    run_id = urllib.parse.quote(runs[0]["dag_run_id"], safe="")
    log = api.call(
        f"/api/v2/dags/golden_record_nightly/dagRuns/{run_id}/taskInstances/publish/logs/1"
    )
    text = json.dumps(log)
    assert len(log["content"]) > 3 and "golden_record" in text, text[:2000]
    assert "Could not read served logs" not in text and "No logs found" not in text
    manifest = subprocess.run(
        ["docker", "exec", _container("sample-portal"), "cat", "/sources/manifest.json"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    generated = json.loads(manifest)["records"]
    # Parking is read from its PostgreSQL database, its residents' permits only.
    parking_db = (settings["PARKING_DB_PORT"], "parking", settings["PARKING_DB_PASSWORD"])
    residents = "SELECT COUNT(*) FROM permit_holder WHERE holder_type = 'RESIDENT'"
    parking = _sql(*parking_db, "parking", residents)
    assert 0 < parking <= generated["parking"], (parking, generated)
    records = sum(generated.values()) - generated["parking"] + parking
    crm = (settings["CRM_DB_PORT"], "crm", settings["CRM_DB_PASSWORD"], "crm")
    sources = _sql(*crm, "SELECT COUNT(*) FROM crm_golden_customer_source")
    golden = _sql(*crm, "SELECT COUNT(*) FROM crm_golden_customer")
    assert sources == records, (sources, records)
    from_parking = "SELECT COUNT(*) FROM crm_golden_customer_source WHERE source_system = 'parking'"
    assert _sql(*crm, from_parking) == parking
    store = (settings["STORE_DB_PORT"], "store", settings["STORE_DB_PASSWORD"], "golden_store")
    current = "SELECT COUNT(*) FROM golden_version WHERE valid_to_run IS NULL AND status = 'active'"
    assert _sql(*store, current) == golden

    # The date again: nothing new for the CRM.
    feed = _sql(*crm, "SELECT COUNT(*) FROM crm_change_feed")
    started = time.monotonic()
    api.call("/api/v2/dags/golden_record_nightly/dagRuns", {"logical_date": None}, "POST")
    runs = _wait("the rerun", lambda: _every_run_finished(api), 600, every=5)
    timings["rerun (s)"] = round(time.monotonic() - started, 1)
    assert {run["state"] for run in runs} == {"success"}, runs
    assert _sql(*crm, "SELECT COUNT(*) FROM crm_change_feed") == feed
    assert _sql(*crm, "SELECT COUNT(*) FROM crm_golden_customer") == golden
    return {"source records": records, "golden records": golden, "nights": len(runs)}


def _master(port: str = "8090") -> dict[str, Any]:
    """What the Spark master's UI says of its workers and applications ({} if down)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/", timeout=10) as answer:
            return dict(json.loads(answer.read()))
    except OSError:
        return {}


def _alive_workers() -> int:
    return int(_master().get("aliveworkers", 0))


def check_spark(tree: Path, settings: dict[str, str], timings: dict[str, float]) -> dict:
    """The spark profile on the running stack: a master and two workers, each a
    container of its own (no shared /tmp), the tasks the driver; the same night matched
    again in full on Spark gives the golden records DuckDB gave (nothing new for the
    CRM)."""
    settings = _env_file(
        tree,
        settings
        | {
            "GOLDEN_RECORD_BACKEND": "spark",
            "SPARK_WORKER_CORES": "1",
            "SPARK_WORKER_MEMORY": "2g",
            "SPARK_EXECUTOR_MEMORY": "1g",
            # The driver as small as the issue that found it running out at 31,000 records.
            "GOLDEN_RECORD_SPARK_DRIVER_MEMORY": "2g",
            # Every night's records scored, standardised and clustered on the cluster.
            "GOLDEN_RECORD_SPARK_FROM": "1000",
        },
    )
    compose = _compose_file(tree, "spark")
    api = Api(settings["AIRFLOW_API_PORT"])
    started = time.monotonic()
    _compose(tree, compose, "up", "-d", "--no-build", "--scale", "spark-worker=2")
    _wait("two live Spark workers", lambda: _alive_workers() == 2, 300)
    _wait("Airflow's API", api.answers, 300)
    api.sign_in()
    timings["spark up (s)"] = round(time.monotonic() - started, 1)
    workers = {
        line.split()[0]
        for line in _compose(tree, compose, "ps", "spark-worker").splitlines()
        if line.startswith(f"{PROJECT}_spark-worker_")
    }
    assert len(workers) == 2, workers
    crm = (settings["CRM_DB_PORT"], "crm", settings["CRM_DB_PASSWORD"], "crm")
    feed = _sql(*crm, "SELECT COUNT(*) FROM crm_change_feed")
    golden = _sql(*crm, "SELECT COUNT(*) FROM crm_golden_customer")
    started = time.monotonic()
    api.call(
        "/api/v2/dags/golden_record_nightly/dagRuns",
        {"logical_date": None, "conf": {"full_refresh": True}},
        "POST",
    )
    runs = _wait("the night on Spark", lambda: _every_run_finished(api), 1200, every=5)
    timings["night on spark (s)"] = round(time.monotonic() - started, 1)
    assert {run["state"] for run in runs} == {"success"}, runs
    # The night's tasks were applications of the cluster (standardising, scoring and
    # clustering all on it: GOLDEN_RECORD_SPARK_FROM is below the night's records).
    master = _master()
    applications = [*master.get("completedapps", []), *master.get("activeapps", [])]
    assert applications, master
    changed = _sql(*crm, "SELECT COUNT(*) FROM crm_change_feed") - feed
    assert _sql(*crm, "SELECT COUNT(*) FROM crm_golden_customer") == golden
    assert changed == 0, f"{changed} change(s) for the CRM from the same records on Spark"
    return {
        "spark workers": len(workers),
        "spark applications": len(applications),
        "changes from spark": changed,
    }


def main() -> int:
    try:
        images.check_machine()
    except images.CannotBuild as exc:
        print(f"compose-test skipped: {exc}")
        return 0
    timings: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="golden-record-compose-"))
    tree = _export(work)
    started = time.monotonic()
    built = images.build_all(tree)
    timings["images (s)"] = round(time.monotonic() - started, 1)
    settings = _env_file(tree)
    compose = None
    try:
        compose = _compose_file(tree)
        found = check_the_stack(tree, compose, settings, timings)
        if "--spark" in sys.argv[1:]:
            # Rewrites the same compose file, with the spark profile, once .env says so:
            # the teardown below then takes the workers down too.
            found |= check_spark(tree, settings, timings)
    except BaseException:
        print(f"compose-test failed: the stack's logs are in {work / 'stack.log'}")
        raise
    finally:
        if compose is not None:
            logs = _compose(tree, compose, "logs", "--no-color", "--tail", "200", check=False)
            (work / "stack.log").write_text(logs)
            _compose(tree, compose, "down", "-v", "--remove-orphans", check=False)
    print(json.dumps({"passed": True, **found, **timings, "images (MB)": built}, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
