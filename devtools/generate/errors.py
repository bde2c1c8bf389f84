"""The generator's error model: how often each kind of real-world mess is injected.

Every rate is a probability per record (or per household / person where the name says
so). Defaults are documented in ``docs/generator.md``; any subset can be overridden from
a JSON file (``python -m devtools generate --errors FILE``) and all record-level rates can be
scaled together with ``--error-scale``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

# Rates that are not about one record's corruption and so are never scaled.
_STRUCTURAL = {
    "household_single",
    "household_couple",
    "household_family",
    "household_single_parent",
    "couple_shares_surname",
    "couple_shares_email",
    "family_has_twins",
    "family_has_junior",
    "household_moved",
    "household_in_revenues",
    "household_in_housing",
    "household_in_waste",
    "adult_in_portal",
    "portal_duplicate_account",
    "moved_keeps_old_revenues_account",
    "moved_keeps_old_waste_contact",
    "household_in_parking",
    "parking_second_holder_account",
    "parking_business_permit",
    "moved_keeps_old_parking_account",
    "adult_in_libraries",
    "library_second_card",
    "household_has_junior_borrowers",
    "library_child_shares_parent_email",
}


@dataclass(frozen=True)
class ErrorModel:
    # Household make-up (the rest are flat shares of unrelated adults).
    household_single: float = 0.34
    household_couple: float = 0.30
    household_family: float = 0.22
    household_single_parent: float = 0.08
    couple_shares_surname: float = 0.70
    couple_shares_email: float = 0.15
    family_has_twins: float = 0.08
    family_has_junior: float = 0.08
    household_moved: float = 0.12

    # Which systems know a household or person.
    household_in_revenues: float = 0.95
    household_in_housing: float = 0.18
    household_in_waste: float = 0.30
    adult_in_portal: float = 0.40
    portal_duplicate_account: float = 0.04
    moved_keeps_old_revenues_account: float = 0.6
    moved_keeps_old_waste_contact: float = 0.3
    household_in_parking: float = 0.15
    parking_second_holder_account: float = 0.08
    parking_business_permit: float = 0.05
    moved_keeps_old_parking_account: float = 0.4
    adult_in_libraries: float = 0.20
    library_second_card: float = 0.05
    household_has_junior_borrowers: float = 0.12
    library_child_shares_parent_email: float = 0.6

    # Record-level corruption.
    typo_first_name: float = 0.03
    typo_surname: float = 0.03
    nickname: float = 0.08
    nickname_portal: float = 0.20
    maiden_surname: float = 0.5
    stale_address: float = 0.4
    middle_name_dropped: float = 0.5
    dob_missing_revenues: float = 0.6
    dob_missing_housing: float = 0.03
    dob_missing_portal: float = 0.3
    dob_missing_libraries: float = 0.7
    dob_missing_libraries_junior: float = 0.05
    dob_day_month_swapped: float = 0.01
    email_missing: float = 0.5
    email_upper_case: float = 0.1
    phone_missing: float = 0.3
    postcode_format_variant: float = 0.2
    postcode_invalid: float = 0.01
    placeholder_value: float = 0.01
    ni_missing_housing: float = 0.1
    title_other_sex: float = 0.01

    def scaled(self, factor: float) -> ErrorModel:
        """All record-level rates multiplied by ``factor`` (capped at 1)."""
        changes = {
            f.name: min(1.0, getattr(self, f.name) * factor)
            for f in fields(self)
            if f.name not in _STRUCTURAL
        }
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_json(cls, path: Path) -> ErrorModel:
        """Defaults overridden by the rates named in a JSON object file."""
        try:
            overrides = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"error model {path}: not valid JSON: {exc}") from exc
        if not isinstance(overrides, dict):
            raise ValueError(f"error model {path}: expected a JSON object of rates")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"error model {path}: unknown rates: {', '.join(unknown)}")
        for name, value in overrides.items():
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"error model {path}: {name} must be a number from 0 to 1")
        return replace(cls(), **{k: float(v) for k, v in overrides.items()})
