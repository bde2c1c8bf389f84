"""Every GOLDEN_RECORD_* setting is read in one place, and a malformed one is named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from golden_record.settings import RuntimeSettings, SettingsError, runtime


def test_unset_settings_take_the_defaults():
    assert runtime({}) == RuntimeSettings()


def test_given_settings_are_read_with_their_types():
    read = runtime(
        {
            "GOLDEN_RECORD_DATA": "/srv/golden",
            "GOLDEN_RECORD_GATES": "/etc/gates.toml",
            "GOLDEN_RECORD_EXTRACT_RETRIES": "5",
            "GOLDEN_RECORD_CRM_LOCK_TIMEOUT": "2.5",
        }
    )
    assert read.data_root == Path("/srv/golden") and read.gates == Path("/etc/gates.toml")
    assert read.extract_retries == 5 and read.crm_lock_timeout_seconds == 2.5
    assert read.model is None and read.publish_retries == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [("GOLDEN_RECORD_EXTRACT_RETRIES", "two"), ("GOLDEN_RECORD_RETRY_DELAY", "-1")],
)
def test_a_malformed_setting_is_refused_by_name(name, value):
    with pytest.raises(SettingsError, match=rf"{name} must be"):
        runtime({name: value})


def test_the_runtime_reads_the_environment_nowhere_else():
    package = Path(__file__).resolve().parents[1] / "src" / "golden_record"
    readers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8") and "devtools" not in path.parts
    )
    assert readers == ["settings.py"]


def _duckdb_memory_limit(api) -> str:
    return api._con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_splink_on_duckdb_is_held_to_the_memory_setting_and_spills_to_a_folder_of_its_own(
    monkeypatch,
):
    import gc

    from golden_record.matching.backend import default_db_api

    monkeypatch.delenv("GOLDEN_RECORD_DUCKDB_MEMORY_GB", raising=False)
    assert runtime({}).duckdb_memory_gb == 1.5
    api = default_db_api()
    assert _duckdb_memory_limit(api) in {"1.5 GiB", "1.5 GB", "1.4 GiB"}
    spill = Path(api._con.execute("select current_setting('temp_directory')").fetchone()[0])
    assert spill.name.startswith("golden-record-duckdb-") and spill.is_dir()
    other = default_db_api()
    assert other._con.execute("select current_setting('temp_directory')").fetchone()[0] != str(
        spill
    )
    del api
    gc.collect()
    assert not spill.exists()

    monkeypatch.setenv("GOLDEN_RECORD_DUCKDB_MEMORY_GB", "0.5")
    assert _duckdb_memory_limit(default_db_api()) in {"512.0 MiB", "500.0 MiB", "488.2 MiB"}

    def threads(api) -> int:
        return int(api._con.execute("select current_setting('threads')").fetchone()[0])

    monkeypatch.setenv("GOLDEN_RECORD_DUCKDB_THREADS", "0")
    assert threads(default_db_api()) == os.cpu_count()
    for memory in ("0.5", "0"):
        monkeypatch.setenv("GOLDEN_RECORD_DUCKDB_MEMORY_GB", memory)
        monkeypatch.setenv("GOLDEN_RECORD_DUCKDB_THREADS", "1")
        assert threads(default_db_api()) == 1
