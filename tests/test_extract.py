"""The extract stage: raw extracts land once per run, replay on rerun, upsert incrementally."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace

import pandas as pd
import pytest

from golden_record import nights
from golden_record.extract.landing import extract_source
from golden_record.extract.sources import SourceDataError
from golden_record.run import Run


@pytest.fixture
def revenues_copy(sample, source_settings, tmp_path):
    db = tmp_path / "revenues.db"
    shutil.copy(sample.paths["revenues"], db)
    return db, replace(
        source_settings,
        database_urls={**source_settings.database_urls, "revenues": f"sqlite:///{db}"},
    )


def test_raw_extract_is_landed_once_and_replayed_on_rerun(revenues_copy, tmp_path):
    db, settings = revenues_copy
    root = tmp_path / "data"
    first = extract_source("revenues", Run.of("2026-11-02", root=root), settings)
    landed = Run.of("2026-11-02", root=root).raw("revenues").read_bytes()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE ctax_liable_party SET surname = 'CHANGED'")

    again = extract_source("revenues", Run.of("2026-11-02", root=root), settings)

    assert not first.replayed and again.replayed
    assert Run.of("2026-11-02", root=root).raw("revenues").read_bytes() == landed
    canonical = pd.read_parquet(again.canonical_path)
    assert "CHANGED" not in set(canonical["surname"])


def test_an_extract_maps_its_rows_once(source_settings, tmp_path, monkeypatch):
    # A file drop is a full snapshot each night: mapping it is most of its extract, and
    # the check made before landing once mapped every row a second time.
    import golden_record.extract.landing as landing

    mapped = []
    real = landing._canonical_changes

    def counted(module, raw, source):
        mapped.append(len(raw))
        return real(module, raw, source)

    monkeypatch.setattr(landing, "_canonical_changes", counted)
    summary = extract_source("waste", Run.of("2026-11-02", root=tmp_path / "data"), source_settings)

    assert mapped == [summary.raw_rows] and summary.canonical_rows > 0


def test_next_run_extracts_only_changes_and_upserts_them(revenues_copy, tmp_path):
    db, settings = revenues_copy
    root = tmp_path / "data"
    first = extract_source("revenues", Run.of("2026-11-02", root=root), settings)
    nights.mark_accepted(Run.of("2026-11-02", root=root))
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE ctax_liable_party SET surname = 'NEWNAME',"
            " last_modified = '2026-11-02 09:00:00' WHERE party_id = 'CTP00000005'"
        )

    second = extract_source("revenues", Run.of("2026-11-03", root=root), settings)

    assert second.mode == "incremental"
    assert second.watermark_before == first.watermark_after
    assert second.raw_rows == 1
    snapshot = pd.read_parquet(second.canonical_path).set_index("source_record_id")
    assert len(snapshot) == first.canonical_rows
    assert snapshot.loc["CTP00000005", "surname"] == "NEWNAME"


def test_full_refresh_reads_everything_again(revenues_copy, tmp_path):
    _, settings = revenues_copy
    root = tmp_path / "data"
    extract_source("revenues", Run.of("2026-11-02", root=root), settings)
    full = extract_source("revenues", Run.of("2026-11-03", root=root), settings, full_refresh=True)
    assert full.mode == "full" and full.watermark_before is None
    assert full.raw_rows == full.canonical_rows > 0


def test_a_failed_extract_lands_nothing(source_settings, sample, tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(sample.paths["waste"], drop)
    bad = next(drop.glob("*.csv"))
    bad.write_text(bad.read_text() + "W99999999,only,three\n")
    root = tmp_path / "data"
    with pytest.raises(SourceDataError, match="line"):
        extract_source(
            "waste",
            Run.of("2026-11-02", root=root),
            source_settings.with_drop("waste", folder=drop),
        )
    run = Run.of("2026-11-02", root=root).dir
    assert not any(p.is_file() for p in run.rglob("*")) if run.exists() else True


def test_conform_removes_every_control_and_invisible_character_and_keeps_the_joiners():
    """The characters the canonical contract removes, each in an Arrow-backed column (the
    matching runs in Arrow's regular expressions, not Python's): the C0 and C1 controls,
    the soft hyphen, bidirectional marks and overrides, zero-width and format characters;
    tabs and line breaks become one space; the joiners Persian and Indic names need stay."""
    from golden_record.extract.canonical import CANONICAL_COLUMNS, conform

    removed = [
        *range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xAD, 0x61C,
        0x180E, 0x200B, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2060, 0x2065),
        *range(0x2066, 0x206A), 0xFEFF,
    ]  # fmt: skip
    values = [f"Ann{chr(c)}e" for c in removed] + ["Ann\t\r\ne", "A\u200cb\u200dc", "Zoë"]
    frame = pd.DataFrame({c: "x" for c in CANONICAL_COLUMNS}, index=range(len(values)))
    frame["source_record_id"] = [str(i) for i in range(len(values))]
    frame["first_name"] = pd.Series(values, dtype="string[pyarrow]")
    cleaned = conform(frame, "test")["first_name"].tolist()
    assert cleaned == ["Anne"] * len(removed) + ["Ann e", "A\u200cb\u200dc", "Zoë"]


def test_unique_ids_split_at_the_first_colon_into_system_and_record_id():
    from golden_record.extract.canonical import split_unique_ids

    ids = pd.Series(
        ["revenues:CTP1", "portal:a:b", "no-colon", None, "waste:", ":7", "libraries:x\ny"],
        index=range(10, 17),
        dtype="string",
    )
    system, record_id = split_unique_ids(ids)
    assert system.index.equals(ids.index) and record_id.index.equals(ids.index)
    assert system.tolist() == ["revenues", "portal", "no-colon", pd.NA, "waste", "", "libraries"]
    assert record_id.tolist() == ["CTP1", "a:b", pd.NA, pd.NA, "", "7", "x\ny"]
