"""The command line's mistakes answered with one line saying what to do (issue 34's CLI
edges): each was found answering with a bare path, a driver's import error, a traceback
about a folder name, silence, or "no match" for a typo."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from golden_record.cli import app

runner = CliRunner()


def _said(result) -> str:
    # Typer's error box wraps lines and draws borders.
    return " ".join(result.output.replace("│", " ").split())


def test_a_missing_input_file_is_named_as_missing(tmp_path, monkeypatch):
    # Relative, as people type it (a long path would be wrapped inside the error box).
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["match", "--input", "data/nope.parquet", "--output-dir", "out"])
    assert result.exit_code == 2
    assert "no such file: data/nope.parquet" in _said(result)
    assert not (tmp_path / "runs").exists()


def test_a_run_written_with_slashes_is_refused_saying_how_to_write_it(tmp_path):
    crm = f"sqlite:///{tmp_path / 'crm.db'}"
    result = runner.invoke(
        app, ["crm", "export", "--crm", crm, "--run", "06/12/2026", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in _said(result) and "'06/12/2026'" in _said(result)
    assert not (tmp_path / "crm_exports").exists()


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--date-of-birth", "1962-31-31", "date_of_birth"),
        ("--date-of-birth", "31/31/1962", "date_of_birth"),
    ],
)
def test_a_lookup_with_an_invalid_value_is_refused_naming_the_field(tmp_path, option, value, field):
    result = runner.invoke(
        app, ["lookup", "--surname", "King", option, value, "--data", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert f"is not a valid {field}" in _said(result)


def test_a_record_id_without_its_system_gets_a_hint(tmp_path):
    store = f"sqlite:///{tmp_path / 'store.db'}"
    from golden_record.golden import GoldenStore

    GoldenStore(store)  # an empty store: the ids are refused before any lookup
    result = runner.invoke(app, ["review", "show", "CTP00000902", "HP00000178", "--store", store])
    assert result.exit_code == 2
    assert "write it as system:id, e.g. revenues:CTP00000902" in _said(result)


def test_a_postgresql_url_without_a_driver_uses_the_installed_one(postgres):
    from golden_record.database_urls import with_installed_driver

    assert with_installed_driver("postgresql://u@h/db").drivername == "postgresql+psycopg2"
    assert with_installed_driver("postgresql+psycopg2://u@h/db").drivername.endswith("psycopg2")
    assert with_installed_driver("sqlite:///x.db").drivername == "sqlite"
    plain = postgres.create_database("plain_url_crm").replace(
        "postgresql+psycopg2://", "postgresql://"
    )
    assert plain.startswith("postgresql://")
    migrated = runner.invoke(app, ["crm", "migrate", "--crm", plain])
    assert migrated.exit_code == 0, migrated.output
    status = runner.invoke(app, ["crm", "status", "--crm", plain])
    assert status.exit_code == 0, status.output
    assert "contract v6" in status.output and "change feed: last sequence 0" in status.output
