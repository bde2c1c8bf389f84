"""Every GOLDEN_RECORD_* setting is read in one place, and a malformed one is named."""

from __future__ import annotations

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
