"""Waste services: property-keyed contacts from the nightly CSV drop folder.

Each drop file (``waste_contacts_YYYYMMDD.csv``) is a full snapshot; a run reads the
newest file dated on or before the run's date, once it is whole. Every row is checked
against the header, and a bad row fails the extract naming the file and line.

A file still being written (or cut off when its writer died) must not be read as the
source's state: a snapshot missing its last tenth of rows would retire those residents.
A drop is whole when its completion marker ``<file>.done`` is there (written after the
file; ``rows=N`` in it is checked against the rows read), or, unless the source says
markers are required (``waste_complete_when = "marker"``), when the file has not changed
for ``waste_stable_seconds``. A file still changing is waited for, then left for a retry.
A change timestamp cut short (``2026-``) fails at its line, never read as a default date.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date
from pathlib import Path

import pandas as pd

from golden_record.extract.sources.errors import SourceDataError, SourceUnavailableError
from golden_record.extract.sources.text import (
    iso_timestamp,
    split_contact_name,
    unreadable_timestamps,
)
from golden_record.settings import SourceSettings

SOURCE = "waste"
KEY_COLUMN = "CONTACT_ID"
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


# Columns that hold one token: a comma or quote in one means a stray quote has merged
# fields (a UPRN once became "100000250375,152 Fuller Wells").
_SINGLE_TOKEN_COLUMNS = ("CONTACT_ID", "UPRN", "POSTCODE", "CONTACT_TEL", "CONTACT_EMAIL")
_UPRN = re.compile(r"^\d{1,12}$")


def _decoded(path: Path) -> str:
    """The file as text: UTF-8, with or without the byte-order mark Excel writes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailableError(SOURCE, f"cannot open {path.name}: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceDataError(
            SOURCE,
            f"byte 0x{data[exc.start]:02X} at column {column} is not UTF-8; expected a UTF-8 "
            "file (re-export it as UTF-8)",
            f"{path.name} line {line}",
        ) from None


def _check_row(row: list[str], header: list[str], where: str) -> None:
    if len(row) != len(header):
        raise SourceDataError(SOURCE, f"expected {len(header)} fields, found {len(row)}", where)
    values = dict(zip(header, row, strict=True))
    if not values["CONTACT_ID"].strip():
        raise SourceDataError(SOURCE, "CONTACT_ID is empty", where)
    for column in _SINGLE_TOKEN_COLUMNS:
        if any(mark in values[column] for mark in ',"\n'):
            raise SourceDataError(
                SOURCE,
                f"{column} holds a comma, quote or line break; expected a single value "
                "(a stray quote merges fields)",
                where,
            )
    uprn = values["UPRN"].strip()
    if uprn and not _UPRN.match(uprn):
        raise SourceDataError(SOURCE, "UPRN is not a number of up to 12 digits", where)


def read_drop_file(path: Path) -> pd.DataFrame:
    """The drop file's rows, strictly: each row one line unless a value is quoted whole,
    every single-value column a single value, every change timestamp readable. A bad row
    fails the extract naming the file and line."""
    reader = csv.reader(io.StringIO(_decoded(path), newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceDataError(SOURCE, "file is empty, no header", path.name) from None
    except csv.Error as exc:
        raise SourceDataError(SOURCE, f"unreadable header: {exc}", f"{path.name} line 1") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise SourceDataError(
            SOURCE,
            f"missing column(s) {', '.join(missing)}; the header has {', '.join(header)}",
            f"{path.name} line 1",
        )
    rows, lines = [], []
    ended = reader.line_num
    try:
        for row in reader:
            start, ended = ended + 1, reader.line_num
            where = f"{path.name} line {start}"
            if not row:
                continue
            _check_row(row, header, where)
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        raise SourceDataError(
            SOURCE,
            f"unreadable row: {exc}; expected values quoted whole (a stray quote?)",
            f"{path.name} line {ended + 1}",
        ) from exc
    frame = pd.DataFrame(rows, columns=header, dtype="string")
    stamps = frame["LAST_UPDATED"].str.strip()
    bad = (unreadable_timestamps(stamps) & (stamps != "")).to_numpy().nonzero()[0]
    if len(bad):
        raise SourceDataError(
            SOURCE,
            f"unreadable LAST_UPDATED {stamps.iloc[bad[0]]!r}; expected a date and time in "
            "full, such as 2026-11-02 14:03:00 (a file cut off mid-write?)",
            f"{path.name} line {lines[bad[0]]}",
        )
    return frame


COMPLETION_MODES = ("marker", "stable")


def marker_for(path: Path) -> Path:
    return path.with_name(path.name + ".done")


def _rows_in_marker(marker: Path) -> int | None:
    """The row count a completion marker gives (``rows=N``), if it gives one."""
    try:
        text = marker.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceUnavailableError(SOURCE, f"cannot read {marker.name}: {exc}") from exc
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "rows":
            if not value.strip().isdigit():
                raise SourceDataError(
                    SOURCE, f"rows={value.strip()!r} is not a whole number", marker.name
                )
            return int(value.strip())
    return None


def wait_until_whole(path: Path, settings: SourceSettings) -> int | None:
    """Return once ``path`` is whole (see the module's docstring), with the row count its
    marker gives; a file not yet whole is a transient failure, retried later."""
    mode = settings.waste_complete_when
    if mode not in COMPLETION_MODES:
        raise SourceUnavailableError(
            SOURCE,
            f"waste_complete_when is {mode!r}; expected one of {', '.join(COMPLETION_MODES)}",
        )
    marker = marker_for(path)
    if marker.is_file():
        return _rows_in_marker(marker)
    if mode == "marker":
        raise SourceUnavailableError(
            SOURCE,
            f"{path.name} has no completion marker {marker.name} yet; the drop is read once its "
            "writer has finished and written the marker",
        )
    wait = settings.waste_stable_seconds
    deadline = time.monotonic() + 3 * wait
    seen = path.stat()
    while time.time() - seen.st_mtime < wait:
        if time.monotonic() > deadline:
            raise SourceUnavailableError(
                SOURCE, f"{path.name} is still being written (changed in the last {wait:g} s)"
            )
        time.sleep(min(1.0, max(0.05, wait - (time.time() - seen.st_mtime))))
        now = path.stat()
        if (now.st_size, now.st_mtime_ns) != (seen.st_size, seen.st_mtime_ns):
            seen = now
    return None


def extract(settings: SourceSettings, watermark: str | None, run_date: date) -> pd.DataFrame:
    if settings.waste_drop_dir is None:
        raise SourceUnavailableError(SOURCE, "no drop folder given (its connection's extra.path)")
    path = drop_file_for(settings.waste_drop_dir, run_date)
    expected_rows = wait_until_whole(path, settings)
    raw = read_drop_file(path)
    if expected_rows is not None and expected_rows != len(raw):
        raise SourceDataError(
            SOURCE,
            f"the file holds {len(raw):,} rows where its marker {marker_for(path).name} says "
            f"{expected_rows:,}; expected the whole file (cut off, or the marker is stale)",
            path.name,
        )
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
            "source_updated_at": iso_timestamp(SOURCE, raw["LAST_UPDATED"], raw["CONTACT_ID"]),
        }
    )
