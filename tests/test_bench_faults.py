"""The nightly benchmark's fault between nights (``devtools.benchmarks.night_faults``):
the halved drop is what the libraries' extractor reads that night, whole by its marker,
the drop after it is the whole one again, and the digests that judge "nothing changed"
see a changed value but not a reordering."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import date

from devtools.benchmarks.night_faults import (
    halve_library_drop,
    restore_library_drop,
    table_digests,
)
from devtools.generate.sample_sources import sample_source_settings
from golden_record.extract.sources import extractor
from golden_record.settings import ApiSettings

FIRST, FAULT, AFTER = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)


def _borrowers(council, day: date) -> int:
    settings = sample_source_settings(council, ApiSettings(base_url="http://127.0.0.1:9"))
    return len(extractor("libraries").extract(settings, None, day))


def test_the_halved_drop_is_read_that_night_and_the_whole_one_the_night_after(sample, tmp_path):
    council = tmp_path / "council"
    shutil.copytree(sample.out, council)
    whole = _borrowers(council, FIRST)

    kept = halve_library_drop(council, FAULT)
    assert _borrowers(council, FAULT) == (whole + 1) // 2
    assert _borrowers(council, FIRST) == whole  # the earlier night's drop is untouched

    restore_library_drop(council, AFTER, kept)
    assert _borrowers(council, AFTER) == whole
    assert not kept.exists()


def test_table_digests_see_a_changed_value_but_not_the_rows_order(tmp_path):
    def database(name: str, rows: list[tuple]) -> dict[str, str]:
        path = tmp_path / f"{name}.db"
        with closing(sqlite3.connect(path)) as connection, connection:
            connection.execute("CREATE TABLE golden (golden_id TEXT, surname TEXT)")
            connection.execute("CREATE TABLE run (run_key TEXT)")
            connection.executemany("INSERT INTO golden VALUES (?, ?)", rows)
            connection.execute("INSERT INTO run VALUES ('2026-11-02')")
        return table_digests(path)

    first = database("first", [("GR1", "Smith"), ("GR2", "Jones")])
    assert database("reordered", [("GR2", "Jones"), ("GR1", "Smith")]) == first
    changed = database("changed", [("GR1", "Smith"), ("GR2", "Jonas")])
    assert changed["golden"] != first["golden"]
    assert changed["run"] == first["run"]


def test_a_fault_night_is_refused_where_tasks_run_whatever_the_gate_said(tmp_path, capsys):
    """``--via tasks`` runs each task whatever the one before it did, so a refused gate
    would not stop golden and publish: the fault's check needs the DAG's dependencies."""
    import pytest

    from devtools.benchmarks.nights import main

    with pytest.raises(SystemExit) as stopped:
        main(["--workdir", str(tmp_path), "--nights", "2", "--fault-night", "2", "--via", "tasks"])
    assert stopped.value.code == 2
    assert "--fault-night needs the DAG's dependencies" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
