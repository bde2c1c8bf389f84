"""The golden store: golden records, their cross-reference, history, events and runs.

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

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import and_, bindparam, create_engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, make_url

from golden_record.golden import migrate, schema
from golden_record.golden.content import content_hashes
from golden_record.golden.identity import assign_persistent_ids
from golden_record.golden.records import build_golden_records
from golden_record.golden.survivorship import Survivorship
from golden_record.golden.survivorship import load as load_survivorship

if TYPE_CHECKING:
    from sqlalchemy import Column

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


def default_store_url(root: Path) -> str:
    return f"sqlite:///{Path(root) / 'golden_store.db'}"


def engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


def fingerprint(clusters: pd.DataFrame, records: pd.DataFrame) -> str:
    """A content hash of a run's input, independent of row order."""
    digest = hashlib.sha256()
    for frame in (clusters, records):
        frame = frame.reindex(sorted(frame.columns), axis=1).astype("string")
        hashed = pd.util.hash_pandas_object(frame, index=False).sort_values()
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(rows: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _close_versions(
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


class GoldenStore:
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
        rows = self.read(query.order_by(v.c.golden_id), connection)
        attributes = pd.DataFrame([json.loads(a) for a in rows["attributes"]], index=rows.index)
        # The version's own count is authoritative (0 once merged or retired).
        attributes = attributes.drop(columns=["source_record_count"], errors="ignore")
        return pd.concat([rows.drop(columns="attributes"), attributes], axis=1)

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

    def read(self, query: Any, connection: Connection | None = None) -> pd.DataFrame:
        if connection is not None:
            return pd.read_sql(query, connection)
        with self.engine.connect() as own:
            return pd.read_sql(query, own)

    # ----- writing -------------------------------------------------------------------------

    def apply_run(
        self,
        run_key: str,
        run_date: str,
        clusters: pd.DataFrame,
        records: pd.DataFrame,
        review_pairs: pd.DataFrame | None = None,
        pair_detail: pd.DataFrame | None = None,
        staged: bool = False,
    ) -> RunSummary:
        """``clusters``: unique_id, cluster_id, cluster_match_probability (every record);
        ``records``: presentable records with ``unique_id``; ``review_pairs``:
        unique_id_l, unique_id_r, match_probability, match_weight, reason; ``pair_detail``:
        Splink's scored pairs with their detail columns, kept with each review pair.
        ``staged``: write the run as pending, for its gate to accept or take back; any
        other pending run (a night stopped or crashed before its gate decided) is taken
        back first."""
        missing = set(clusters["unique_id"]) ^ set(records["unique_id"])
        if missing:
            raise StoreError(
                f"run {run_key}: clusters and records disagree on record {sorted(missing)[0]}"
            )
        input_fingerprint = fingerprint(clusters, records)
        with self.engine.begin() as connection:
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
                input_fingerprint,
                "pending" if staged else "accepted",
            )
            if review_pairs is not None and len(review_pairs):
                self._write_review(connection, run_key, review_pairs, pair_detail)
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
        for table in (schema.golden_version, schema.xref_version):
            connection.execute(delete(table).where(table.c.valid_from_run == run_key))
            connection.execute(
                update(table).where(table.c.valid_to_run == run_key).values(valid_to_run=None)
            )
        connection.execute(
            delete(schema.change_event).where(schema.change_event.c.run_key == run_key)
        )
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

    def _apply(
        self,
        connection: Connection,
        run_key: str,
        run_date: str,
        clusters: pd.DataFrame,
        records: pd.DataFrame,
        input_fingerprint: str,
        status: str,
    ) -> RunSummary:
        sequence = (
            connection.execute(select(func.max(schema.store_run.c.sequence))).scalar() or 0
        ) + 1
        connection.execute(
            insert(schema.store_run).values(
                run_key=run_key,
                sequence=sequence,
                run_date=run_date,
                input_fingerprint=input_fingerprint,
                applied_at=_now(),
                summary="{}",
                status=status,
            )
        )
        previous = self.current_xref(connection)
        registry = pd.read_sql(select(schema.golden_id_registry), connection)
        created_order = registry.set_index("golden_id")["created_sequence"].map(
            lambda s: f"{s:012d}"
        )
        first_seen = previous.set_index("unique_id")["valid_from_run"]
        outcome = assign_persistent_ids(
            clusters, previous, created_order, run_key, first_seen=first_seen
        )
        new_ids = sorted({*outcome.created, *(new for _, new in outcome.split)})
        clash = set(new_ids) & set(registry["golden_id"])
        if clash:
            raise StoreError(f"run {run_key}: minted golden ID {sorted(clash)[0]} already used")
        for chunk in _chunks(
            [
                {"golden_id": g, "created_run": run_key, "created_sequence": sequence}
                for g in new_ids
            ]
        ):
            connection.execute(insert(schema.golden_id_registry), chunk)

        membership = outcome.membership.merge(
            clusters[["unique_id", "cluster_match_probability"]], on="unique_id"
        )
        members_changed = self._write_xref(connection, run_key, previous, membership)
        golden = build_golden_records(records, outcome.membership, self.survivorship)
        counts = membership.groupby("golden_id").size()
        changed = self._write_golden(connection, run_key, golden, counts, members_changed)

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
                {"event": "updated", "golden_id": g, "other_golden_id": None, "changed": _json(c)}
                for g, c in sorted(changed.items())
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
        for chunk in _chunks(rows):
            connection.execute(insert(schema.change_event), chunk)

        summary = RunSummary(
            run_key=run_key,
            golden_records=int(counts.size),
            source_records=len(membership),
            events={
                kind: sum(1 for r in rows if r["event"] == kind)
                for kind in ("created", "updated", "merged", "split", "retired")
            },
            input_fingerprint=input_fingerprint,
            status=status,
        )
        connection.execute(
            update(schema.store_run)
            .where(schema.store_run.c.run_key == run_key)
            .values(summary=_json(asdict(summary)))
        )
        return summary

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
        _close_versions(connection, x.c.unique_id, closing, run_key)
        rows = [
            {
                "unique_id": uid,
                "golden_id": gid,
                "match_probability": None if pd.isna(p) else float(p),
                "valid_from_run": run_key,
            }
            for uid, gid, p in zip(
                arrived["unique_id"],
                arrived["golden_id"],
                arrived["cluster_match_probability"],
                strict=True,
            )
        ]
        for chunk in _chunks(rows):
            connection.execute(insert(x), chunk)
        return set(arrived["golden_id"]) | set(moved["golden_id_was"].dropna())

    def _write_golden(
        self,
        connection: Connection,
        run_key: str,
        golden: pd.DataFrame,
        counts: pd.Series,
        members_changed: set[str],
    ) -> dict[str, list[str]]:
        """Version golden records whose attributes or members changed; return what changed.

        Records whose content hash, status and members are as stored are skipped without
        being serialised; the rest are compared attribute by attribute."""
        v = schema.golden_version
        current = pd.read_sql(
            select(v.c.version_id, v.c.golden_id, v.c.status, v.c.content_hash).where(
                v.c.valid_to_run.is_(None)
            ),
            connection,
        ).set_index("golden_id")
        golden = golden.set_index("golden_id")
        plain = golden.astype(object).where(golden.notna(), None)
        hashes = content_hashes(plain)
        stored_hash = current["content_hash"].reindex(plain.index)
        active = current["status"].reindex(plain.index).eq("active")
        moved = plain.index.isin(list(members_changed))
        unchanged = (stored_hash.to_numpy() == hashes.to_numpy()) & active.to_numpy() & ~moved
        candidates = plain[~unchanged]
        stored = self._attributes_of(
            connection, current["version_id"].reindex(candidates.index).dropna()
        )
        version_of = dict(zip(current.index, current["version_id"].astype(int), strict=True))
        status_of = dict(zip(current.index, current["status"], strict=True))
        changed: dict[str, list[str]] = {}
        closing, rows, backfill = [], [], []
        # Aligned arrays, not a pandas lookup per record (6 s per 150,000 records).
        candidate_hashes = hashes.reindex(candidates.index).to_numpy()
        candidate_counts = counts.reindex(candidates.index).to_numpy()
        for golden_id, values, content_hash, count in zip(
            candidates.index,
            candidates.to_dict("records"),
            candidate_hashes,
            candidate_counts,
            strict=True,
        ):
            attributes = _json(values)
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
            for chunk in _chunks(backfill):
                connection.execute(fill, chunk)
        self._close(connection, run_key, closing)
        for chunk in _chunks(rows):
            connection.execute(insert(v), chunk)
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
        _close_versions(connection, schema.golden_version.c.golden_id, golden_ids, run_key)

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
        for chunk in _chunks(rows):
            connection.execute(insert(v), chunk)

    def _write_review(
        self,
        connection: Connection,
        run_key: str,
        pairs: pd.DataFrame,
        detail: pd.DataFrame | None,
    ) -> None:
        details: dict[tuple[str, str], str] = {}
        if detail is not None and len(detail):
            wanted = set(zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True))
            keys = list(zip(detail["unique_id_l"], detail["unique_id_r"], strict=True))
            chosen = detail[[key in wanted for key in keys]]
            plain = chosen.astype(object).where(chosen.notna(), None)
            texts = {}
            for row in plain.to_dict("records"):
                text = _json(row)
                digest = hashlib.sha256(text.encode()).hexdigest()
                texts[digest] = text
                details[(row["unique_id_l"], row["unique_id_r"])] = digest
            d = schema.review_detail
            known: set[str] = set()
            hashes = list(texts)
            for start in range(0, len(hashes), CHUNK):
                known |= set(
                    connection.execute(
                        select(d.c.detail_hash).where(
                            d.c.detail_hash.in_(hashes[start : start + CHUNK])
                        )
                    ).scalars()
                )
            fresh = [{"detail_hash": h, "detail": t} for h, t in texts.items() if h not in known]
            for chunk in _chunks(fresh):
                connection.execute(insert(d), chunk)
        rows = [
            {
                "run_key": run_key,
                "record_a": min(a, b),
                "record_b": max(a, b),
                "match_probability": None if pd.isna(p) else float(p),
                "match_weight": None if pd.isna(w) else float(w),
                "reason": reason,
                "detail_hash": details.get((a, b)),
            }
            for a, b, p, w, reason in zip(
                pairs["unique_id_l"],
                pairs["unique_id_r"],
                pairs["match_probability"],
                pairs["match_weight"],
                pairs["reason"],
                strict=True,
            )
        ]
        rows = list({(r["record_a"], r["record_b"]): r for r in rows}.values())
        for chunk in _chunks(rows):
            connection.execute(insert(schema.review_item), chunk)
