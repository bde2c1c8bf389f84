"""The agreed bands for the checks across runs, from ``expectations/gates.toml``.

Volume against a source's previous run, freshness of each source, each column's
completeness and the share of records changed against the source's last accepted night,
the share of golden records merged, split, retired, created or updated in a run, and the
largest plausible person. The suites name these as ``$PARAMETER``s;
:mod:`golden_record.quality.batches` turns bands and the previous run's figures into the
values a run validates against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from golden_record.quality.suites import QualityConfigError, expectations_root
from golden_record.settings import runtime
from golden_record.tomlfile import read_toml

_CHANGE_KEYS = (
    "max_merged_share",
    "max_split_share",
    "max_retired_share",
    "max_created_share",
    "max_updated_share",
)


DEFAULT_KEY_BANDS = {"max_new_id_share": 0.5, "max_gone_id_share": 0.5}
# For a council's own gates.toml written before these checks existed.
DEFAULT_COMPLETENESS_DROP = 0.10
DEFAULT_MAX_CHANGED_SHARE = 0.25


@dataclass(frozen=True)
class Volume:
    max_drop: float
    max_growth: float


@dataclass(frozen=True)
class Bands:
    volume: Volume
    volume_by_source: dict[str, Volume] = field(default_factory=dict)
    max_age_days: int = 7
    changes: dict[str, float] = field(default_factory=dict)
    max_records_per_person: int = 25
    # Shares of a source's record ids new tonight / gone since the last accepted night.
    keys: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_KEY_BANDS))
    # How far the share of records with a column filled may fall from the last accepted
    # night's (a fraction: 0.10 is ten points), and the share of records held then too
    # that may change tonight; each with per-source overrides.
    completeness_drop: float = DEFAULT_COMPLETENESS_DROP
    completeness_drop_by_source: dict[str, float] = field(default_factory=dict)
    max_changed_share: float = DEFAULT_MAX_CHANGED_SHARE
    max_changed_share_by_source: dict[str, float] = field(default_factory=dict)

    def volume_for(self, source: str) -> Volume:
        return self.volume_by_source.get(source, self.volume)

    def completeness_drop_for(self, source: str) -> float:
        return self.completeness_drop_by_source.get(source, self.completeness_drop)

    def max_changed_share_for(self, source: str) -> float:
        return self.max_changed_share_by_source.get(source, self.max_changed_share)


def bands_path() -> Path:
    return runtime().gates or expectations_root() / "gates.toml"


def _fraction(path: Path, where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise QualityConfigError(f"{path}: {where} must be a fraction from 0 to 1, not {value!r}")
    return float(value)


def _with_overrides(
    path: Path, raw: dict, table: str, key: str, default: float
) -> tuple[float, dict[str, float]]:
    """``[table] key = x`` and its per-source overrides ``[table.<source>] key = y``."""
    section = dict(raw.get(table, {}))
    value = _fraction(path, f"{table}.{key}", section.pop(key, default))
    overrides = {}
    for source, override in section.items():
        if not isinstance(override, dict) or set(override) - {key}:
            raise QualityConfigError(f"{path}: unknown key {table}.{source}")
        overrides[source] = _fraction(path, f"{table}.{source}.{key}", override.get(key, value))
    return value, overrides


def load_bands(path: Path | None = None) -> Bands:
    path = path or bands_path()
    raw = read_toml(path, QualityConfigError, "gate bands")
    try:
        volume_table = dict(raw["volume"])
        default = Volume(
            _fraction(path, "volume.max_drop", volume_table.pop("max_drop")),
            _fraction(path, "volume.max_growth", volume_table.pop("max_growth")),
        )
        by_source = {}
        for source, override in volume_table.items():
            if not isinstance(override, dict):
                raise QualityConfigError(f"{path}: unknown key volume.{source}")
            by_source[source] = Volume(
                _fraction(
                    path, f"volume.{source}.max_drop", override.get("max_drop", default.max_drop)
                ),
                _fraction(
                    path,
                    f"volume.{source}.max_growth",
                    override.get("max_growth", default.max_growth),
                ),
            )
        changes = {
            key: _fraction(path, f"changes.{key}", raw["changes"][key]) for key in _CHANGE_KEYS
        }
        # Optional, for a council's own gates.toml written before the check existed.
        keys = {
            key: _fraction(path, f"keys.{key}", value)
            for key, value in (DEFAULT_KEY_BANDS | dict(raw.get("keys", {}))).items()
        }
        max_age = raw["freshness"]["max_age_days"]
        largest = raw["golden"]["max_records_per_person"]
    except KeyError as exc:
        raise QualityConfigError(f"{path}: missing setting {exc.args[0]!r}") from exc
    for name, value in (
        ("freshness.max_age_days", max_age),
        ("golden.max_records_per_person", largest),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise QualityConfigError(f"{path}: {name} must be a whole number ≥ 1, not {value!r}")
    drop, drop_by_source = _with_overrides(
        path, raw, "completeness", "max_drop", DEFAULT_COMPLETENESS_DROP
    )
    updated, updated_by_source = _with_overrides(
        path, raw, "source_changes", "max_changed_share", DEFAULT_MAX_CHANGED_SHARE
    )
    return Bands(
        default,
        by_source,
        max_age,
        changes,
        largest,
        keys,
        drop,
        drop_by_source,
        updated,
        updated_by_source,
    )
