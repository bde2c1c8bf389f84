"""The built wheel works outside the checkout, with only the extras a job needs.

Builds the wheel and installs it into a fresh virtual environment with the locked core
dependencies only (no extras): ``golden-record match`` runs there with no Airflow, Great
Expectations, FastAPI or Faker present. Then the ``quality`` extra is added and one
night's stages (extract to publish) run from a folder outside the checkout: SQL,
expectations, survivorship rules and the packaged model travel inside the wheel as package
data. The sample council is generated here, by the checkout's ``devtools`` (which the
wheel does not ship). With the ``airflow`` extra, Airflow finds the plugin through its
entry point, with no plugins folder and nothing on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from devtools.generate import generate
from devtools.generate.canonical_sample import canonical_records
from devtools.generate.portal_api import running_portal

ROOT = Path(__file__).resolve().parents[1]


ONE_NIGHT = """
import json, sys
from pathlib import Path

import golden_record
from golden_record import ApiSettings, DropSettings, Run, SourceSettings, run_night
from golden_record.matching import registry

sample, data, crm, portal_url = sys.argv[1:5]
sample, data, crm = Path(sample), Path(data), Path(crm)
settings = SourceSettings(
    database_urls={
        "revenues": f"sqlite:///{sample / 'revenues.db'}",
        "housing": f"sqlite:///{sample / 'housing.db'}",
        "parking": f"sqlite:///{sample / 'parking.db'}",
    },
    drops={
        "waste": DropSettings(sample / "waste" / "drop"),
        "libraries": DropSettings(sample / "libraries" / "drop"),
    },
    apis={"portal": ApiSettings(base_url=portal_url, token="t")},
)
night = run_night(Run.of("2026-11-02", root=data), settings, f"sqlite:///{crm}",
                  model_path=registry.packaged())
assert night.outcome == "published", night.failed or night.stopped_because
count = night.results["publish"]["golden_records"]
print(json.dumps({"package": golden_record.__file__, "published": count}))
"""

ABSENT = """
import importlib.util, json
print(json.dumps([m for m in ("airflow", "great_expectations", "fastapi", "faker", "pyspark",
                              "devtools") if importlib.util.find_spec(m) is not None]))
"""


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _uv() -> str:
    uv = Path(sys.executable).with_name("uv")
    return str(uv) if uv.is_file() else "uv"


def _locked_requirements(tmp_path: Path, *extras: str) -> Path:
    """The lock's pins for the core and the given extras (no dev tools)."""
    name = "-".join(("requirements", *extras)) + ".txt"
    options = [a for extra in extras for a in ("--extra", extra)]
    _run(
        [_uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet",
         *options, "-o", str(tmp_path / name)],
        ROOT,
    )  # fmt: skip
    return tmp_path / name


def test_the_core_wheel_matches_with_no_extras_and_runs_a_night_with_quality(tmp_path):
    uv = _uv()
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    _run([uv, "build", "--wheel", "--out-dir", str(dist), "--quiet"], ROOT)
    wheel = next(dist.glob("golden_record-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert (
            "golden_record.airflow.plugin:GoldenRecordPlugin" in archive.read(entry_points).decode()
        )
    assert not [n for n in names if n.startswith("devtools/") or "/devtools/" in n]
    assert "golden_record/airflow/templates/review_queue.html" in names

    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], work)
    python = venv / "bin" / "python"
    core = _locked_requirements(tmp_path)
    _run([uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(core),
          str(wheel)], work)  # fmt: skip
    # Nothing heavy the core does not need; and the checkout's devtools are not reachable.
    assert json.loads(_run([str(python), "-c", ABSENT], work).splitlines()[-1]) == []

    sample = work / "sample"
    generate(300, 5, sample, show_progress=False)
    canonical_records(sample).to_parquet(work / "persons.parquet")
    cli = str(venv / "bin" / "golden-record")
    matched = _run([cli, "match", "--input", "persons.parquet", "--output-dir", "out"], work)
    assert (work / "out" / "model.json").is_file(), matched

    quality = _locked_requirements(tmp_path, "quality")
    _run([uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(quality)], work)
    with running_portal(sample / "portal" / "customers.jsonl", "t") as portal:
        night = _run([str(python), "-c", ONE_NIGHT, "sample", "data", "crm.db", portal.base_url],
                     work)  # fmt: skip
    result = json.loads(night.splitlines()[-1])
    assert str(venv) in result["package"] and str(ROOT) not in result["package"]
    assert result["published"] > 200
    assert (work / "data" / "runs" / "2026-11-02" / "quality" / "golden" / "result.json").is_file()


def test_airflow_finds_the_plugin_through_its_entry_point_with_no_plugins_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHONPATH"))}
    env |= {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    airflow = Path(sys.executable).with_name("airflow")
    listed = json.loads(_run([str(airflow), "plugins", "-o", "json"], tmp_path, env))
    plugin = next(p for p in listed if p["name"] == "golden_record")
    assert "golden_record.airflow.plugin:GoldenRecordPlugin" in plugin["source"]
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == ["/golden-record"]
    assert not (tmp_path / "plugins").exists() or not any((tmp_path / "plugins").iterdir())
