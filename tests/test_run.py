"""A run's value: its key, date and file layout, and which night a retraining reads."""

from __future__ import annotations

from datetime import date

import pytest

from golden_record import nights, pipeline
from golden_record.run import Run


def test_a_run_lays_out_every_stage_under_its_key(tmp_path):
    run = Run.of("2026-11-02", root=tmp_path)
    assert run.date == date(2026, 11, 2)
    assert run.dir == tmp_path / "runs" / "2026-11-02"
    assert run.canonical("waste") == run.dir / "canonical" / "waste.parquet"
    assert run.match.xref.parent == run.dir / "match"
    assert run.golden.published == (
        run.golden.golden_records,
        run.golden.xref,
        run.golden.lineage,
    )
    assert run.other("2026-11-01").dir.parent == run.runs_dir


def test_a_run_key_must_name_a_folder_and_a_date():
    with pytest.raises(ValueError, match="names a folder"):
        Run.of("../elsewhere")
    with pytest.raises(ValueError, match="does not start with a date"):
        Run.of("tuesday")
    assert Run.of("tuesday", date(2026, 11, 3)).date == date(2026, 11, 3)
    with pytest.raises(ValueError, match="logical date"):
        Run.from_context(None)


def _night(root, key: str, accepted: bool) -> Run:
    run = Run.of(key, root=root)
    run.standardised.records.parent.mkdir(parents=True)
    run.standardised.records.write_bytes(b"")
    if accepted:
        nights.mark_accepted(run)
    return run


def test_retraining_reads_the_last_accepted_night_on_or_before_its_own_date(tmp_path):
    """Never "the latest run": a later night, or a refused one, would make a rerun of the
    training run read other records."""
    _night(tmp_path, "2026-11-01", accepted=True)
    _night(tmp_path, "2026-11-02", accepted=False)  # refused by its gate
    _night(tmp_path, "2026-11-04", accepted=True)  # after the training run's date
    training = Run.of("2026-11-03", root=tmp_path)
    assert pipeline.training_run(training).key == "2026-11-01"
    assert pipeline.training_run(Run.of("2026-11-04", root=tmp_path)).key == "2026-11-04"
    assert pipeline.training_run(training, "2026-11-02").key == "2026-11-02"
    with pytest.raises(FileNotFoundError, match="no accepted night on or before 2026-10-31"):
        pipeline.training_run(Run.of("2026-10-31", root=tmp_path))
    with pytest.raises(FileNotFoundError, match="run 2026-11-09 has no standardised"):
        pipeline.training_run(training, "2026-11-09")


def test_a_frame_with_lists_held_in_arrow_is_written_so_that_pandas_reads_it_back(tmp_path):
    """The match keeps list columns (a forename's variants) in Arrow; pandas would write
    their type as text it cannot read back, failing every later reader of the file."""
    import pandas as pd
    import pyarrow as pa

    from golden_record.atomic import write_parquet
    from golden_record.matching.backend import lists_in_arrow

    table = pa.table({"unique_id": ["a", "b"], "variants": [["ann", "anne"], None]})
    frame = table.to_pandas(types_mapper=lists_in_arrow)
    assert isinstance(frame["variants"].dtype, pd.ArrowDtype)
    written = write_parquet(frame, tmp_path / "pairs.parquet")
    back = pd.read_parquet(written)
    assert back["unique_id"].tolist() == ["a", "b"]
    assert list(back["variants"].iloc[0]) == ["ann", "anne"] and back["variants"].iloc[1] is None


def test_files_written_together_are_each_whole_and_a_failure_is_raised_after_the_rest(tmp_path):
    """A night writes its Parquet files two at a time: each reads back as given (a pandas
    frame, or an Arrow table with the metadata it was read with), and one that cannot be
    written fails the call only once the others are written, none left half-written."""
    import pandas as pd
    import pyarrow as pa
    import pytest

    from golden_record.atomic import write_parquets

    frame = pd.DataFrame({"unique_id": ["a", "b"], "n": [1, 2]})
    table = pa.Table.from_pandas(pd.DataFrame({"golden_id": ["g1"]}), preserve_index=False)
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a file where a folder should be")
    with pytest.raises(OSError):
        write_parquets(
            [
                (frame, tmp_path / "one.parquet"),
                (frame.iloc[:0], blocked / "two.parquet"),
                (table, tmp_path / "three.parquet"),
            ]
        )
    assert pd.read_parquet(tmp_path / "one.parquet").equals(frame)
    assert pd.read_parquet(tmp_path / "three.parquet")["golden_id"].tolist() == ["g1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "not_a_folder",
        "one.parquet",
        "three.parquet",
    ]
