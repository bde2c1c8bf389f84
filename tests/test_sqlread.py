"""Reading a query into a frame: beside the caller's SQLite connection (ADBC, into Arrow)
only while the caller's transaction has written nothing, and always the frame pandas
would read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from golden_record import sqlread
from golden_record.publish.database import crm_engine
from golden_record.sqlread import read_frame

ROWS = [
    ("a", None, 1.5, None, 1, None, None, "x"),
    ("b", "y", 2.0, 3.0, 2, 5, None, ""),
]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE t (s VARCHAR(10), sn VARCHAR(10), f FLOAT, fn FLOAT, i INTEGER,"
            " inn INTEGER, unfilled VARCHAR(5), e VARCHAR(3))"
        )
        connection.exec_driver_sql("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
        # Null for more rows than the driver's default batch, then text.
        connection.exec_driver_sql("CREATE TABLE late (v VARCHAR(5))")
        connection.exec_driver_sql("INSERT INTO late VALUES (?)", [(None,)] * 3000 + [("z",)])
    engine.dispose()
    return path


def _pandas_reading(path: Path, query: str) -> pd.DataFrame:
    import sqlite3

    with sqlite3.connect(path) as plain:
        return pd.read_sql(query, plain)


def _counting_side_reads(monkeypatch: pytest.MonkeyPatch) -> list[pd.DataFrame | None]:
    seen: list[pd.DataFrame | None] = []
    real = sqlread._read_beside

    def counted(database: str, query: str) -> pd.DataFrame | None:
        seen.append(real(database, query))
        return seen[-1]

    monkeypatch.setattr(sqlread, "_read_beside", counted)
    return seen


@pytest.mark.parametrize(
    "query",
    ["SELECT * FROM t", "SELECT * FROM t WHERE 0", "SELECT v FROM late", "SELECT unfilled FROM t"],
)
def test_a_read_beside_is_the_frame_pandas_reads(
    database: Path, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = _counting_side_reads(monkeypatch)
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        frame = read_frame(connection, query)
    engine.dispose()
    assert len(side) == 1 and side[0] is not None, "read beside the caller's connection"
    pd.testing.assert_frame_equal(frame, _pandas_reading(database, query))


def test_after_a_write_the_transaction_reads_its_own_rows(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = _counting_side_reads(monkeypatch)
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        before = read_frame(connection, "SELECT s FROM t")
        connection.execute(text("INSERT INTO t (s) VALUES ('c')"))
        after = read_frame(connection, "SELECT s FROM t")
        connection.rollback()
    engine.dispose()
    assert before["s"].tolist() == ["a", "b"]
    assert after["s"].tolist() == ["a", "b", "c"], "the uncommitted row is read"
    assert len(side) == 1, "only the read before the write went beside"


def test_a_locked_transaction_reads_beside_until_it_writes(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CRM's transactions hold the write lock from BEGIN IMMEDIATE: a reader beside
    them reads (no wait on the caller's own lock) until the caller writes."""
    side = _counting_side_reads(monkeypatch)
    engine: Engine = crm_engine(f"sqlite:///{database}", lock_timeout=2)
    with engine.connect() as connection, connection.begin():
        first = read_frame(connection, "SELECT i FROM t")
        connection.execute(text("DELETE FROM t WHERE s = 'a'"))
        second = read_frame(connection, "SELECT i FROM t")
    engine.dispose()
    assert first["i"].tolist() == [1, 2] and second["i"].tolist() == [2]
    assert len(side) == 1 and side[0] is not None


def test_a_temporary_table_of_the_callers_is_read_on_its_connection(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection beside cannot see the caller's temporary tables (the publish's staged
    rows): the driver refuses, and the caller's connection reads them."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TEMP TABLE staged (v VARCHAR(3))")
        connection.commit()
        side = _counting_side_reads(monkeypatch)
        frame = read_frame(connection, "SELECT v FROM staged")
    engine.dispose()
    assert len(side) == 1 and side[0] is None, "refused beside"
    assert frame.empty and list(frame.columns) == ["v"]


def test_a_query_with_parameters_is_read_on_the_callers_connection(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = _counting_side_reads(monkeypatch)
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        frame = read_frame(connection, "SELECT s FROM t WHERE i = :i", {"i": 2})
    engine.dispose()
    assert frame["s"].tolist() == ["b"] and side == []
