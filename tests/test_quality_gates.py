"""Quality gates: GX suites with severity stop bad data before it is published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import RUN_DATE

from golden_record import nights, paths, pipeline
from golden_record.extract.declaration import source_systems
from golden_record.quality import GateFailed, load_bands, read_gate_result
from golden_record.quality.batches import volume_parameters
from golden_record.quality.suites import QualityConfigError
from golden_record.run import Run

RUN_KEY = RUN_DATE.isoformat()


def _run(root, key: str = RUN_KEY) -> Run:
    return Run.of(key, root=root)


EXPECTATIONS = paths.EXPECTATIONS_DIR


@pytest.fixture
def run_root(landed_run, tmp_path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(landed_run, root)
    return root


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the committed expectations folder a test may break."""
    copy = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS, copy, ignore=shutil.ignore_patterns("uncommitted"))
    monkeypatch.setenv("GOLDEN_RECORD_EXPECTATIONS", str(copy))
    monkeypatch.delenv("GOLDEN_RECORD_GATES", raising=False)
    return copy


def _edit_suite(project: Path, name: str, change) -> None:
    path = project / "gx" / "expectations" / f"{name}.json"
    suite = json.loads(path.read_text())
    change(suite)
    path.write_text(json.dumps(suite, indent=2))


def _files(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_good_data_passes_both_gates_and_each_gate_keeps_its_data_docs(run_root):
    committed = _files(EXPECTATIONS)
    for gate in ("sources", "golden"):
        outcome = pipeline.quality_gate(gate, _run(run_root))
        assert outcome.passed is True
        assert outcome.checks > 10
        docs = _run(run_root).dir / outcome.data_docs
        assert docs.is_file()
        validations = list(docs.parent.glob("validations/**/*.html"))
        # Per source: raw extract, canonical records, record ids, records changed, each
        # column's completeness.
        assert len(validations) == {"sources": 5 * len(source_systems()), "golden": 3}[gate]
    result = read_gate_result(_run(run_root), "sources")
    dimensions = {c.dimension for c in result.checks}
    assert dimensions == {
        "completeness",
        "uniqueness",
        "validity",
        "consistency",
        "timeliness",
        "accuracy",
    }
    # The committed project is never written to by a run.
    assert _files(EXPECTATIONS) == committed


def test_data_docs_show_counts_never_residents_details(run_root):
    email_file = _run(run_root).raw("portal")
    raw = pd.read_parquet(email_file)
    raw.loc[raw.index[:3], "email"] = ["not-an-email-alice", "bob-at-nowhere", "x"]
    raw.to_parquet(email_file, index=False)
    pipeline.quality_gate("sources", _run(run_root))
    docs = _run(run_root).dir / "quality" / "sources"
    text = "".join(p.read_text(errors="replace") for p in docs.rglob("*.html"))
    text += "".join(p.read_text(errors="replace") for p in docs.rglob("*.json"))
    assert "not-an-email-alice" not in text and "bob-at-nowhere" not in text


def test_an_empty_extract_is_a_critical_failure_named_in_the_outcome(run_root):
    waste = _run(run_root).raw("waste")
    pd.read_parquet(waste).head(0).to_parquet(waste, index=False)
    with pytest.raises(GateFailed, match="waste raw extract: expect_table_row_count_to_be_between"):
        pipeline.quality_gate("sources", _run(run_root))
    result = read_gate_result(_run(run_root), "sources")
    assert not result.passed
    assert result.data_docs is not None  # the failure is documented too


def test_a_source_shrinking_beyond_its_band_since_the_previous_run_stops_the_night(run_root):
    # The next night revenues holds 40% fewer records than the night before.
    next_key = "2026-11-03"
    run = _run(run_root).dir
    shutil.copytree(run / "raw", _run(run_root, next_key).dir / "raw")
    shutil.copytree(run / "canonical", _run(run_root, next_key).dir / "canonical")
    canonical = _run(run_root, next_key).canonical("revenues")
    frame = pd.read_parquet(canonical)
    frame.head(int(len(frame) * 0.6)).to_parquet(canonical, index=False)
    nights.mark_accepted(_run(run_root))
    expected = rf"observed {len(frame.head(int(len(frame) * 0.6)))}, expected between"
    with pytest.raises(GateFailed, match=f"revenues canonical records.*{expected}"):
        pipeline.quality_gate("sources", _run(run_root, next_key))
    failed = read_gate_result(_run(run_root, next_key), "sources").critical_failures
    assert [(c.source, c.expectation) for c in failed] == [
        ("revenues", "expect_table_row_count_to_be_between")
    ]


def test_volume_band_arithmetic():
    assert volume_parameters(None, 0.1, 0.25) == {"min_rows": 1, "max_rows": None}
    assert volume_parameters(1000, 0.1, 0.25) == {"min_rows": 900, "max_rows": 1250}
    assert volume_parameters(0, 0.1, 0.25)["min_rows"] == 1


def test_a_mass_merge_beyond_the_agreed_band_stops_publishing(run_root):
    summary_file = _run(run_root).dir / "golden" / "summary.json"
    summary = json.loads(summary_file.read_text())
    summary["previous_golden_records"] = 1000
    summary["events"] = {**summary["events"], "merged": 300}  # 30% of residents merged
    summary_file.write_text(json.dumps(summary))
    shares = r"merged_share \(observed 30.00%, expected at most 2.00%\)"
    with pytest.raises(GateFailed, match=shares):
        pipeline.quality_gate("golden", _run(run_root))
    # The refused night's store changes were taken back: the gate cannot pass it now.
    with pytest.raises(pipeline.NightNotStaged, match="rebuild its golden records"):
        pipeline.quality_gate("golden", _run(run_root))
    # Rebuilt: on a store's first run the change bands do not apply.
    pipeline.build_golden(_run(run_root))
    assert pipeline.quality_gate("golden", _run(run_root)).passed


def test_warnings_are_reported_but_do_not_stop_the_night(run_root, project):
    def strict_warning(suite):
        suite["expectations"].append(
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "date_of_birth"},
                "meta": {"dimension": "completeness", "why": "test"},
                "severity": "warning",
            }
        )

    _edit_suite(project, "standardised", strict_warning)
    outcome = pipeline.quality_gate("golden", _run(run_root))
    assert outcome.passed and outcome.warnings == 1


