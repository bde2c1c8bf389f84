"""Each run's publish as files, for CRMs that take files rather than reading views.

``<exports>/<run_key>/`` holds the published golden customers, their source records and
the change feed rows of that run's publishes, each as CSV and Parquet, read back from
the CRM's views so the files are what the CRM shows (on a usual night, only the rows the
run changed are read and the rest kept from the night before's export:
:mod:`golden_record.publish.export_patch`); ``manifest.json`` gives row counts, SHA-256
digests, the feed's sequence range and the export patched from, if any. The folder is
built beside its final place and swapped in whole: a failure (a full disk) leaves the
previous export of the run, or none, never a partial one.

The CSV files are opened in spreadsheets, so a text value that a spreadsheet would run as
a formula (beginning ``=``, ``+``, ``-``, ``@``, tab or carriage return) is written with a
leading apostrophe, as OWASP advises against CSV injection; a plain signed number such as
an E.164 phone number is left as it is. The Parquet files keep every value unchanged.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from golden_record import paths
from golden_record.atomic import replace_folder, two_at_a_time
from golden_record.digest import file_sha256
from golden_record.publish import contract
from golden_record.publish.database import crm_engine, explain, safe_url
from golden_record.publish.export_patch import SNAPSHOTS, earlier_export, patched
from golden_record.run import check_run_key
from golden_record.sqlread import read_frame


class ExportError(RuntimeError):
    """The run's export was not written; any earlier export of the run is untouched."""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d ]+(\.\d+)?$")


def spreadsheet_safe(value: object) -> object:
    """``value`` as a spreadsheet will show it, never run it (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return value if _PLAIN_NUMBER.match(value) else "'" + value
    return value


_FORMULA_FIRSTS = pa.array(_FORMULA_START, type=pa.string())


def _for_csv(table: pa.Table) -> pa.Table:
    """Text columns as a spreadsheet will show them (:func:`spreadsheet_safe`), and an
    empty text written as a missing one, as pandas writes it (DuckDB quotes it)."""
    for index, column in enumerate(table.columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        # Found in Arrow first: few values start like a formula, and a Python call per
        # value cost seconds per column at a million rows.
        first = pc.utf8_slice_codeunits(column, 0, 1)
        risky = pc.fill_null(pc.is_in(first, value_set=_FORMULA_FIRSTS), False)
        if pc.any(risky).as_py():
            flags = risky.to_numpy(zero_copy_only=False)
            values = column.to_pylist()
            pairs = zip(values, flags, strict=True)
            safe = [spreadsheet_safe(v) if flag else v for v, flag in pairs]
            column = pa.chunked_array([pa.array(safe, type=column.type)])
        blank = pc.fill_null(pc.equal(column, ""), False)
        column = pc.if_else(blank, pa.scalar(None, column.type), column)
        table = table.set_column(index, table.field(index), column)
    return table


def exports_root(root: Path | None = None) -> Path:
    return (root or paths.data_root()) / "crm_exports"


def _plain(value: object) -> object:
    """Values as the SQLite CRM stores them, whichever database they were read from."""
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC")
            frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif frame[column].dtype == object:
            frame[column] = frame[column].map(_plain)
    return frame


def _as_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _read(
    crm_url: str, run_key: str, exports: Path, patch: bool
) -> tuple[dict[str, pa.Table], str | None]:
    """The export's tables and the earlier export they were patched from (None: the
    views were read in full)."""
    engine = crm_engine(crm_url)
    try:
        with engine.connect() as connection, connection.begin():
            earlier = (
                earlier_export(
                    connection, exports, run_key, safe_url(crm_url), contract.LATEST_VERSION
                )
                if patch
                else None
            )
            tables = patched(connection, earlier, run_key, _plain_frame) if earlier else None
            if tables is None:
                earlier = None
                # Sorted here rather than by the database, whose collation may not be
                # the code-point order a patched export is sorted in.
                tables = {
                    stem: _as_table(
                        _plain_frame(read_frame(connection, f"SELECT * FROM {view}"))
                        .sort_values(list(key), kind="stable")
                        .reset_index(drop=True)
                    )
                    for stem, (view, key) in SNAPSHOTS.items()
                }
            tables["change_feed"] = _as_table(
                _plain_frame(
                    read_frame(
                        connection,
                        "SELECT * FROM crm_change_feed WHERE run_key = :run_key ORDER BY sequence",
                        {"run_key": run_key},
                    )
                )
            )
            return tables, earlier.run_key if earlier else None
    finally:
        engine.dispose()


def write_csv(table: pa.Table, path: Path) -> None:
    """The table as pandas' ``to_csv`` wrote its frame, by DuckDB's writer (a fifth of
    the time at a million rows)."""
    import duckdb

    rows = _for_csv(table)
    connection = duckdb.connect()
    try:
        connection.register("export_rows", rows)
        target = str(path).replace("'", "''")
        connection.execute(f"COPY export_rows TO '{target}' (HEADER, DELIMITER ',')")
    except duckdb.IOException as exc:
        # As a failed write of Python's own: the caller names a full disk by its errno.
        code = re.search(r'"errno":"(\d+)"', str(exc))
        number = int(code.group(1)) if code else errno.EIO
        raise OSError(number, os.strerror(number), str(path)) from None
    finally:
        connection.close()


def _written(tables: dict[str, pa.Table], folder: Path) -> list[tuple[str, dict]]:
    """Each table as CSV and Parquet in ``folder``, with its rows and digest, in order,
    two files at a time (:func:`golden_record.atomic.two_at_a_time`)."""

    def one(job: tuple[pa.Table, str, Callable[[pa.Table, Path], None]]) -> tuple[str, dict]:
        table, name, write = job
        path = folder / name
        write(table, path)
        return path.name, {"rows": table.num_rows, "sha256": file_sha256(path)}

    jobs = [
        (table, f"{stem}.{suffix}", write)
        for stem, table in tables.items()
        for suffix, write in (("csv", write_csv), ("parquet", pq.write_table))
    ]
    return two_at_a_time(one, jobs)


def export_run(
    run_key: str, crm_url: str, out_root: Path | None = None, patch: bool = True
) -> Path:
    """Write ``<exports>/<run_key>/`` from the CRM as it stands after the run's publish
    (``patch``: from the last export before it where that is certainly the same,
    :mod:`golden_record.publish.export_patch`)."""
    check_run_key(run_key)
    exports = exports_root(out_root)
    try:
        tables, patched_from = _read(crm_url, run_key, exports, patch)
    except Exception as exc:
        raise ExportError(f"exporting run {run_key}: {explain(exc, crm_url).message}") from None
    final = exports / run_key
    building = final.with_name(f".{run_key}.building")
    shutil.rmtree(building, ignore_errors=True)
    try:
        building.mkdir(parents=True)
        files = dict(_written(tables, building))
        feed = tables["change_feed"].column("sequence").to_pandas()
        manifest = {
            "run_key": run_key,
            "crm": safe_url(crm_url),
            "contract_version": contract.LATEST_VERSION,
            "patched_from": patched_from,
            "files": files,
            "change_feed": {
                "first_sequence": int(feed.min()) if len(feed) else None,
                "last_sequence": int(feed.max()) if len(feed) else None,
            },
        }
        (building / "manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        replace_folder(building, final)
    except OSError as exc:
        shutil.rmtree(building, ignore_errors=True)
        cause = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else str(exc)
        raise ExportError(
            f"exporting run {run_key} to {final} failed: {cause} ({exc.strerror or exc}). "
            "No partial export was left; the CRM tables are published"
        ) from exc
    return final
