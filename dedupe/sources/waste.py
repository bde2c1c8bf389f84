"""Waste services: property-keyed contacts from the nightly CSV drop folder.

Each drop file (``waste_contacts_YYYYMMDD.csv``) is a full snapshot; a run reads the
newest file dated on or before the run's date. Every row is checked against the header,
and a bad row fails the extract naming the file and line.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pandas as pd

from dedupe.settings import SourceSettings
from dedupe.sources.errors import SourceDataError, SourceUnavailableError
from dedupe.sources.text import iso_timestamp, split_contact_name

SOURCE = "waste"
WATERMARK_COLUMN = None
REQUIRED_COLUMNS = (
    "CONTACT_ID",
    "UPRN",
    "PROPERTY_ADDRESS",
    "POSTCODE",
    "CONTACT_NAME",
    "CONTACT_TEL",
    "CONTACT_EMAIL",
    "LAST_UPDATED",
)
_DROP_NAME = re.compile(r"^waste_contacts_(\d{8})\.csv$")


def drop_file_for(drop_dir: Path, run_date: date) -> Path:
    if not drop_dir.is_dir():
        raise SourceUnavailableError(SOURCE, f"drop folder not found: {drop_dir}")
    candidates = sorted(
        (match.group(1), path)
        for path in drop_dir.iterdir()
        if (match := _DROP_NAME.match(path.name)) and match.group(1) <= f"{run_date:%Y%m%d}"
    )
    if not candidates:
        raise SourceUnavailableError(
            SOURCE, f"no waste_contacts_YYYYMMDD.csv dated on or before {run_date} in {drop_dir}"
        )
    return candidates[-1][1]


def read_drop_file(path: Path) -> pd.DataFrame:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise SourceUnavailableError(SOURCE, f"cannot open {path.name}: {exc}") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise SourceDataError(SOURCE, "file is empty, no header", path.name) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceDataError(
                SOURCE, f"unreadable header: {exc}", f"{path.name} line 1"
            ) from exc
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise SourceDataError(
                SOURCE, f"missing column(s) {', '.join(missing)}", f"{path.name} line 1"
            )
        rows = []
        id_index = header.index("CONTACT_ID")
        try:
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    raise SourceDataError(
                        SOURCE,
                        f"expected {len(header)} fields, found {len(row)}",
                        f"{path.name} line {line}",
                    )
                if not row[id_index].strip():
                    raise SourceDataError(SOURCE, "CONTACT_ID is empty", f"{path.name} line {line}")
                rows.append(row)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceDataError(
                SOURCE, f"unreadable row: {exc}", f"{path.name} line {reader.line_num + 1}"
            ) from exc
    return pd.DataFrame(rows, columns=header, dtype="string")


def extract(settings: SourceSettings, watermark: str | None, run_date: date) -> pd.DataFrame:
    path = drop_file_for(settings.waste_drop_dir, run_date)
    raw = read_drop_file(path)
    raw.insert(0, "DROP_FILE", path.name)
    return raw


def to_canonical(raw: pd.DataFrame) -> pd.DataFrame:
    names = [split_contact_name(value) for value in raw["CONTACT_NAME"].astype(object)]
    names_frame = pd.DataFrame(
        names, columns=["title", "first_name", "surname"], index=raw.index, dtype="string"
    )
    # PROPERTY_ADDRESS is one comma-separated line ending in the town.
    parts = raw["PROPERTY_ADDRESS"].fillna("").str.split(",").map(lambda p: [x.strip() for x in p])
    town = parts.map(lambda p: p[-1] if len(p) > 1 else None)
    lines = parts.map(lambda p: p[:-1] if len(p) > 1 else p)
    return pd.DataFrame(
        {
            "source_system": SOURCE,
            "source_record_id": raw["CONTACT_ID"],
            "title": names_frame["title"],
            "first_name": names_frame["first_name"],
            "middle_names": pd.NA,
            "surname": names_frame["surname"],
            "date_of_birth": pd.NA,
            "email": raw["CONTACT_EMAIL"],
            "phone": raw["CONTACT_TEL"],
            "address_line_1": lines.map(lambda p: p[0] if len(p) > 0 else None),
            "address_line_2": lines.map(lambda p: p[1] if len(p) > 1 else None),
            "address_line_3": lines.map(lambda p: ", ".join(p[2:]) if len(p) > 2 else None),
            "town": town,
            "postcode": raw["POSTCODE"],
            "uprn": raw["UPRN"],
            "ni_number": pd.NA,
            "source_updated_at": iso_timestamp(SOURCE, raw["LAST_UPDATED"]),
        }
    )
