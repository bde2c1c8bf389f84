"""``make airflow``: Airflow's UI on this machine with this project's DAGs only, whose
connections reach the demo's data, and which stops whole on Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from devtools import local_env

ROOT = Path(__file__).resolve().parents[1]


def test_the_airflow_config_is_written_with_the_project_s_folders_and_keeps_the_rest(tmp_path):
    home = tmp_path / "airflow_home"
    home.mkdir()
    (home / "airflow.cfg").write_text(
        "[core]\n# Airflow's own comment\ndags_folder = /elsewhere/dags\nload_examples = True\n"
        "parallelism = 7\n[webserver]\nsecret_key = 50%off\n"
    )
    settings = local_env.airflow_env(home)
    local_env.write_config(home, {**settings, "GOLDEN_RECORD_DATA": "/not/airflow"})
    import configparser

    config = configparser.ConfigParser(interpolation=None)
    config.read(home / "airflow.cfg")
    assert config["core"]["dags_folder"] == str(ROOT / "dags")
    # No plugins folder of the project's: the plugin arrives by its entry point.
    assert config["core"]["plugins_folder"] == str(home / "plugins")
    assert config["core"]["load_examples"] == "False"
    assert config["core"]["parallelism"] == "7"
    assert config["webserver"]["secret_key"] == "50%off"
    assert config["database"]["sql_alchemy_conn"] == f"sqlite:///{home / 'airflow.db'}"
    # The secrets every component must share are made once and kept.
    secret = config["api_auth"]["jwt_secret"]
    assert len(secret) > 30
    local_env.write_config(home, settings)
    again = configparser.ConfigParser(interpolation=None)
    again.read(home / "airflow.cfg")
    assert again["api_auth"]["jwt_secret"] == secret
    assert "golden_record_data" not in {k for s in config.sections() for k in config[s]}


@pytest.mark.postgres
def test_airflow_s_metadata_database_migrates_on_postgresql(postgres, tmp_path):
    """Compose keeps Airflow's metadata on PostgreSQL (``postgresql+psycopg2``), where
    Airflow 3 opens an async engine beside the sync one: every component's start failed
    there while the lock had no async driver (``No module named 'asyncpg'``)."""
    from sqlalchemy import create_engine, text

    url = postgres.create_database("airflow_metadata")
    env = {
        **os.environ,
        **local_env.airflow_env(tmp_path / "airflow_home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    for command in (["db", "migrate"], ["db", "check"]):
        done = subprocess.run(
            [airflow, *command], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert connection.execute(text("SELECT COUNT(*) FROM dag_run")).scalar() == 0
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, token: str | None = None, body: dict | None = None, method: str = "GET"):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
        return response.status, (json.loads(text) if text.startswith(("{", "[")) else text)


def _wait(what: str, check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.e2e
def test_make_airflow_runs_the_project_s_dags_on_the_demo_s_data_and_stops_on_ctrl_c(
    sample, tmp_path
):
    work, home, port = tmp_path / "data", tmp_path / "airflow_home", _free_port()
    shutil.copytree(sample.out, work / "sample")
    env = dict(os.environ)
    for name in [k for k in env if k.startswith(("AIRFLOW", "GOLDEN_RECORD_"))]:
        del env[name]
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_airflow", "--port", str(port)]
        + ["--workdir", str(work), "--airflow-home", str(home)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    said: list[str] = []
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()

    def heard(text: str) -> bool:
        while not lines.empty():
            said.append(lines.get())
        return any(text in line for line in said)

    url = f"http://localhost:{port}"
    try:
        _wait("Airflow to be ready", lambda: heard("Airflow is ready") or process.poll(), 300)
        assert process.poll() is None, "".join(said)
        assert f"Airflow is ready at {url}" in "".join(said)
        passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        assert str(home / "simple_auth_manager_passwords.json.generated") in "".join(said)
        _, answer = _request(
            f"{url}/auth/token", body={"username": "admin", "password": passwords["admin"]},
            method="POST",
        )  # fmt: skip
        token = answer["access_token"]

        def dag_ids():
            _, dags = _request(f"{url}/api/v2/dags?limit=100", token)
            return {d["dag_id"] for d in dags["dags"]} or None

        # Only this project's DAGs: no examples.
        assert _wait("the DAGs to be parsed", dag_ids, 180) == {
            "golden_record_nightly",
            "golden_record_train",
        }
        status, page = _request(f"{url}/golden-record/", token)
        assert status == 200 and "Golden record" in page
        # Nothing listens beyond this machine (no log servers, the UI on 127.0.0.1).
        started = _descendants(process.pid)
        addresses = _listening_addresses(started)
        assert addresses and addresses <= {"127.0.0.1", "::1"}, addresses

        # Unpaused, the scheduler starts the latest night's run, which reaches every
        # source through the connections and publishes to the demo's CRM.
        dag = f"{url}/api/v2/dags/golden_record_nightly"
        _request(dag, token, {"is_paused": False}, "PATCH")

        def finished():
            _, runs = _request(f"{dag}/dagRuns", token)
            states = {r["state"] for r in runs["dag_runs"]}
            return states if states and states <= {"success", "failed"} else None

        assert _wait("the scheduled nightly run", finished, 420) == {"success"}
        with sqlite3.connect(work / "crm.db") as crm:
            assert crm.execute("SELECT COUNT(*) FROM golden_customer").fetchone()[0] > 0
        _a_steward_applies_a_merge_now(url, work, passwords["steward"], dag)
    finally:
        if process.poll() is None:
            # Ctrl-C twice, as an impatient user does: still a clean stop.
            process.send_signal(signal.SIGINT)
            time.sleep(1)
            process.send_signal(signal.SIGINT)
        code = process.wait(timeout=120)
    heard("")
    assert code == 0, "".join(said)
    assert "Traceback" not in "".join(said)
    _wait("the port to close", lambda: not _listening(port), 30)
    # Every component stopped with it (a triggerer once outlived standalone), and all
    # they started: by their Airflow home, and by the processes seen running (an API
    # server's title overwrites its environment).
    assert _wait("every component to stop", lambda: not _running_with_home(home), 30)
    assert not [pid for pid in started if _alive(pid)]


def _a_steward_applies_a_merge_now(url: str, work: Path, password: str, dag: str) -> None:
    """A steward decides that two records in different golden records are one person and
    presses Apply decisions now: Airflow clears the night's match and what follows, the
    scheduler reruns them, and the CRM's feed says one golden ID merged into the other."""
    import re

    import pandas as pd

    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.stewardship import queue

    _, answer = _request(
        f"{url}/auth/token", body={"username": "steward", "password": password}, method="POST"
    )
    token = answer["access_token"]
    pair = queue(GoldenStore(default_store_url(work)), limit=1).iloc[0]
    with sqlite3.connect(work / "crm.db") as crm:
        golden_of = dict(
            crm.execute(
                "SELECT source_system || ':' || source_record_id, golden_id "
                "FROM crm_golden_customer_source"
            ).fetchall()
        )
        last = crm.execute("SELECT MAX(sequence) FROM crm_change_feed").fetchone()[0]
    apart = {golden_of[pair.record_a], golden_of[pair.record_b]}
    assert len(apart) == 2
    form = urllib.parse.urlencode(
        {"record_a": pair.record_a, "record_b": pair.record_b, "decision": "same",
         "reason": "same person: checked the council tax account"}
    ).encode()  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    decided = urllib.request.Request(
        f"{url}/golden-record/review/decide", data=form, headers=headers, method="POST"
    )
    with urllib.request.urlopen(decided, timeout=60) as response:
        assert response.status == 200  # redirected to the next pair
    _, queue_page = _request(f"{url}/golden-record/review", token)
    night = re.search(r'name="night" value="([0-9-]+)"', queue_page)
    assert night and "Apply decisions now" in queue_page
    applied = urllib.request.Request(
        f"{url}/golden-record/review/apply-now",
        data=urllib.parse.urlencode({"night": night.group(1)}).encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(applied, timeout=60) as response:
        page = response.read().decode()
    assert "Airflow cleared" in page and "match" in page, page
    _, runs = _request(f"{dag}/dagRuns", token)
    assert {r["state"] for r in runs["dag_runs"]} & {"queued", "running"}, runs
    [run] = runs["dag_runs"]
    _, match = _request(
        f"{dag}/dagRuns/{urllib.parse.quote(run['dag_run_id'])}/taskInstances/match", token
    )
    assert match["note"] == "stewards' decisions applied now by steward", match

    def rerun_finished():
        _, runs = _request(f"{dag}/dagRuns", token)
        states = {r["state"] for r in runs["dag_runs"]}
        return states if states <= {"success", "failed"} else None

    assert _wait("the night's tasks to run again", rerun_finished, 420) == {"success"}
    with sqlite3.connect(work / "crm.db") as crm:
        changes = pd.read_sql(
            "SELECT event, golden_id, related_golden_id FROM crm_change_feed WHERE sequence > ?",
            crm,
            params=(last,),
        )
    merged = changes[changes["event"] == "merged"]
    assert len(merged) == 1 and {*merged.iloc[0][["golden_id", "related_golden_id"]]} == apart


def _running_with_home(home: Path) -> list[str]:
    """Live processes whose AIRFLOW_HOME is ``home``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            environ = (proc / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        if state != "Z" and f"AIRFLOW_HOME={home}".encode() in environ:
            found.append(proc.name)
    return found


def _stat(pid: str) -> list[str]:
    """A process's state, parent, group... (after its name, which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _alive(pid: str) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


def _descendants(root: int) -> list[str]:
    """The live processes below ``root``."""
    parent = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            parent[proc.name] = _stat(proc.name)[1]
        except (OSError, IndexError):
            continue
    found, frontier = [], {str(root)}
    while frontier:
        children = {pid for pid, ppid in parent.items() if ppid in frontier}
        found += sorted(children)
        frontier = children
    return [pid for pid in found if _alive(pid)]


def _listening_addresses(pids: list[str]) -> set[str]:
    """The addresses these processes listen on (TCP)."""
    import ipaddress

    sockets: set[str] = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                sockets.add(target[8:-1])
    found = set()
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in sockets:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(local.split(":")[0])
            # The kernel writes each 32-bit word in host (little-endian) order.
            ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, size, 4))
            address = ipaddress.ip_address(ordered)
            mapped = getattr(address, "ipv4_mapped", None)
            found.add(str(mapped or address))
    return found


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0
