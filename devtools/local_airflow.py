"""``make airflow``: Airflow on this machine with this project's DAGs and plugins only.

Starts ``airflow standalone`` (api-server, scheduler, dag-processor, triggerer) in an
Airflow home of the project's own, with the five connections pointing at the demo's
sample data (generated if missing), a portal server serving its customers, and the
embedded CRM and golden store in the data folder, so the DAGs run from the UI as the demo
runs them. Prints the URL and where the admin password is; Ctrl-C stops every part.
Airflow's own output goes to ``<airflow home>/standalone.log``.
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


def _end(process: subprocess.Popen) -> int:
    """Stop standalone and every component it started (its own process group): the
    components are waited for too, since standalone can exit before them (a triggerer
    left running holds the port and the database)."""
    group = process.pid
    code = process.poll()
    for sent, wait in ((signal.SIGINT, STOP_TIMEOUT_SECONDS), (signal.SIGTERM, 10)):
        if not _group_running(group):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sent)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_running(group):
            if code is None:
                code = process.poll()
            time.sleep(0.2)
    if _group_running(group):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    return process.wait() if code is None else code


def airflow_settings(airflow_home: Path, port: int, workdir: Path) -> dict[str, str]:
    """Airflow's configuration for this project, as environment variables."""
    from golden_record.matching.registry import packaged

    return {
        **local_env.airflow_env(airflow_home),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "GOLDEN_RECORD_DATA": str(workdir),
        "GOLDEN_RECORD_MODEL": os.environ.get("GOLDEN_RECORD_MODEL", str(packaged())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
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
    log = home / "standalone.log"
    airflow = Path(sys.executable).with_name("airflow")
    with running_portal(sample / "portal" / "customers.jsonl", token) as portal:
        env = {
            **os.environ,
            **local_env.connections_env(
                sample, portal.base_url, token, f"sqlite:///{workdir / 'crm.db'}"
            ),
        }
        with log.open("ab") as output:
            process = subprocess.Popen(
                [str(airflow), "standalone"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped whole, on our signal
            )
        try:
            print(f"starting Airflow (its log: {log})", flush=True)
            started = time.monotonic()
            while not _healthy(url):
                if process.poll() is not None:
                    print(f"Airflow stopped while starting:\n{_tail(log)}", file=sys.stderr)
                    return 1
                if time.monotonic() - started > READY_TIMEOUT_SECONDS:
                    print(f"Airflow did not answer at {url} within {READY_TIMEOUT_SECONDS} s")
                    _end(process)
                    return 1
                time.sleep(1)
            passwords = home / "simple_auth_manager_passwords.json.generated"
            print(f"Airflow is ready at {url}", flush=True)
            print(f"  sign in as admin; the password is in {passwords}")
            print(f"  DAGs: golden_record_nightly, golden_record_train; data: {workdir}")
            print(f"  golden record reports: {url}/golden-record/")
            print("Ctrl-C stops Airflow and the portal server.", flush=True)
            while process.poll() is None:
                time.sleep(0.5)
            print(f"Airflow stopped by itself:\n{_tail(log)}", file=sys.stderr)
            return 1
        except Stop:
            print("stopping Airflow…", flush=True)
            code = _end(process)
            print(f"stopped (exit {code})", flush=True)
            return 0
        finally:
            if process.poll() is None:
                _end(process)


if __name__ == "__main__":
    sys.exit(main())
