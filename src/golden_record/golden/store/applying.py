"""Applying a night to the golden store, staging it, accepting it and taking it back.

:meth:`GoldenStore.apply_run` takes one night's clusters and records and, inside a single
transaction, carries persistent IDs over (:mod:`golden_record.golden.identity`), chooses each
attribute (:mod:`golden_record.golden.survivorship`), versions what changed and writes the change
feed. A crash anywhere leaves the store as it was before the run.

Staging (write-audit-publish): the nightly path applies a night *staged*: its changes are
written as a pending run that becomes the store's state only when its golden gate passes
(:meth:`GoldenStore.accept_run`). A refused night is taken back whole
(:meth:`GoldenStore.take_back_pending`), its review items and their scored detail with
it, and a pending night left behind by a crash is taken back before the next night is
applied, so a refused night never becomes the baseline of a later one.

Reruns: applying a run again with the same input changes nothing and returns what the
first application did. Applying the *latest* run again with different input takes that
run back exactly (its versions, events and IDs) and applies the new input; applying an
older run again is refused, since later runs were built on it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from golden_record.bulk_load import bulk_insert
from golden_record.golden import corrections as correction
from golden_record.golden.content import content_hashes, record_hashes, row_hashes
from golden_record.golden.identity import assign_persistent_ids
from golden_record.golden.records import build_golden_records
from golden_record.golden.store import schema
from golden_record.golden.store.common import (
    CHUNK,
    GOLDEN_SLICE,
    RunSummary,
    StoreError,
    as_json,
    chunks,
    close_versions,
    fingerprint,
    hold_write_lock,
    now_text,
    row_dicts,
    survivorship_digest,
)
from golden_record.golden.store.reading import StoreReading
from golden_record.golden.store.rectifications import Rectifications
from golden_record.golden.store.review import write_review
from golden_record.golden.touched import split_settled
from golden_record.keys import held_in, positions_in
from golden_record.memory import trim
from golden_record.sqlread import read_frame

# The golden_version columns a night writes (version_id is the database's, valid_to_run
# stays empty until a later night closes the version).
_GOLDEN_COLUMNS = [
    "golden_id",
    "status",
    "merged_into",
    "attributes",
    "content_hash",
    "source_record_count",
    "valid_from_run",
]


@dataclass(frozen=True)
class _HashesAgainst:
    """Tonight's record hashes beside the store's, each of tonight's records looked up by
    position (Arrow's): through pandas, reindexing a million object ids by another twice
    a night took a second of a quiet night's golden task."""

    ids: np.ndarray  # tonight's unique ids (objects), in the order given
    id_array: pa.Array  # the same in Arrow, converted once for every look-up
    hashes: np.ndarray  # and their content hashes
    held: np.ndarray  # whether the store holds each
    differs: np.ndarray  # whether each is new or its hash changed
    stored_ids: pd.Series  # the store's current ids, as read

    @classmethod
    def of(cls, tonight: pd.Series, stored: pd.DataFrame) -> _HashesAgainst:
        """``tonight``: hashes by unique_id; ``stored``: unique_id, content_hash."""
        ids = tonight.index.to_numpy(dtype=object)
        id_array = pa.array(ids, type=pa.string())
        hashes = tonight.to_numpy(dtype=object)
        at = positions_in(id_array, stored["unique_id"])
        held = at >= 0
        # Where the store has none, compared with a value of its own: differs anyway.
        before = np.append(stored["content_hash"].to_numpy(dtype=object), np.array([None]))[at]
        differs = ~held | (before != hashes)
        return cls(ids, id_array, hashes, held, differs, stored["unique_id"])

    def differs_for(self, unique_ids: pd.Series) -> np.ndarray:
        """Whether each of ``unique_ids`` is new or changed (one tonight has no hash for:
        changed)."""
        at = positions_in(unique_ids, self.id_array)
        return np.where(at >= 0, np.append(self.differs, True)[at], True)

    def gone(self) -> list[str]:
        """The store's current ids that tonight has none of, in order."""
        return sorted(self.stored_ids[~held_in(self.stored_ids, self.id_array)].tolist())


class NightApplying(StoreReading):
    """Nights applied to the store, accepted and taken back."""

    def apply_run(
        self,
        run_key: str,
        run_date: str,
        clusters: pd.DataFrame,
        records: pd.DataFrame,
        review_pairs: pd.DataFrame | None = None,
        pair_detail: pd.DataFrame | None = None,
        staged: bool = False,
        rebuild_all: str | None = None,
        carried_detail: pd.DataFrame | None = None,
    ) -> RunSummary:
        """``clusters``: unique_id, cluster_id, cluster_match_probability (every record);
        ``records``: presentable records with ``unique_id``; ``review_pairs``:
        unique_id_l, unique_id_r, match_probability, match_weight, reason; ``pair_detail``:
        Splink's scored pairs with their detail columns, kept with each review pair
        (``carried_detail``: record_a, record_b, detail_hash of review pairs whose detail
        the store holds already, :mod:`golden_record.golden.carried_detail`).
        ``staged``: write the run as pending, for its gate to accept or take back; any
        other pending run (a night stopped or crashed before its gate decided) is taken
        back first. ``rebuild_all``: rebuild every golden record, not only those whose
        records changed, and say why (the monthly full re-match checks both ways agree)."""
        # Found in Arrow: a Python set of a million Arrow-held ids took 1.5 s a night.
        missing = pd.concat(
            [
                clusters.loc[~held_in(clusters["unique_id"], records["unique_id"]), "unique_id"],
                records.loc[~held_in(records["unique_id"], clusters["unique_id"]), "unique_id"],
            ]
        )
        if len(missing):
            raise StoreError(
                f"run {run_key}: clusters and records disagree on record {min(missing)}"
            )
        record_rows = row_hashes(records)
        input_fingerprint = fingerprint(clusters, records, record_rows)
        # Keys as Python strings: set operations on Arrow-backed strings take a Python
        # step per value (9 s a night at a million records).
        clusters = clusters.astype({"unique_id": object, "cluster_id": object})
        records = records.astype({"unique_id": object})
        with self.engine.begin() as connection:
            hold_write_lock(connection)
            self._take_back_pending(connection, keep=run_key)
            earlier = connection.execute(
                select(schema.store_run).where(schema.store_run.c.run_key == run_key)
            ).first()
            if earlier is not None:
                if earlier.input_fingerprint == input_fingerprint:
                    summary = RunSummary(**json.loads(earlier.summary))
                    summary.replayed = True
                    summary.status = earlier.status
                    return summary
                latest = connection.execute(select(func.max(schema.store_run.c.sequence))).scalar()
                if earlier.sequence != latest:
                    raise StoreError(
                        f"run {run_key} was applied before later runs and its input has "
                        "changed; only the latest run can be applied again"
                    )
                self._take_back(connection, run_key)
            summary = self._apply(
                connection,
                run_key,
                run_date,
                clusters,
                records,
                record_hashes(records, record_rows),
                input_fingerprint,
                "pending" if staged else "accepted",
                rebuild_all,
            )
            if review_pairs is not None and len(review_pairs):
                write_review(connection, run_key, review_pairs, pair_detail, carried_detail)
        return summary

    def accept_run(self, run_key: str) -> None:
        """Make a staged run the store's state (its gate passed); accepting twice is a
        no-op."""
        r = schema.store_run
        with self.engine.begin() as connection:
            status = connection.execute(select(r.c.status).where(r.c.run_key == run_key)).scalar()
            if status is None:
                raise StoreError(f"run {run_key} is not in the store; nothing to accept")
            connection.execute(update(r).where(r.c.run_key == run_key).values(status="accepted"))

    def take_back_pending(self, run_key: str | None = None) -> list[str]:
        """Take back staged runs (``run_key`` alone, or all): the store returns exactly to
        its last accepted state. Returns the runs taken back; an accepted run is never
        taken back here."""
        with self.engine.begin() as connection:
            return self._take_back_pending(connection, only=run_key)

    def runs_since(self, run_key: str, connection: Connection | None = None) -> list[str]:
        """``run_key`` and every run applied after it, in the order applied; empty when
        the store does not hold ``run_key``."""
        if connection is None:
            with self.engine.connect() as own:
                return self.runs_since(run_key, own)
        r = schema.store_run
        sequence = connection.execute(select(r.c.sequence).where(r.c.run_key == run_key)).scalar()
        if sequence is None:
            return []
        query = select(r.c.run_key).where(r.c.sequence >= sequence).order_by(r.c.sequence)
        return list(connection.execute(query).scalars())

    def take_back_since(self, run_key: str) -> list[str]:
        """Take back ``run_key`` and every run applied after it (they were built on it),
        newest first, in one transaction: the store returns exactly to its state before
        ``run_key``. Returns the runs taken back, in the order they had been applied."""
        with self.engine.begin() as connection:
            taken = self.runs_since(run_key, connection)
            if not taken:
                raise StoreError(f"run {run_key} is not in the golden store; nothing to take back")
            for key in reversed(taken):
                self._take_back(connection, key)
        return taken

    def _take_back_pending(
        self, connection: Connection, keep: str | None = None, only: str | None = None
    ) -> list[str]:
        r = schema.store_run
        query = select(r.c.run_key).where(r.c.status == "pending").order_by(r.c.sequence.desc())
        if only is not None:
            query = query.where(r.c.run_key == only)
        pending = [key for key in connection.execute(query).scalars() if key != keep]
        for key in pending:
            self._take_back(connection, key)
        return pending

    def _take_back(self, connection: Connection, run_key: str) -> None:
        """Undo one run exactly: its versions, events, IDs, review items (with scored
        detail no other run's item refers to) and run row."""
        for table in (schema.golden_version, schema.xref_version, schema.record_version):
            connection.execute(delete(table).where(table.c.valid_from_run == run_key))
            connection.execute(
                update(table).where(table.c.valid_to_run == run_key).values(valid_to_run=None)
            )
        connection.execute(
            delete(schema.change_event).where(schema.change_event.c.run_key == run_key)
        )
        Rectifications.take_back_corrections(connection, run_key)
        r, d = schema.review_item, schema.review_detail
        hashes = set(
            connection.execute(
                select(r.c.detail_hash).where(
                    and_(r.c.run_key == run_key, r.c.detail_hash.is_not(None))
                )
            ).scalars()
        )
        connection.execute(delete(r).where(r.c.run_key == run_key))
        ordered = sorted(hashes)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            still_used = select(r.c.detail_hash).where(r.c.detail_hash.in_(chunk))
            unused = and_(d.c.detail_hash.in_(chunk), d.c.detail_hash.not_in(still_used))
            connection.execute(delete(d).where(unused))
        connection.execute(
            delete(schema.golden_id_registry).where(
                schema.golden_id_registry.c.created_run == run_key
            )
        )
        connection.execute(delete(schema.store_run).where(schema.store_run.c.run_key == run_key))
        connection.execute(delete(schema.run_folder).where(schema.run_folder.c.run_key == run_key))

    def _apply(
        self,
        connection: Connection,
        run_key: str,
        run_date: str,
        clusters: pd.DataFrame,
        records: pd.DataFrame,
        hashes: pd.Series,
        input_fingerprint: str,
        status: str,
        rebuild_all: str | None,
    ) -> RunSummary:
        sequence = (
            connection.execute(select(func.max(schema.store_run.c.sequence))).scalar() or 0
        ) + 1
        rules = survivorship_digest(self.survivorship)
        why_all = rebuild_all or self._why_rebuild_all(connection, rules)
        # The store's current state, read before the night writes anything: on SQLite
        # then each is read beside the night's connection, straight into Arrow
        # (golden_record.sqlread), a third of the time.
        previous = self.current_xref(connection)
        stored = self._current_record_hashes(connection)
        golden_versions = self._current_golden_versions(connection)
        connection.execute(
            insert(schema.store_run).values(
                run_key=run_key,
                sequence=sequence,
                run_date=run_date,
                input_fingerprint=input_fingerprint,
                applied_at=now_text(),
                summary="{}",
                status=status,
            )
        )
        against = _HashesAgainst.of(hashes, stored)
        changed = against.differs_for(clusters["unique_id"])
        if why_all:
            changed[:] = True
        # Golden records under a steward's correction (or just out of one) are rebuilt
        # every night, so the correction holds, or ends when the source agrees.
        corrections = Rectifications.corrections_pending(connection)
        if len(corrections):
            corrected = previous["unique_id"][
                held_in(previous["golden_id"], corrections["golden_id"])
            ]
            changed |= held_in(clusters["unique_id"], corrected)
        touched = split_settled(clusters, previous, changed)
        reached = touched.previous
        created_order = self._created_order(connection, reached["golden_id"].unique().tolist())
        first_seen = reached.set_index("unique_id")["valid_from_run"]
        outcome = assign_persistent_ids(
            touched.clusters, reached, created_order, run_key, first_seen=first_seen
        )
        new_ids = sorted({*outcome.created, *(new for _, new in outcome.split)})
        clash = self._registered(connection, new_ids)
        if clash:
            raise StoreError(f"run {run_key}: minted golden ID {clash[0]} already used")
        bulk_insert(
            connection,
            schema.golden_id_registry.name,
            pd.DataFrame(
                {"golden_id": new_ids, "created_run": run_key, "created_sequence": sequence},
                columns=["golden_id", "created_run", "created_sequence"],
            ),
        )

        membership = outcome.membership.merge(
            touched.clusters[["unique_id", "cluster_match_probability"]], on="unique_id"
        )
        members_changed = self._write_xref(connection, run_key, reached, membership)
        self._write_record_hashes(connection, run_key, against)
        # What the cross-reference's and the hashes' inserts freed (a first night's million
        # rows of Python values) goes back before the golden records are built.
        trim()
        rebuilding = held_in(records["unique_id"], membership["unique_id"])
        rebuilt = records if rebuilding.all() else records[rebuilding]
        golden = build_golden_records(rebuilt, outcome.membership, self.survivorship)
        del rebuilt  # every record on a first night: not held through the writes
        overlaid = correction.apply(golden, corrections, self.survivorship)
        if len(corrections) and len(golden):
            ended = corrections.loc[corrections["ended_at"].notna(), "correction_id"]
            Rectifications.corrections_seen_by(
                connection, run_key, [int(i) for i in ended], overlaid.sources_agree
            )
        golden = overlaid.golden
        counts = membership.groupby("golden_id").size()
        changed_golden = self._write_golden(
            connection, run_key, golden, counts, members_changed, golden_versions
        )

        rows = (
            [{"event": "created", "golden_id": g, "other_golden_id": None} for g in outcome.created]
            + [
                {"event": "split", "golden_id": new, "other_golden_id": old}
                for old, new in outcome.split
            ]
            + [
                {"event": "merged", "golden_id": old, "other_golden_id": into}
                for old, into in outcome.merged
            ]
            + [
                {"event": "updated", "golden_id": g, "other_golden_id": None, "changed": as_json(c)}
                for g, c in sorted(changed_golden.items())
            ]
            + [
                {"event": "retired", "golden_id": g, "other_golden_id": None}
                for g in outcome.retired
            ]
        )
        self._close_inactive(connection, run_key, outcome.merged, outcome.retired)
        for row in rows:
            row.setdefault("changed", None)
            row["run_key"] = run_key
        bulk_insert(
            connection,
            schema.change_event.name,
            pd.DataFrame(
                rows, columns=["run_key", "event", "golden_id", "other_golden_id", "changed"]
            ),
        )

        summary = RunSummary(
            run_key=run_key,
            golden_records=int(counts.size) + touched.settled_golden_ids,
            source_records=len(membership) + len(touched.settled),
            events={
                kind: sum(1 for r in rows if r["event"] == kind)
                for kind in ("created", "updated", "merged", "split", "retired")
            },
            input_fingerprint=input_fingerprint,
            status=status,
            records_rebuilt=len(membership),
            why_all=why_all or "",
            survivorship=rules,
        )
        connection.execute(
            update(schema.store_run)
            .where(schema.store_run.c.run_key == run_key)
            .values(summary=as_json(asdict(summary)))
        )
        return summary

    @staticmethod
    def _why_rebuild_all(connection: Connection, rules: str) -> str | None:
        """Why tonight must rebuild every golden record (None: only the changed ones)."""
        r = schema.store_run
        last = connection.execute(
            select(r.c.summary).order_by(r.c.sequence.desc()).limit(1)
        ).scalar()
        if last is None:
            return None  # an empty store: every record is new anyway
        if json.loads(last or "{}").get("survivorship") != rules:
            return "the survivorship rules or the code applying them changed"
        return None

    @staticmethod
    def _current_record_hashes(connection: Connection) -> pd.DataFrame:
        """unique_id, content_hash of every current source record, as read."""
        c = schema.record_version
        return read_frame(
            connection, select(c.c.unique_id, c.c.content_hash).where(c.c.valid_to_run.is_(None))
        )

    @staticmethod
    def _current_golden_versions(connection: Connection) -> pd.DataFrame:
        v = schema.golden_version
        return read_frame(
            connection,
            select(v.c.version_id, v.c.golden_id, v.c.status, v.c.content_hash).where(
                v.c.valid_to_run.is_(None)
            ),
        )

    def _write_record_hashes(
        self, connection: Connection, run_key: str, against: _HashesAgainst
    ) -> None:
        """Version the records whose content hash is new, changed or gone."""
        fresh = against.differs
        c = schema.record_version
        closing = [*against.ids[fresh & against.held].tolist(), *against.gone()]
        close_versions(connection, c.c.unique_id, closing, run_key)
        rows = pd.DataFrame(
            {
                "unique_id": against.ids[fresh],
                "content_hash": against.hashes[fresh],
                "valid_from_run": run_key,
            },
            columns=["unique_id", "content_hash", "valid_from_run"],
        )
        bulk_insert(connection, c.name, rows)

    @staticmethod
    def _created_order(connection: Connection, golden_ids: list[str]) -> pd.Series:
        """golden_id → sortable creation order, for the IDs given."""
        g = schema.golden_id_registry
        found: dict[str, str] = {}
        for start in range(0, len(golden_ids), CHUNK):
            query = select(g.c.golden_id, g.c.created_sequence).where(
                g.c.golden_id.in_(golden_ids[start : start + CHUNK])
            )
            found.update({k: f"{s:012d}" for k, s in connection.execute(query).tuples()})
        return pd.Series(found, dtype=object)

    @staticmethod
    def _registered(connection: Connection, golden_ids: list[str]) -> list[str]:
        g = schema.golden_id_registry
        used: list[str] = []
        for start in range(0, len(golden_ids), CHUNK):
            chunk = golden_ids[start : start + CHUNK]
            query = select(g.c.golden_id).where(g.c.golden_id.in_(chunk))
            used += connection.execute(query).scalars().all()
        return sorted(used)

    def _write_xref(
        self, connection: Connection, run_key: str, previous: pd.DataFrame, membership: pd.DataFrame
    ) -> set[str]:
        """Version the records whose golden ID changed; return golden IDs whose members moved."""
        joined = membership.merge(
            previous[["unique_id", "golden_id"]], on="unique_id", how="outer", suffixes=("", "_was")
        )
        moved = joined[joined["golden_id"] != joined["golden_id_was"]]
        arrived = moved[moved["golden_id"].notna()]
        x = schema.xref_version
        closing = moved[moved["golden_id_was"].notna()]["unique_id"].tolist()
        close_versions(connection, x.c.unique_id, closing, run_key)
        rows = pd.DataFrame(
            {
                "unique_id": arrived["unique_id"].to_numpy(object),
                "golden_id": arrived["golden_id"].to_numpy(object),
                "match_probability": pd.to_numeric(
                    arrived["cluster_match_probability"], errors="coerce"
                ).to_numpy(float),
                "valid_from_run": run_key,
            },
            columns=["unique_id", "golden_id", "match_probability", "valid_from_run"],
        )
        bulk_insert(connection, x.name, rows)
        return set(arrived["golden_id"]) | set(moved["golden_id_was"].dropna())

    def _write_golden(
        self,
        connection: Connection,
        run_key: str,
        golden: pd.DataFrame,
        counts: pd.Series,
        members_changed: set[str],
        versions: pd.DataFrame,
    ) -> dict[str, list[str]]:
        """Version golden records whose attributes or members changed; return what changed.
        ``versions``: :meth:`_current_golden_versions` as the night found them.

        Records whose content hash, status and members are as stored are skipped without
        being serialised; the rest are compared attribute by attribute."""
        v = schema.golden_version
        current = versions.set_index("golden_id")
        golden = golden.set_index("golden_id")
        # Values as written (None for missing), a slice at a time: the whole frame so,
        # and its candidates (every record on a first night) copied again, were two more
        # copies of every golden record at the task's peak.
        hashes = pd.concat(
            [
                content_hashes(_as_written(golden.iloc[start : start + GOLDEN_SLICE]))
                for start in range(0, len(golden), GOLDEN_SLICE)
            ]
            or [pd.Series(index=golden.index[:0], dtype=object)]
        )
        stored_hash = current["content_hash"].reindex(golden.index)
        active = current["status"].reindex(golden.index).eq("active")
        moved = held_in(golden.index, members_changed)
        unchanged = (stored_hash.to_numpy() == hashes.to_numpy()) & active.to_numpy() & ~moved
        candidates = golden[~unchanged] if unchanged.any() else golden
        stored = self._attributes_of(
            connection, current["version_id"].reindex(candidates.index).dropna()
        )
        # Only the candidates' (a few thousand on a quiet night, not every golden record).
        known = current.reindex(candidates.index[held_in(candidates.index, current.index)])
        version_of = dict(zip(known.index, known["version_id"].astype(int), strict=True))
        status_of = dict(zip(known.index, known["status"], strict=True))
        changed: dict[str, list[str]] = {}
        # Aligned arrays, not a pandas lookup per record (6 s per 150,000 records).
        candidate_hashes = hashes.reindex(candidates.index).to_numpy()
        candidate_counts = counts.reindex(candidates.index).to_numpy()
        # In slices: a first night's 590,000 records as dicts and JSON at once took 2.8 GB.
        for start in range(0, len(candidates), GOLDEN_SLICE):
            end = start + GOLDEN_SLICE
            closing, rows, backfill = [], [], []
            part = _as_written(candidates.iloc[start:end])
            for golden_id, values, content_hash, count in zip(
                part.index,
                row_dicts(part),
                candidate_hashes[start:end],
                candidate_counts[start:end],
                strict=True,
            ):
                attributes = as_json(values)
                before_text = stored.get(golden_id)
                if before_text is not None:
                    was_active = status_of[golden_id] == "active"
                    members_moved = golden_id in members_changed
                    if before_text == attributes and not members_moved and was_active:
                        # Written before content hashes (or hashed otherwise): fill it in.
                        backfill.append({"row": version_of[golden_id], "hash": content_hash})
                        continue
                    before = json.loads(before_text)
                    differs = sorted(str(k) for k in values if before.get(k) != values[k])
                    if members_moved:
                        differs.append("source_records")
                    if not differs and was_active:
                        continue
                    changed[golden_id] = differs
                    closing.append(golden_id)
                rows.append(
                    {
                        "golden_id": golden_id,
                        "status": "active",
                        "merged_into": None,
                        "attributes": attributes,
                        "content_hash": content_hash,
                        "source_record_count": int(count),
                        "valid_from_run": run_key,
                    }
                )
            if backfill:
                fill = (
                    update(v)
                    .where(v.c.version_id == bindparam("row"))
                    .values(content_hash=bindparam("hash"))
                )
                for chunk in chunks(backfill):
                    connection.execute(fill, chunk)
            # Each golden ID is in one slice: its old version is closed before its new one
            # is written, as the close would otherwise end the new one too.
            self._close(connection, run_key, closing)
            bulk_insert(connection, v.name, pd.DataFrame(rows, columns=_GOLDEN_COLUMNS))
        return changed

    @staticmethod
    def _attributes_of(connection: Connection, version_ids: pd.Series) -> dict[str, str]:
        """golden_id → its current attributes JSON, for the versions given."""
        v = schema.golden_version
        ids = [int(i) for i in version_ids]
        found: dict[str, str] = {}
        for start in range(0, len(ids), CHUNK):
            query = select(v.c.golden_id, v.c.attributes).where(
                v.c.version_id.in_(ids[start : start + CHUNK])
            )
            found.update(dict(connection.execute(query).tuples().all()))
        return found

    def _close(self, connection: Connection, run_key: str, golden_ids: list[str]) -> None:
        close_versions(connection, schema.golden_version.c.golden_id, golden_ids, run_key)

    def _close_inactive(
        self,
        connection: Connection,
        run_key: str,
        merged: list[tuple[str, str]],
        retired: list[str],
    ) -> None:
        """Merged and retired IDs keep a last version saying so; they are never deleted."""
        v = schema.golden_version
        ending = [old for old, _ in merged] + list(retired)
        if not ending:
            return
        last = pd.read_sql(
            select(v.c.golden_id, v.c.attributes).where(
                and_(v.c.golden_id.in_(ending), v.c.valid_to_run.is_(None))
            ),
            connection,
        ).set_index("golden_id")["attributes"]
        self._close(connection, run_key, ending)
        into = dict(merged)
        rows = [
            {
                "golden_id": g,
                "status": "merged" if g in into else "retired",
                "merged_into": into.get(g),
                "attributes": last.get(g, "{}"),
                "source_record_count": 0,
                "valid_from_run": run_key,
            }
            for g in ending
        ]
        for chunk in chunks(rows):
            connection.execute(insert(v), chunk)


def _as_written(golden: pd.DataFrame) -> pd.DataFrame:
    """Golden records' values as they are hashed and serialised: None for missing."""
    return golden.astype(object).where(golden.notna(), None)
