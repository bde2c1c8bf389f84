"""A fault between the nightly benchmark's nights, and the check that its night changed
nothing: the fault matrix of ``tests/test_faults.py`` at a council's size.

The fault is the one a council meets most often from a supplier's export: the libraries'
nightly drop arrives with half its borrowers (a file cut short, whole by its marker).
The sources gate must refuse that night, the golden store and the CRM must be as they
were, row for row, and the next night, its drop whole again, must publish the changes
of both nights. Every table of both databases is digested in key order before and after
the refused night (rows, not file bytes: SQLite may rewrite a page and keep its rows).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

from devtools.generate.write import library_drop_name
from golden_record.atomic import write_atomically, write_text


def table_digests(database: Path) -> dict[str, str]:
    """Each table of the SQLite database at ``database``: a digest of its rows sorted by
    every column (the same rows give the same digest, whatever their order on disk)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        digests = {}
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            width = len(connection.execute(f"PRAGMA table_info({quoted})").fetchall())
            order = ", ".join(str(i) for i in range(1, width + 1))
            digest = hashlib.sha256()
            for row in connection.execute(f"SELECT * FROM {quoted} ORDER BY {order}"):
                digest.update(repr(row).encode())
            digests[table] = digest.hexdigest()
    return digests


def _latest_drop(folder: Path, day: date) -> Path:
    named = sorted(folder.glob("library_borrowers_*.csv"))
    dated = [p for p in named if p.name <= library_drop_name(day)]
    if not dated:
        raise FileNotFoundError(f"no libraries drop on or before {day} in {folder}")
    return dated[-1]


def _drop(rows: list[list[str]], path: Path) -> None:
    """``rows`` (the header first) as the supplier's drop for a day, then its marker."""

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)

    write_atomically(path, write)
    write_text(f"rows={len(rows) - 1}\n", path.with_name(path.name + ".done"))


def halve_library_drop(sample: Path, day: date) -> Path:
    """The libraries' drop for ``day`` with every other borrower of the last whole one;
    that whole drop is kept beside it (returned) to be restored the night after."""
    folder = sample / "libraries" / "drop"
    whole = _latest_drop(folder, day)
    kept = whole.with_name(whole.name + ".whole")
    shutil.copyfile(whole, kept)
    with whole.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    _drop([header, *rows[::2]], folder / library_drop_name(day))
    return kept


def restore_library_drop(sample: Path, day: date, whole: Path) -> None:
    """The whole drop again, dated ``day``, as the supplier's next export."""
    with whole.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    _drop(rows, sample / "libraries" / "drop" / library_drop_name(day))
    whole.unlink()
