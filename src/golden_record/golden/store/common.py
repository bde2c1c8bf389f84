"""What the golden store's parts share: its errors, how a URL becomes an engine, and how
run input and golden attributes are hashed, written and read back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, create_engine, update
from sqlalchemy.engine import Connection, Engine, make_url

from golden_record.database_urls import with_installed_driver
from golden_record.digest import files_sha256
from golden_record.golden.content import row_hashes
from golden_record.golden.survivorship import Survivorship

if TYPE_CHECKING:
    from sqlalchemy import Column

# Golden records serialised and written at a time by a night.
GOLDEN_SLICE = 50_000
# Golden attribute texts parsed at a time when read back.
PARSE_SLICE = 100_000
CHUNK = 5_000


class StoreError(RuntimeError):
    """The store refused a change; nothing was written."""


@dataclass
class RunSummary:
    run_key: str
    golden_records: int
    source_records: int
    events: dict[str, int] = field(default_factory=dict)
    replayed: bool = False
    input_fingerprint: str = ""
    status: str = "accepted"
    # Source records of the clusters this night rebuilt (the rest were left as they
    # were), and why it rebuilt every one when it did.
    records_rebuilt: int = 0
    why_all: str = ""
    survivorship: str = ""


def default_store_url(root: Path) -> str:
    return f"sqlite:///{Path(root) / 'golden_store.db'}"


def engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(with_installed_driver(url))


def hold_write_lock(connection: Connection) -> None:
    """Take the store's write lock with the transaction's first statement (SQLite only).

    pysqlite starts a transaction at its first write, so until then another writer could
    commit between two of the night's reads; and :mod:`golden_record.sqlread` reads the
    night's current state on a connection of its own, which sees what the night's sees
    only once no other writer can commit (PostgreSQL locks row by row as before)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def fingerprint(
    clusters: pd.DataFrame, records: pd.DataFrame, record_rows: np.ndarray | None = None
) -> str:
    """A content hash of a run's input, independent of row order (``record_rows``: the
    records' :func:`row_hashes`, when already computed)."""
    digest = hashlib.sha256()
    if record_rows is None:
        record_rows = row_hashes(records)
    for hashed in (row_hashes(clusters), record_rows):
        digest.update(np.sort(hashed).tobytes())
    return digest.hexdigest()


def parse_attributes(texts: pd.Series) -> pd.DataFrame:
    """Golden attributes JSON, one object per row, as columns by the same index.

    Arrow's JSON reader parses them in compiled code (a million objects in seconds;
    ``json.loads`` row by row took most of a minute), every field read as text as it was
    written (Arrow would otherwise turn a date into a timestamp). Rows holding anything
    but text, null or a count are parsed row by row instead."""
    import pyarrow as pa
    from pyarrow import json as arrow_json

    if texts.empty:
        return pd.DataFrame(index=texts.index)
    sample = texts.iloc[:: max(1, len(texts) // 1000)]
    keys = sorted({key for text in sample for key in json.loads(text)})
    schema = pa.schema(
        [(key, pa.int64() if key == "source_record_count" else pa.string()) for key in keys]
    )

    def read(part: pd.Series) -> pd.DataFrame:
        # json.dumps escapes newlines, so one object per line is safe.
        data = ("\n".join(part.tolist()) + "\n").encode("utf-8")
        table = arrow_json.read_json(
            pa.py_buffer(data),
            read_options=arrow_json.ReadOptions(block_size=1 << 26),
            parse_options=arrow_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="error"
            ),
        )
        frame: pd.DataFrame = table.to_pandas()
        return frame.astype(object).where(frame.notna(), None)

    try:
        # In slices, so the text, its bytes and the table of a million records are never
        # all held at once (2.9 GB on a first night at a million records).
        parsed = pd.concat(
            [read(texts.iloc[i : i + PARSE_SLICE]) for i in range(0, len(texts), PARSE_SLICE)],
            ignore_index=True,
        )
    except pa.ArrowInvalid:  # a key no sampled row had, or a value of another type
        parsed = pd.DataFrame([json.loads(text) for text in texts])
    if len(parsed) != len(texts):
        raise StoreError("golden attributes did not parse one object per record")
    parsed.index = texts.index
    return parsed.astype(object).where(parsed.notna(), None)


def survivorship_digest(survivorship: Survivorship) -> str:
    """The rules and the code that turn records into golden records: when either changes,
    a night rebuilds every golden record instead of only the changed ones."""
    import golden_record.golden.records
    import golden_record.golden.survivorship

    code = [golden_record.golden.records.__file__, golden_record.golden.survivorship.__file__]
    digest = files_sha256([survivorship.path, *code])[:16]
    if not survivorship.declared_trust:
        return digest
    # Rankings the source declarations changed are rules too.
    placed = json.dumps(survivorship.declared_trust).encode()
    return hashlib.sha256(digest.encode() + placed).hexdigest()[:16]


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def row_dicts(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """``frame``'s rows as dicts, built from whole columns: ``to_dict("records")`` boxes
    each value on its own (10 s of a first night's golden records at a million)."""
    names = [str(name) for name in frame.columns]
    for row in zip(*(frame[name].tolist() for name in frame.columns), strict=True):
        yield dict(zip(names, row, strict=True))


def chunks(rows: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _plain_json(value: object) -> object:
    # A list column of the scored detail (a forename's variants) arrives as a numpy
    # array: written as the JSON list it is (printing it as text cost 4 s a night).
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def as_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=_plain_json)


def close_versions(
    connection: Connection, key_column: Column[Any], keys: list[str], run_key: str
) -> None:
    """End the current versions of ``keys`` at this run (history is kept, never deleted)."""
    table = key_column.table
    for start in range(0, len(keys), CHUNK):
        connection.execute(
            update(table)
            .where(
                and_(key_column.in_(keys[start : start + CHUNK]), table.c.valid_to_run.is_(None))
            )
            .values(valid_to_run=run_key)
        )


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names, if it does not exist (opening it would create it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    return None if path.is_file() else path
