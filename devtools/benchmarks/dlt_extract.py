"""dlt's ``sql_database`` source beside this project's extract, on the same source table.

Issue 35 asked whether dlt should take over the extract layer. It is not in the lock, so
this runs in a virtual environment of its own (``uv venv /tmp/dltenv && uv pip install
"dlt[sql_database,parquet,filesystem]>=1.31" pandas``):

    /tmp/dltenv/bin/python devtools/benchmarks/dlt_extract.py --db SAMPLE/revenues.db
    .venv/bin/python devtools/benchmarks/dlt_extract.py --db SAMPLE/revenues.db --ours

dlt: ``sql_table`` on ``ctax_liable_party`` with an incremental cursor on
``last_modified`` (the pyarrow backend), loaded as Parquet to a filesystem destination;
then the same pipeline run again (a rerun of the night), then once more after a row is
changed and a row deleted at source. Each run's time and the rows it loaded are printed
as JSON: what a rerun lands, and whether a deletion is seen, are the guarantees measured.
Ours: the same table read by ``golden_record.extract.sources._sql.read_query`` with the
same watermark column, and written to Parquet, timed the same way.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

TABLE, CURSOR, KEY = "ctax_liable_party", "last_modified", "party_id"


def _dlt_run(db: Path, work: Path) -> dict[str, Any]:
    import dlt
    from dlt.sources.sql_database import sql_table

    table = sql_table(
        credentials=f"sqlite:///{db}",
        table=TABLE,
        backend="pyarrow",
        chunk_size=100_000,
        incremental=dlt.sources.incremental(CURSOR),
    )
    pipeline = dlt.pipeline(
        pipeline_name="revenues",
        pipelines_dir=str(work / "pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=(work / "landed").as_uri()),
        dataset_name="raw",
    )
    started = time.perf_counter()
    pipeline.run(table, loader_file_format="parquet")
    seconds = time.perf_counter() - started
    rows = pipeline.last_trace.last_normalize_info.row_counts.get(TABLE, 0)
    return {"seconds": round(seconds, 1), "rows_loaded": rows}


def _dlt(db: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="dlt-eval-"))
    copy = work / "revenues.db"
    shutil.copy2(db, copy)
    try:
        first = _dlt_run(copy, work)
        rerun = _dlt_run(copy, work)
        with sqlite3.connect(copy) as connection:
            (changed, gone) = [
                r[0]
                for r in connection.execute(f"SELECT {KEY} FROM {TABLE} ORDER BY {KEY} LIMIT 2")
            ]
            connection.execute(
                f"UPDATE {TABLE} SET email = 'moved@example.org', {CURSOR} = '2099-01-01 00:00:00'"
                f" WHERE {KEY} = ?",
                (changed,),
            )
            connection.execute(f"DELETE FROM {TABLE} WHERE {KEY} = ?", (gone,))
        after_edits = _dlt_run(copy, work)
        landed = sorted((work / "landed").rglob("*.parquet"))
        return {
            "engine": "dlt",
            "first_night": first,
            "rerun_same_night": rerun,
            "after_one_change_one_deletion": after_edits,
            "parquet_files_landed": len(landed),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ours(db: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from golden_record.extract.sources._sql import read_query

    work = Path(tempfile.mkdtemp(prefix="ours-eval-"))
    try:
        started = time.perf_counter()
        query = f"SELECT * FROM {TABLE} WHERE {CURSOR} > :watermark"  # noqa: S608
        raw = read_query("revenues", f"sqlite:///{db}", query, None)
        pq.write_table(pa.Table.from_pandas(raw, preserve_index=False), work / "raw.parquet")
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        keys = read_query("revenues", f"sqlite:///{db}", f"SELECT {KEY} FROM {TABLE}", None)
        key_seconds = time.perf_counter() - started
        return {
            "engine": "ours",
            "first_night": {"seconds": round(seconds, 1), "rows_loaded": len(raw)},
            "key_list": {"seconds": round(key_seconds, 1), "keys": len(keys)},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="a generated revenues.db")
    parser.add_argument("--ours", action="store_true", help="this project's extract instead")
    args = parser.parse_args(argv)
    print(json.dumps(_ours(args.db) if args.ours else _dlt(args.db), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
