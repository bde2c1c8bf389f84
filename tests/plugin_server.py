"""The plugin on Airflow's own API server over real HTTP, for the plugin's test modules: a
reported run to serve, and a token for each kind of user the permissions know.

Imported by a test module, the fixtures are that module's own (one server each).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import RUN_DATE

from golden_record import pipeline
from golden_record.extract.declaration import source_systems
from golden_record.run import Run

RUN_KEY = RUN_DATE.isoformat()
RUN_ID = "scheduled__2026-11-02T02:00:00+00:00"
# Test users: name → the simple auth manager's role (the README's Permissions).
USERS = {"viewer": "viewer", "steward": "user", "officer": "op", "admin": "admin"}


@pytest.fixture(scope="module")
def reported(landed_run, tmp_path_factory) -> Path:
    """A run that passed both gates and has its report, as the nightly DAG leaves it."""
    root = tmp_path_factory.mktemp("reported") / "data"
    shutil.copytree(landed_run, root)
    run = Run.of(RUN_KEY, root=root)
    results = {
        "gate_sources": pipeline.quality_gate("sources", run).to_dict(),
        "standardise": {"records": 1},
        "match": {"records": 1},
        "golden": json.loads(run.golden.summary.read_text()),
        "gate_golden": pipeline.quality_gate("golden", run).to_dict(),
        "publish": {"run_key": RUN_KEY, "golden_records": 1, "source_records": 1, "crm": "x"},
    }
    results["extract"] = {
        s: json.loads(run.raw(s).with_suffix(".json").read_text())
        | {"raw_rows": 1, "canonical_rows": 1}
        for s in source_systems()
    }
    pipeline.report(run, results, run_id=RUN_ID)
    # What the stages handed the report, for tests that report the run again.
    (root / "stage_results.json").write_text(json.dumps(results))
    return root


@pytest.fixture(scope="module")
def airflow_api(reported, airflow_home):
    """Airflow's own API server app, with the project's plugins folder, over real HTTP."""
    import uvicorn
    from airflow import plugins_manager
    from airflow.api_fastapi.app import create_app

    from devtools import local_env

    local_env.migrate_metadata_db()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("GOLDEN_RECORD_DATA", str(reported))
        # The API server signs its tokens; a throwaway secret for this server only.
        monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "test-only-secret-" + "x" * 64)
        app = create_app()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the API server did not start"
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        # Tokens as Airflow's sign-in issues them, signed by this server's auth manager.
        tokens = {
            name: get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=name, role=role))
            for name, role in USERS.items()
        }
        yield {
            "base": f"http://127.0.0.1:{port}",
            "plugins": plugins_manager,
            "tokens": tokens,
            # The token most tests act with: a steward's (reads reports, reviews pairs).
            "token": tokens["steward"],
        }
        server.should_exit = True
        thread.join(timeout=10)
