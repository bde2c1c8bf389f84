"""``make airflow``: Airflow on this machine with this project's DAGs and plugins only.

Starts Airflow's four components (api-server, scheduler, dag-processor, triggerer), as
``airflow standalone`` would but each with the settings a laptop wants: the API server on
127.0.0.1 (``--host`` to open it wider), and no log servers (``--skip-serve-logs``: they
listen on every address for workers elsewhere, and here the API server reads the task
logs from disk). They run in an Airflow home of the project's own, with the five
connections pointing at the demo's sample data (generated if missing), a portal server
serving its customers, and the embedded CRM and golden store in the data folder, so the
DAGs run from the UI as the demo runs them. Prints the URL and where the admin password
is; Ctrl-C stops every part, each component waited for. Airflow's own output goes to
``<airflow home>/airflow.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from devtools import local_env

READY_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 60


class Stop(Exception):
    """Ctrl-C or a termination signal."""


def _stop(_signum: int, _frame: Any) -> None:
    raise Stop


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def _group_running(group: int) -> bool:
    """Whether a live (not zombie) process is left in the process group."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel, zombies and all
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False


def _end(processes: list[subprocess.Popen]) -> None:
    """Stop every component and whatever each started (each is its own process group:
    the scheduler's executor workers and the dag-processor's parsers go with it), asking
    first, then telling, then killing."""
    groups = [process.pid for process in processes]
    for sent, wait in ((signal.SIGINT, STOP_TIMEOUT_SECONDS), (signal.SIGTERM, 10)):
        running = [group for group in groups if _group_running(group)]
        if not running:
            break
        for group in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sent)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(_group_running(g) for g in running):
            for process in processes:
                process.poll()  # reap, so an exited component is no zombie
            time.sleep(0.2)
    for group in groups:
        if _group_running(group):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    for process in processes:
        process.wait()


def components(host: str, port: int) -> dict[str, list[str]]:
    """Each Airflow component and its arguments."""
    return {
        "api-server": ["api-server", "--host", host, "--port", str(port)],
        "scheduler": ["scheduler", "--skip-serve-logs"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer", "--skip-serve-logs"],
    }


def airflow_settings(airflow_home: Path, port: int, workdir: Path) -> dict[str, str]:
    """Airflow's configuration for this project, as environment variables."""
    from golden_record.matching.registry import packaged

    return {
        **local_env.airflow_env(airflow_home),
        "AIRFLOW__API__PORT": str(port),
        # What airflow standalone would set: tasks run here, its users and passwords.
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        # One user of each kind the plugin's permissions know (README, Permissions), to
        # try the stewards' and officers' pages as they see them.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": (
            "admin:admin,steward:user,officer:op,viewer:viewer"
        ),
        # The tasks reach the API server where it surely listens (localhost may be ::1).
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "GOLDEN_RECORD_DATA": str(workdir),
        "GOLDEN_RECORD_MODEL": os.environ.get("GOLDEN_RECORD_MODEL", str(packaged())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address the UI listens on (0.0.0.0: every one)"
    )
    parser.add_argument("--workdir", type=Path, default=local_env.PROJECT_ROOT / "data")
    parser.add_argument(
        "--airflow-home", type=Path, default=local_env.PROJECT_ROOT / "airflow_home"
    )
    parser.add_argument("--people", type=int, default=3000, help="sample size if generated")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    workdir, home = args.workdir.resolve(), args.airflow_home.resolve()
    sample = workdir / "sample"
    url = f"http://localhost:{args.port}"

    settings = airflow_settings(home, args.port, workdir)
    local_env.apply(settings)
    local_env.write_config(home, settings)
    if not (sample / "manifest.json").is_file():
        from devtools.generate import generate

        print(f"generating {args.people} people of sample council data into {sample}")
        from datetime import UTC, datetime

        # Dated today, so the sources look as fresh as a council's on the night.
        generate(args.people, args.seed, sample, as_of=datetime.now(UTC).date(), show_progress=True)
    print("preparing Airflow metadata database (airflow db migrate)")
    local_env.migrate_metadata_db()

    from devtools.generate.portal_api import running_portal

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    token = secrets.token_urlsafe(24)
    log = home / "airflow.log"
    airflow = Path(sys.executable).with_name("airflow")
    processes: list[subprocess.Popen] = []
    with running_portal(sample / "portal" / "customers.jsonl", token) as portal:
        made = local_env.connections_env(
            sample, portal.base_url, token, f"sqlite:///{workdir / 'crm.db'}"
        )
        # A connection set in the shell wins (a system added to GOLDEN_RECORD_SOURCES is
        # reached where its own AIRFLOW_CONN_* says, as README's "Adding a source system").
        env = {**made, **os.environ}
        try:
            with log.open("ab") as output:
                for arguments in components(args.host, args.port).values():
                    processes.append(
                        subprocess.Popen(
                            [str(airflow), *arguments],
                            env=env,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                            # Its own group: stopped whole, on our signal, not the
                            # terminal's (which would reach it before we are ready).
                            start_new_session=True,
                        )
                    )
            print(f"starting Airflow (its log: {log})", flush=True)
            started = time.monotonic()
            while not _healthy(url):
                if any(process.poll() is not None for process in processes):
                    print(f"Airflow stopped while starting:\n{_tail(log)}", file=sys.stderr)
                    return 1
                if time.monotonic() - started > READY_TIMEOUT_SECONDS:
                    print(f"Airflow did not answer at {url} within {READY_TIMEOUT_SECONDS} s")
                    return 1
                time.sleep(1)
            passwords = home / "simple_auth_manager_passwords.json.generated"
            print(f"Airflow is ready at {url}", flush=True)
            print(
                "  sign in as admin (or steward, officer, viewer); the passwords are in "
                f"{passwords}"
            )
            print(f"  DAGs: golden_record_nightly, golden_record_train; data: {workdir}")
            print(f"  golden record reports: {url}/golden-record/")
            print("Ctrl-C stops Airflow and the portal server.", flush=True)
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            print(f"an Airflow component stopped by itself:\n{_tail(log)}", file=sys.stderr)
            return 1
        except Stop:
            # A second Ctrl-C while the components stop would leave them half-stopped.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print("stopping Airflow (each component finishes what it is doing)…", flush=True)
            _end(processes)
            print("stopped", flush=True)
            return 0
        finally:
            # Whatever happened (a component died, a second Ctrl-C): nothing left behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _end(processes)


if __name__ == "__main__":
    sys.exit(main())
