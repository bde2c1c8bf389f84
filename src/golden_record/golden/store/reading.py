"""Reading the golden store: the current cross-reference and golden records, what a run
changed, the change feed, lineage and runs. No method here writes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, make_url

from golden_record.golden.store import migrate, schema
from golden_record.golden.store.common import (
    StoreError,
    engine_for,
    missing_sqlite_file,
    parse_attributes,
)
from golden_record.golden.survivorship import Survivorship
from golden_record.golden.survivorship import load as load_survivorship
from golden_record.sqlread import read_frame, read_frames


class StoreReading:
    """The store's connection and its read side."""

    def __init__(
        self, url: str, survivorship: Survivorship | None = None, must_exist: bool = False
    ):
        """``must_exist``: refuse a SQLite file that is not there, so a mistyped path in
        a read command says so instead of opening a new, empty store."""
        missing = missing_sqlite_file(url) if must_exist else None
        if missing is not None:
            raise StoreError(
                f"no golden store at {missing}: check the path (the nightly DAG's store is "
                "golden_store.db in the data folder)"
            )
        self.url = url
        self.safe_url = make_url(url).render_as_string(hide_password=True)
        self.engine = engine_for(url)
        self.survivorship = survivorship or load_survivorship()
        schema.metadata.create_all(self.engine)
        migrate.upgrade(self.engine)

    # ----- reading -------------------------------------------------------------------------

    def current_xref(self, connection: Connection | None = None) -> pd.DataFrame:
        query = select(
            schema.xref_version.c.unique_id,
            schema.xref_version.c.golden_id,
            schema.xref_version.c.match_probability,
            schema.xref_version.c.valid_from_run,
        ).where(schema.xref_version.c.valid_to_run.is_(None))
        return self.read(query, connection)

    def golden_records(
        self, connection: Connection | None = None, include_inactive: bool = False
    ) -> pd.DataFrame:
        """Current golden records, one row each, attributes as columns."""
        v = schema.golden_version
        query = select(
            v.c.golden_id, v.c.status, v.c.merged_into, v.c.attributes, v.c.source_record_count
        ).where(v.c.valid_to_run.is_(None))
        if not include_inactive:
            query = query.where(v.c.status == "active")
        query = query.order_by(v.c.golden_id)
        if connection is not None:
            return _with_attributes(read_frames(connection, query, READ_SLICE))
        with self.engine.connect() as own:
            return _with_attributes(read_frames(own, query, READ_SLICE))

    def golden_record(self, golden_id: str) -> dict[str, Any] | None:
        """One golden ID's current version (attributes, status, merged_into), or None."""
        v = schema.golden_version
        with self.engine.connect() as connection:
            row = connection.execute(
                select(v.c.status, v.c.merged_into, v.c.attributes).where(
                    and_(v.c.golden_id == golden_id, v.c.valid_to_run.is_(None))
                )
            ).first()
        if row is None:
            return None
        return {
            **json.loads(row.attributes),
            "golden_id": golden_id,
            "status": row.status,
            "merged_into": row.merged_into,
        }

    def golden_changed_in(self, run_key: str) -> tuple[set[str], pd.DataFrame]:
        """What ``run_key`` did to the golden records: the IDs whose version it ended,
        and the current versions it wrote (every status), as :meth:`golden_records`."""
        v = schema.golden_version
        with self.engine.connect() as connection:
            ended = set(
                connection.execute(select(v.c.golden_id).where(v.c.valid_to_run == run_key))
                .scalars()
                .all()
            )
            rows = self.read(
                select(
                    v.c.golden_id,
                    v.c.status,
                    v.c.merged_into,
                    v.c.attributes,
                    v.c.source_record_count,
                )  # fmt: skip
                .where(and_(v.c.valid_from_run == run_key, v.c.valid_to_run.is_(None)))
                .order_by(v.c.golden_id),
                connection,
            )
        attributes = parse_attributes(rows["attributes"])
        attributes = attributes.drop(columns=["source_record_count"], errors="ignore")
        return ended, pd.concat([rows.drop(columns="attributes"), attributes], axis=1)

    def xref_changed_in(self, run_key: str) -> tuple[set[str], pd.DataFrame]:
        """The source records whose membership ``run_key`` ended, and the memberships it
        wrote, as :meth:`current_xref`."""
        x = schema.xref_version
        with self.engine.connect() as connection:
            ended = set(
                connection.execute(select(x.c.unique_id).where(x.c.valid_to_run == run_key))
                .scalars()
                .all()
            )
            written = self.read(
                select(
                    x.c.unique_id, x.c.golden_id, x.c.match_probability, x.c.valid_from_run
                ).where(and_(x.c.valid_from_run == run_key, x.c.valid_to_run.is_(None))),
                connection,
            )
        return ended, written

    def review_detail_hashes(self, run_key: str) -> pd.DataFrame:
        """``run_key``'s review items that have scored detail: record_a, record_b,
        detail_hash."""
        r = schema.review_item
        return self.read(
            select(r.c.record_a, r.c.record_b, r.c.detail_hash).where(
                and_(r.c.run_key == run_key, r.c.detail_hash.is_not(None))
            )
        )

    def current_counts(self) -> tuple[int, int]:
        """Active golden records and current memberships, counted in the database."""
        v, x = schema.golden_version, schema.xref_version
        with self.engine.connect() as connection:
            golden = connection.execute(
                select(func.count())
                .select_from(v)
                .where(and_(v.c.valid_to_run.is_(None), v.c.status == "active"))
            ).scalar()
            members = connection.execute(
                select(func.count()).select_from(x).where(x.c.valid_to_run.is_(None))
            ).scalar()
        return int(golden or 0), int(members or 0)

    def events(self, after: int = 0, limit: int = 1000) -> pd.DataFrame:
        """The change feed in order, from just after sequence number ``after``."""
        e = schema.change_event
        query = select(e).where(e.c.sequence > after).order_by(e.c.sequence).limit(limit)
        return self.read(query)

    def events_of_run(self, run_key: str) -> pd.DataFrame:
        e = schema.change_event
        return self.read(select(e).where(e.c.run_key == run_key).order_by(e.c.sequence))

    def lineage(self) -> pd.DataFrame:
        """Where golden IDs went or came from: ``merged_into`` for every merged ID,
        ``split_from`` for every ID split off another. One row per such ID."""
        v, e = schema.golden_version, schema.change_event
        merged = self.read(
            select(v.c.golden_id, v.c.merged_into).where(
                and_(v.c.valid_to_run.is_(None), v.c.status == "merged")
            )
        )
        split = self.read(
            select(e.c.golden_id, e.c.other_golden_id.label("split_from")).where(
                e.c.event == "split"
            )
        )
        lineage = merged.merge(split, on="golden_id", how="outer")
        return lineage.sort_values("golden_id").reset_index(drop=True).astype("string")

    def runs(self, accepted_only: bool = False) -> pd.DataFrame:
        r = schema.store_run
        query = select(r).order_by(r.c.sequence)
        if accepted_only:
            query = query.where(r.c.status == "accepted")
        return self.read(query)

    def run_status(self, run_key: str) -> str | None:
        r = schema.store_run
        with self.engine.connect() as connection:
            return connection.execute(select(r.c.status).where(r.c.run_key == run_key)).scalar()

    def current_status(self, golden_id: str) -> tuple[str, str | None] | None:
        """The status of a golden record's current version and what it was merged into,
        or None when the store has no such record."""
        v = schema.golden_version
        with self.engine.connect() as connection:
            row = connection.execute(
                select(v.c.status, v.c.merged_into).where(
                    and_(v.c.golden_id == golden_id, v.c.valid_to_run.is_(None))
                )
            ).first()
        return None if row is None else (row.status, row.merged_into)

    def kept_model_row(self) -> tuple[str, str] | None:
        """The model (JSON text) and its metadata an earlier version kept as a store row,
        the latest one, or None."""
        table = schema.matching_model
        with self.engine.connect() as connection:
            row = connection.execute(
                select(table.c.model, table.c.meta).order_by(table.c.model_id.desc()).limit(1)
            ).first()
        return None if row is None else (row.model, row.meta)

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction over the store, for a job that writes several things that must
        commit together or not at all (a right's change and its request's audit row)."""
        return self.engine.begin()

    def read(self, query: Any, connection: Connection | None = None) -> pd.DataFrame:
        if connection is not None:
            return read_frame(connection, query)
        with self.engine.connect() as own:
            return read_frame(own, query)


# Golden records read and parsed at a time: read whole, the attributes' JSON text of
# every golden record was held beside the parsed frame (the golden task's read-back of
# a first night at a million records).
READ_SLICE = 100_000
VERSION_COLUMNS = ["golden_id", "status", "merged_into", "source_record_count"]


def _with_attributes(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Golden version rows with their attributes JSON parsed into columns (the version's
    own columns, then the attributes sorted by name), a slice at a time."""
    frames = []
    for rows in parts:
        attributes = parse_attributes(rows["attributes"])
        # The version's own count is authoritative (0 once merged or retired).
        attributes = attributes.drop(columns=["source_record_count"], errors="ignore")
        frames.append(pd.concat([rows.drop(columns="attributes"), attributes], axis=1))
        del rows, attributes
    if not frames:
        return pd.DataFrame(columns=VERSION_COLUMNS)
    golden = pd.concat(frames, ignore_index=True)
    for column in VERSION_COLUMNS:
        # Text in one slice and only nulls in another (a merged record's merged_into) is
        # text, as it is read whole.
        kinds = {str(frame[column].dtype) for frame in frames}
        if golden[column].dtype == object and "str" in kinds:
            golden[column] = golden[column].astype("str")
    named = sorted(c for c in golden.columns if c not in VERSION_COLUMNS)
    # An attribute a slice held no value of is missing there as None, as elsewhere.
    patchy = [c for c in named if any(c not in frame.columns for frame in frames)]
    del frames
    if patchy:
        part = golden[patchy]
        golden[patchy] = part.astype(object).where(part.notna(), None)
    return golden[VERSION_COLUMNS + named]
