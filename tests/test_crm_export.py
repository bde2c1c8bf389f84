"""Each run's publish exported as files (CSV and Parquet) for CRMs that take files, and
the pipeline's publish step: only gated files are published."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from golden_record import pipeline
from golden_record.digest import file_sha256
from golden_record.publish import export_run, publish
from golden_record.quality.gates import GateResult
from golden_record.run import Run
from tests.conftest import RUN_DATE
from tests.crm_fixtures import night

ROOT = Path(__file__).resolve().parents[1]


def council(people: int, surname: str = "Smith"):
    return night(
        {f"GR{i:04d}": {"first_name": f"Person{i}", "surname": surname} for i in range(people)},
        {f"GR{i:04d}": [f"revenues:r{i}", f"housing:h{i}"] for i in range(people)},
    )


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(folder.iterdir())}


def test_a_run_is_exported_as_the_crm_shows_it_and_re_exports_byte_for_byte(crm, tmp_path):
    golden, sources = council(3)
    publish(golden, sources, "2026-11-02", crm)
    folder = export_run("2026-11-02", crm, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {name: f["rows"] for name, f in manifest["files"].items()} == {
        "golden_customer.csv": 3,
        "golden_customer.parquet": 3,
        "golden_customer_source.csv": 6,
        "golden_customer_source.parquet": 6,
        "change_feed.csv": 3,
        "change_feed.parquet": 3,
    }
    assert manifest["change_feed"] == {"first_sequence": 1, "last_sequence": 3}
    for name, entry in manifest["files"].items():
        assert file_sha256(folder / name) == entry["sha256"]
    customers = pd.read_csv(folder / "golden_customer.csv")
    assert customers.columns[:5].tolist() == [
        "golden_id",
        "title",
        "first_name",
        "middle_names",
        "surname",
    ]
    assert customers["emails"].tolist() == ["[]"] * 3
    assert pd.read_parquet(folder / "change_feed.parquet")["event"].tolist() == ["created"] * 3
    before = _digests(folder)
    export_run("2026-11-02", crm, tmp_path)
    assert _digests(folder) == before
    assert sorted(p.name for p in folder.parent.iterdir()) == ["2026-11-02"]


def test_a_night_exported_from_the_one_before_is_byte_for_byte_a_full_export(crm, tmp_path):
    people = {f"GR{i:04d}": {"first_name": f"Person{i}", "surname": "Smith"} for i in range(6)}
    members = {f"GR{i:04d}": [f"revenues:r{i}", f"housing:h{i}"] for i in range(6)}
    publish(*night(people, members), "2026-11-02", crm)
    first = json.loads((export_run("2026-11-02", crm, tmp_path) / "manifest.json").read_text())
    assert first["patched_from"] is None
    # Tonight: one surname changed, one person gone, one new, a source record deleted at
    # source, one moved to another person, and a value a spreadsheet would run.
    people["GR0001"] = {"first_name": "Person1", "surname": "Smyth"}
    people["GR0002"] = {"first_name": "=HYPERLINK()", "surname": "Smith"}
    del people["GR0003"], members["GR0003"]
    people["GR0100"] = {"first_name": "Newcomer", "surname": "Jones"}
    members["GR0100"] = ["portal:p100"]
    members["GR0004"] = ["revenues:r4"]
    members["GR0005"] = ["revenues:r5", "housing:h5", "housing:h4"]
    publish(*night(people, members), "2026-11-03", crm)

    patched = export_run("2026-11-03", crm, tmp_path)
    manifest = json.loads((patched / "manifest.json").read_text())
    assert manifest["patched_from"] == "2026-11-02"
    full = export_run("2026-11-03", crm, tmp_path / "full", patch=False)
    assert json.loads((full / "manifest.json").read_text())["patched_from"] is None
    assert {k: v for k, v in _digests(patched).items() if k != "manifest.json"} == {
        k: v for k, v in _digests(full).items() if k != "manifest.json"
    }
    customers = pd.read_csv(patched / "golden_customer.csv", dtype="string")
    assert customers["golden_id"].tolist() == sorted(people)
    assert customers.set_index("golden_id").loc["GR0002", "first_name"] == "'=HYPERLINK()"
    sources = pd.read_parquet(patched / "golden_customer_source.parquet")
    assert len(sources) == sum(len(m) for m in members.values())


def test_an_export_is_read_in_full_when_the_one_before_is_not_the_crm_s_state(tmp_path):
    crm = f"sqlite:///{tmp_path / 'crm.db'}"
    golden, sources = council(3)
    publish(golden, sources, "2026-11-02", crm)
    earlier = export_run("2026-11-02", crm, tmp_path)
    publish(*council(3, surname="Smyth"), "2026-11-03", crm)
    # Night 3's export finds night 2's missing (its export failed): night 2's rows
    # are not in the 2026-11-02 files, so those cannot be patched.
    publish(*council(3, surname="Smithe"), "2026-11-04", crm)
    third = json.loads((export_run("2026-11-04", crm, tmp_path) / "manifest.json").read_text())
    assert third["patched_from"] is None
    # An export whose files no longer match their manifest is not built on either.
    (earlier / "golden_customer.parquet").write_bytes(b"not the file")
    fourth = export_run("2026-11-05", crm, tmp_path)
    assert json.loads((fourth / "manifest.json").read_text())["patched_from"] == "2026-11-04"
    shutil.rmtree(fourth)
    (tmp_path / "crm_exports" / "2026-11-04" / "golden_customer.parquet").write_bytes(b"x")
    fifth = export_run("2026-11-05", crm, tmp_path)
    assert json.loads((fifth / "manifest.json").read_text())["patched_from"] is None
    assert pd.read_csv(fifth / "golden_customer.csv")["surname"].tolist() == ["Smithe"] * 3


def test_a_full_disk_mid_export_leaves_no_partial_export_and_the_next_one_completes(tmp_path):
    crm = f"sqlite:///{tmp_path / 'crm.db'}"
    golden, sources = council(300)
    publish(golden, sources, "2026-11-02", crm)
    earlier = export_run("2026-11-02", crm, tmp_path)
    earlier_files = _digests(earlier)
    golden, sources = council(300, surname="Smyth")
    publish(golden, sources, "2026-11-03", crm)
    # The operating system refuses writes past 16 KB, as a full disk would, part-way
    # through the first file.
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from golden_record.publish import ExportError, export_run
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))
        try:
            export_run("2026-11-03", {crm!r}, Path({str(tmp_path)!r}))
        except ExportError as exc:
            print(exc)
            sys.exit(3)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 3, result.stderr
    assert "exporting run 2026-11-03 to" in result.stdout
    assert "File too large" in result.stdout and "No partial export was left" in result.stdout
    exports = earlier.parent
    assert sorted(p.name for p in exports.iterdir()) == ["2026-11-02"]
    assert _digests(earlier) == earlier_files
    finished = export_run("2026-11-03", crm, tmp_path)
    manifest = json.loads((finished / "manifest.json").read_text())
    assert manifest["files"]["change_feed.csv"]["rows"] == 300  # every surname changed


def _gated(landed_run: Path, tmp_path: Path, passed: bool = True) -> Path:
    root = tmp_path / "data"
    shutil.copytree(landed_run, root)
    run = Run.of(RUN_DATE.isoformat(), root=root)
    folder = run.quality("golden")
    folder.mkdir(parents=True, exist_ok=True)
    result = GateResult(
        gate="golden",
        run_key=run.key,
        checks=[],
        data_docs=None,
        error=None if passed else "suite golden_records could not be read",
        inputs={str(p.relative_to(run.dir)): file_sha256(p) for p in run.golden.published},
    )
    (folder / "result.json").write_text(json.dumps(result.to_dict()))
    return root


def test_the_pipeline_publishes_only_files_that_passed_the_golden_gate(landed_run, tmp_path):
    run = RUN_DATE.isoformat()
    crm = f"sqlite:///{tmp_path / 'crm.db'}"
    ungated = tmp_path / "ungated"
    shutil.copytree(landed_run, ungated)
    with pytest.raises(pipeline.PublishRefused, match="the golden gate has not run"):
        pipeline.publish(Run.of(run, root=ungated), crm)
    failed = _gated(landed_run, tmp_path / "failed", passed=False)
    with pytest.raises(pipeline.PublishRefused, match="gate golden could not run"):
        pipeline.publish(Run.of(run, root=failed), crm)
    assert not (tmp_path / "crm.db").exists()

    root = _gated(landed_run, tmp_path)
    golden_file = root / "runs" / run / "golden" / "golden_records.parquet"
    golden = pd.read_parquet(golden_file)
    golden.head(10).to_parquet(golden_file)  # rebuilt after the gate passed
    with pytest.raises(pipeline.PublishRefused, match="is not the file the golden gate passed"):
        pipeline.publish(Run.of(run, root=root), crm)
    root = _gated(landed_run, tmp_path / "again")
    published = pipeline.publish(Run.of(run, root=root), crm).to_dict()
    assert published["outcome"] == "published"
    assert published["events"] == {"created": published["golden_records"]}
    exported = Path(published["export"])
    assert exported == root / "crm_exports" / run
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["files"]["golden_customer.csv"]["rows"] == published["golden_records"]
