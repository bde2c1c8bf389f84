"""pseudopeople's simulated town as canonical person records, with the truth and each
person's sex and race or ethnicity for recall by group.

The Parquet files come from :mod:`devtools.benchmarks.pseudopeople_export`
(the Makefile's ``pseudopeople-data``). Six agencies' records of one town in 2020 become
six source systems: ``census``, the ``acs`` and ``cps`` surveys, ``wic`` (a benefits
programme), ``ssa`` (Social Security) and ``tax`` (W-2 and 1099 forms). What is mapped, and
why:

* names: first name, middle initial (Social Security's whole middle name), last name;
* date of birth, read in each dataset's own order (``MM/DD/YYYY``, ``MMDDYYYY``,
  ``YYYYMMDD``) and written ISO, so the UK day-first reading of the standardiser does not
  swap it; a date the noise made unreadable is left missing;
* address: street number, street name and unit as the first line, the city as the town
  (the tax forms' mailing address); the sample's ZIP codes are all ``00000``, a
  placeholder, and are left out rather than shown as one postcode for the whole town;
* the Social Security number (Social Security and the tax forms) as the NI number, in a
  one-to-one rewriting into the NI number's shape (:func:`ni_shaped`) that the
  standardiser accepts: the same number, or a typo of it, stays the same or a typo;
* no email, phone, title or UPRN: the agencies hold none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from golden_record.extract.canonical import CANONICAL_COLUMNS

SYSTEMS = {
    "decennial_census": "census",
    "american_community_survey": "acs",
    "current_population_survey": "cps",
    "women_infants_and_children": "wic",
    "social_security": "ssa",
    "taxes_w2_and_1099": "tax",
}
DATE_FORMATS = {
    "census": "%m/%d/%Y",
    "acs": "%m/%d/%Y",
    "cps": "%m/%d/%Y",
    "wic": "%m%d%Y",
    "ssa": "%Y%m%d",
}
# NI number prefixes HMRC issues: first letter not D, F, I, Q, U, V; second not D, F, I,
# O, Q, U, V; never BG, GB, KN, NK, NT, TN or ZZ. With the final letter A–D they give more
# than the thousand values of an SSN's first three digits.
_FIRST = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "DFIQUV"]
_SECOND = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "DFIOQUV"]
_PREFIXES = [
    a + b
    for a in _FIRST
    for b in _SECOND
    if a + b not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
]
_SHAPES = [(prefix, suffix) for suffix in "ABCD" for prefix in _PREFIXES]


def ni_shaped(ssn: object) -> str | None:
    """A nine-digit Social Security number rewritten one-to-one as an NI-shaped number:
    its first three digits choose the letters, its last six are the digits."""
    if not isinstance(ssn, str):
        return None
    digits = ssn.replace("-", "")
    if len(digits) != 9 or not digits.isdigit():
        return None
    prefix, suffix = _SHAPES[int(digits[:3])]
    return f"{prefix}{digits[3:]}{suffix}"


@dataclass(frozen=True)
class Town:
    records: pd.DataFrame  # canonical person records
    truth: pd.DataFrame  # source_system, source_record_id, person_id
    groups: pd.DataFrame  # person_id, sex, race_ethnicity
    manifest: dict


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _joined(*parts: pd.Series) -> pd.Series:
    joined = pd.Series("", index=parts[0].index, dtype="string")
    for part in parts:
        value = part.fillna("").str.strip()
        joined = (joined + " " + value).str.strip()
    return joined.mask(joined == "")


def _iso_dates(values: pd.Series, system: str) -> pd.Series:
    parsed = pd.to_datetime(values, format=DATE_FORMATS[system], errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d").astype("string")


def _canonical(frame: pd.DataFrame, system: str) -> pd.DataFrame:
    prefix = "mailing_address_" if system == "tax" else ""
    middle = _column(frame, "middle_name" if system == "ssa" else "middle_initial")
    dob = (
        _iso_dates(_column(frame, "date_of_birth"), system)
        if system in DATE_FORMATS
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    records = pd.DataFrame(
        {
            "source_system": system,
            "source_record_id": [f"{system}-{i}" for i in range(len(frame))],
            "first_name": _column(frame, "first_name"),
            "middle_names": middle,
            "surname": _column(frame, "last_name"),
            "date_of_birth": dob,
            "address_line_1": _joined(
                _column(frame, f"{prefix}street_number"),
                _column(frame, f"{prefix}street_name"),
                _column(frame, f"{prefix}unit_number"),
            ),
            "town": _column(frame, f"{prefix}city"),
            "ni_number": _column(frame, "ssn").map(ni_shaped, na_action="ignore"),
            "source_updated_at": "2020-12-31T00:00:00",
        }
    )
    return records.reindex(columns=list(CANONICAL_COLUMNS)).astype("string")


def _most_given(values: pd.Series) -> object:
    return values.mode().iloc[0] if values.notna().any() else pd.NA


def read_town(folder: Path) -> Town:
    """The town exported to ``folder`` (one noise scale's folder)."""
    folder = Path(folder)
    manifest_file = folder / "manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(
            f"no pseudopeople export in {folder}: run `make pseudopeople-data` first"
        )
    records, truth, groups = [], [], []
    for dataset, system in SYSTEMS.items():
        frame = pd.read_parquet(folder / f"{dataset}.parquet")
        if frame.empty:
            continue
        canonical = _canonical(frame, system)
        records.append(canonical)
        truth.append(
            pd.DataFrame(
                {
                    "source_system": system,
                    "source_record_id": canonical["source_record_id"],
                    "person_id": frame["simulant_id"].astype("string").to_numpy(),
                }
            )
        )
        held = [c for c in ("sex", "race_ethnicity") if c in frame]
        if held:
            groups.append(
                frame[["simulant_id", *held]].rename(columns={"simulant_id": "person_id"})
            )
    # Each person's group as most of their records give it (noise changes a few).
    every = pd.concat(groups, ignore_index=True).astype("string")
    by_person = every.groupby("person_id").agg(_most_given)
    return Town(
        records=pd.concat(records, ignore_index=True),
        truth=pd.concat(truth, ignore_index=True).astype("string"),
        groups=by_person.reset_index(),
        manifest=json.loads(manifest_file.read_text()),
    )
