"""The command line's errors are one or two lines a person can act on: a mistyped path
or URL is named, no read-only command creates a database, and a traceback appears only
with ``--debug``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from golden_record.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _said(result) -> str:
    """The output without the error box's borders and line wrapping."""
    return "".join(result.output.replace("│", "").split())


def _text(sentence: str) -> str:
    return "".join(sentence.split())


@pytest.mark.parametrize(
    "command",
    [
        ["review", "list", "--store"],
        ["crm", "status", "--crm"],
        ["crm", "export", "--run", "2026-11-02", "--crm"],
    ],
)
def test_a_read_only_command_refuses_a_missing_database_file_and_never_creates_one(
    command, tmp_path
):
    missing = tmp_path / "golden-store.db"
    result = runner.invoke(app, [*command, f"sqlite:///{missing}"])
    assert result.exit_code == 2
    assert _text(f"no database file at {missing}") in _said(result) or _text(
        f"no golden store at {missing}"
    ) in _said(result)
    assert "Traceback" not in result.output
    assert not missing.exists()


def test_a_path_given_where_a_url_belongs_is_named_with_the_url_to_write(tmp_path):
    result = runner.invoke(app, ["crm", "status", "--crm", "data/crm.db"])
    assert result.exit_code == 2
    assert _text(
        "'data/crm.db' is not a database URL; for a file, write sqlite:///data/crm.db"
    ) in (_said(result))


def test_the_store_and_crm_default_to_the_demo_s_files(tmp_path, monkeypatch):
    monkeypatch.setenv("GOLDEN_RECORD_DATA", str(tmp_path))
    result = runner.invoke(app, ["crm", "status"])
    assert result.exit_code == 2
    assert _text(f"no database file at {tmp_path / 'crm.db'}") in _said(result)
    result = runner.invoke(app, ["review", "list"])
    assert _text(f"no golden store at {tmp_path / 'golden_store.db'}") in _said(result)


def _golden_record(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "golden_record.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_an_unexpected_failure_is_one_line_and_a_traceback_only_with_debug(tmp_path):
    not_parquet = tmp_path / "persons.parquet"
    not_parquet.write_text("name,dob\nAnn,1970-01-01\n")
    args = ["match", "--input", str(not_parquet), "--output-dir", str(tmp_path / "out")]
    plain = _golden_record(*args)
    assert plain.returncode == 1
    lines = plain.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("golden-record: "), plain.stderr
    assert lines[1] == "(run again with --debug for the details)"
    assert "Traceback" not in plain.stderr
    debug = _golden_record(*args, "--debug")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr or "─" in debug.stderr