def test_an_expectation_file_that_does_not_parse_fails_the_gate_naming_it(run_root, project):
    path = project / "gx" / "expectations" / "raw_waste.json"
    path.write_text(path.read_text()[:-40])
    with pytest.raises(GateFailed, match=r"raw_waste\.json does not parse: line \d+"):
        pipeline.quality_gate("sources", _run(run_root))
    assert read_gate_result(_run(run_root), "sources").error


def test_a_suite_naming_a_missing_column_fails_the_gate_naming_the_column(run_root, project):
    def rename(suite):
        suite["expectations"][-1]["kwargs"]["column"] = "emial"

    _edit_suite(project, "golden_records", rename)
    with pytest.raises(GateFailed, match="'emial' is not in golden records"):
        pipeline.quality_gate("golden", _run(run_root))


def test_bands_that_do_not_parse_or_are_not_fractions_are_refused(tmp_path):
    broken = tmp_path / "gates.toml"
    broken.write_text("[volume\nmax_drop = 0.1")
    with pytest.raises(QualityConfigError, match="does not parse"):
        load_bands(broken)
    text = (EXPECTATIONS / "gates.toml").read_text().replace("max_drop = 0.10", "max_drop = 10")
    broken.write_text(text)
    with pytest.raises(QualityConfigError, match="volume.max_drop must be a fraction"):
        load_bands(broken)
    assert load_bands(EXPECTATIONS / "gates.toml").changes["max_merged_share"] == 0.02


def test_a_rerun_of_a_gate_replaces_its_folder_whole(run_root):
    pipeline.quality_gate("golden", _run(run_root))
    first = read_gate_result(_run(run_root), "golden")
    pipeline.quality_gate("golden", _run(run_root))
    assert read_gate_result(_run(run_root), "golden") == first
    quality = _run(run_root).dir / "quality"
    assert sorted(p.name for p in quality.iterdir()) == ["golden"]


def test_a_gate_lets_go_of_the_batches_it_validated(run_root):
    """Under ``dag.test()`` one process runs the whole night: what a gate validated must
    not outlive it (GX keeps the context it made as the process's current one, and every
    batch with it, until told otherwise), or the match and the golden records that follow
    the sources gate hold its frames too."""
    import gc

    from great_expectations.execution_engine.pandas_batch_data import PandasBatchData

    assert pipeline.quality_gate("sources", _run(run_root)).passed
    gc.collect()
    held = [o for o in gc.get_objects() if isinstance(o, PandasBatchData)]
    assert held == []
