"""Every DAG imports cleanly, has the shape we promise, and parses without heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from golden_record.extract.declaration import source_systems

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"golden_record_nightly", "golden_record_train"} <= set(dagbag.dag_ids)


def test_training_is_its_own_rare_dag_and_nightly_never_trains(dagbag):
    train = dagbag.dags["golden_record_train"]
    assert train.catchup is False
    assert train.schedule == "@monthly"
    assert not any("train" in task_id for task_id in dagbag.dags["golden_record_nightly"].task_ids)


def test_nightly_dag_shape(dagbag):
    dag = dagbag.dags["golden_record_nightly"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    task_ids = set(dag.task_ids)
    extracts = {f"extract_{s}" for s in source_systems()}
    stages = {
        "gate_sources", "standardise", "match", "build_golden", "gate_golden", "publish", "retain"
    }  # fmt: skip
    assert extracts | stages | {"report", "outcome"} == task_ids
    # The four extracts run in parallel; all must pass the sources gate before standardise.
    assert dag.get_task("gate_sources").upstream_task_ids == extracts
    assert dag.get_task("standardise").upstream_task_ids == {"gate_sources"}
    for task_id in extracts:
        assert dag.get_task(task_id).upstream_task_ids == set()
    # Nothing publishes unless the golden gate passed.
    assert dag.get_task("gate_golden").upstream_task_ids == {"build_golden"}
    assert dag.get_task("publish").upstream_task_ids == {"gate_golden"}
    # Retention only after a published night; the report after it.
    assert dag.get_task("retain").upstream_task_ids == {"publish"}
    assert dag.get_task("report").upstream_task_ids == {"retain"}
    # The report is written whatever happened; the last task carries the run's state.
    assert dag.get_task("report").trigger_rule == "all_done"
    assert dag.get_task("outcome").upstream_task_ids == {"report"}
    assert dag.get_task("outcome").downstream_task_ids == set()
    outlets = dag.get_task("publish").outlets
    assert [asset.name for asset in outlets] == ["golden_customer_records"]


def test_dag_files_do_not_import_heavy_libraries_at_parse_time():
    code = (
        "import runpy, sys, json; "
        f"[runpy.run_path(p) for p in {sorted(str(p) for p in DAGS.glob('*.py'))!r}]; "
        "print(json.dumps(sorted(m for m in ('splink', 'great_expectations', 'duckdb', "
        "'golden_record.pipeline', 'golden_record.matching') if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_a_task_starts_without_the_libraries_only_other_stages_use():
    """Every task imports the stages (``golden_record.pipeline``) in a process of its own:
    a gate, the golden build or a file drop's extract must not pay at its start for
    Splink, a database toolkit or an HTTP client (a second of each of fourteen tasks)."""
    code = (
        "import sys, json; import golden_record.pipeline; "
        "print(json.dumps(sorted(m for m in ('splink', 'duckdb', 'sqlalchemy', 'httpx', "
        "'great_expectations') if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_a_declared_source_gets_its_extract_task_and_a_broken_declaration_an_import_error(
    tmp_path, monkeypatch
):
    """The DAG's extract tasks are the declared sources (GOLDEN_RECORD_SOURCES), read as the
    file is parsed; a declaration with a mistake is the DAG's import error, naming it."""
    from airflow.dag_processing.dagbag import DagBag

    from golden_record.extract.declaration import PACKAGED

    declarations = tmp_path / "sources.toml"
    badges = PACKAGED.read_text().split("[sources.revenues]")[1].split("[sources.housing]")[0]
    declarations.write_text(
        PACKAGED.read_text()
        + "[sources.blue_badges]"
        + badges.replace('"golden_revenues"', '"golden_blue_badges"').replace(
            "[sources.revenues.canonical]", "[sources.blue_badges.canonical]"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(declarations))
    dag = DagBag(dag_folder=str(DAGS / "golden_record_nightly.py")).dags["golden_record_nightly"]
    assert "extract_blue_badges" in dag.task_ids
    assert "extract_blue_badges" in dag.get_task("gate_sources").upstream_task_ids

    declarations.write_text(PACKAGED.read_text().replace('kind = "sql"', 'kind = "sqll"', 1))
    broken = DagBag(dag_folder=str(DAGS / "golden_record_nightly.py"))
    (error,) = broken.import_errors.values()
    assert f"{declarations}, source 'revenues', field 'kind': unknown kind 'sqll'" in error
