"""The built wheel works outside the checkout: its SQL, expectations, survivorship rules
and packaged model travel inside it as package data.

Builds the wheel, installs it with the locked dependencies into a fresh virtual
environment, and from a folder outside the checkout runs ``golden-record match`` and one
night's stages (extract to publish) with that environment's Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

ONE_NIGHT = """
import json, sys
from pathlib import Path

import golden_record
from golden_record import pipeline
from golden_record.devtools.generate.portal_api import running_portal
from golden_record.matching import registry
from golden_record.run import Run
from golden_record.settings import SourceSettings

sample, data, crm = (Path(a) for a in sys.argv[1:4])
run = Run.of("2026-11-02", root=data)
with running_portal(sample / "portal" / "customers.jsonl", "t") as portal:
    settings = SourceSettings(
        revenues_url=f"sqlite:///{sample / 'revenues.db'}",
        housing_url=f"sqlite:///{sample / 'housing.db'}",
        waste_drop_dir=sample / "waste" / "drop",
        portal_base_url=portal.base_url,
        portal_token="t",
    )
    for source in ("revenues", "housing", "waste", "portal"):
        pipeline.extract(source, run, settings)
pipeline.quality_gate("sources", run)
pipeline.standardise(run)
pipeline.match(run, registry.packaged())
pipeline.build_golden(run)
pipeline.quality_gate("golden", run)
published = pipeline.publish(run, f"sqlite:///{crm}")
count = published.summary.golden_records
print(json.dumps({"package": golden_record.__file__, "published": count}))
"""


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_installed_wheel_matches_and_runs_a_night_outside_the_checkout(tmp_path):
    uv = Path(sys.executable).with_name("uv")
    uv = str(uv) if uv.is_file() else "uv"
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    _run([uv, "build", "--wheel", "--out-dir", str(dist), "--quiet"], ROOT)
    wheel = next(dist.glob("golden_record-*.whl"))
    requirements = tmp_path / "requirements.txt"
    _run(
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet",
         "-o", str(requirements)],
        ROOT,
    )  # fmt: skip
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], work)
    python = venv / "bin" / "python"
    _run([uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements),
          str(wheel)], work)  # fmt: skip
    cli = str(venv / "bin" / "golden-record")

    _run([cli, "generate", "--people", "300", "--seed", "5", "--out", "sample"], work)
    _run([cli, "canonical", "--data", "sample", "--out", "persons.parquet"], work)
    matched = _run([cli, "match", "--input", "persons.parquet", "--output-dir", "out"], work)
    assert (work / "out" / "model.json").is_file(), matched

    night = json.loads(
        _run([str(python), "-c", ONE_NIGHT, "sample", "data", "crm.db"], work).splitlines()[-1]
    )
    assert str(venv) in night["package"] and str(ROOT) not in night["package"]
    assert night["published"] > 200
    assert (work / "data" / "runs" / "2026-11-02" / "quality" / "golden" / "result.json").is_file()
