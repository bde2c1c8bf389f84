"""The Airflow plugin serves run reports and Data Docs; the report renders its figures.

The plugin is loaded the way Airflow's API server loads it (its plugins manager, then
the real API server app) and is exercised over HTTP; the report page is rendered in
headless Chromium and read back from its DOM.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import RUN_DATE

from golden_record import pipeline
from golden_record.run import Run

RUN_KEY = RUN_DATE.isoformat()
RUN_ID = "scheduled__2026-11-02T02:00:00+00:00"


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
        for s in ("revenues", "housing", "waste", "portal")
    }
    pipeline.report(run, results, run_id=RUN_ID)
    return root


@pytest.fixture(scope="module")
def airflow_api(reported, airflow_home):
    """Airflow's own API server app, with the project's plugins folder, over real HTTP."""
    import uvicorn
    from airflow import plugins_manager
    from airflow.api_fastapi.app import create_app
    from golden_record_airflow import local_env

    local_env.migrate_metadata_db()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("GOLDEN_RECORD_DATA", str(reported))
        # The API server signs its tokens; a throwaway secret for this server only.
        monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "test-only-secret")
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
        yield {"base": f"http://127.0.0.1:{port}", "plugins": plugins_manager}
        server.should_exit = True
        thread.join(timeout=10)


def test_airflow_loads_the_plugin_with_its_app_and_views(airflow_api):
    plugins_manager = airflow_api["plugins"]
    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(app["url_prefix"] == "/golden-record" for app in apps)
    views, _ = plugins_manager._get_ui_plugins()
    routes = {view["url_route"]: view for view in views}
    assert routes["golden-record-reports"]["destination"] == "nav"
    assert routes["golden-record-run-report"]["href"] == "/golden-record/dag-runs/{RUN_ID}"


def test_the_plugin_serves_the_runs_their_reports_and_data_docs(airflow_api, reported):
    base = airflow_api["base"] + "/golden-record"
    with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
        runs = client.get("/api/runs").json()
        assert [r["run_key"] for r in runs] == [RUN_KEY]
        assert runs[0]["gates"] == {"sources": "passed", "golden": "passed"}
        assert runs[0]["outcome"] == "published"

        page = client.get(f"/runs/{RUN_KEY}/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert f"run {RUN_KEY}" in page.text

        # The external view on a DAG run: Airflow substitutes the URL-encoded run id.
        from urllib.parse import quote

        by_run = client.get(f"/dag-runs/{quote(RUN_ID, safe='')}")
        assert by_run.status_code == 200 and by_run.text == page.text

        facts = json.loads(client.get(f"/runs/{RUN_KEY}/report.json").text)
        for gate in facts["gates"]:
            docs = client.get(f"/runs/{RUN_KEY}/{gate['data_docs']}")
            assert docs.status_code == 200
            assert "text/html" in docs.headers["content-type"] and "<html" in docs.text.lower()

        # Residents' data in the run's folder is never served.
        assert client.get(f"/runs/{RUN_KEY}/golden/golden_records.parquet").status_code == 404
        assert client.get(f"/runs/{RUN_KEY}/..%2F..%2Fcrm.db").status_code == 404
        assert client.get("/runs/1999-01-01/").status_code == 404


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: `make test` installs Debian's chromium package"
    return found


@pytest.mark.browser
def test_the_report_renders_its_figures_in_headless_chromium(airflow_api, reported, tmp_path):
    facts = json.loads((Run.of(RUN_KEY, root=reported).report_json).read_text())
    url = f"{airflow_api['base']}/golden-record/runs/{RUN_KEY}/"
    dom = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert f'id="records-in">{facts["records_in"]:,}<' in html
    assert f'id="golden-records">{facts["golden_records"]:,}<' in html
    assert f'id="duplicate-rate">{facts["duplicate_rate"]:.1%}<' in html
    assert "Published to the CRM" in html
    assert html.count("<svg") >= 2  # the cluster-size and match-weight charts drew
