"""A person in the golden store: their golden IDs (one and every ID merged into it), the
source records that were ever theirs, and everything the store holds about them (what a
subject access answer and an erasure start from)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import or_, select

from golden_record.golden.store import schema
from golden_record.golden.store.common import StoreError
from golden_record.golden.store.reading import StoreReading


@dataclass(frozen=True)
class PersonHistory:
    """The store's rows about one person: golden versions, cross-reference versions,
    change events, steward decisions and review items naming their records."""

    versions: pd.DataFrame
    xref: pd.DataFrame
    events: pd.DataFrame
    decisions: pd.DataFrame
    reviews: pd.DataFrame
    undone: pd.DataFrame  # decisions about their records that stewards undid


class PersonRecords(StoreReading):
    """Who a golden ID is, across merges and splits."""

    def person_golden_ids(self, golden_id: str) -> list[str]:
        """The golden ID and every ID merged into it, directly or through a chain."""
        v = schema.golden_version
        found = [golden_id]
        frontier = [golden_id]
        with self.engine.connect() as connection:
            known = connection.execute(
                select(v.c.golden_id).where(v.c.golden_id == golden_id).limit(1)
            ).first()
            if known is None:
                raise StoreError(f"no golden record {golden_id} in the store")
            while frontier:
                merged = connection.execute(
                    select(v.c.golden_id).where(v.c.merged_into.in_(frontier)).distinct()
                ).scalars()
                frontier = [g for g in merged if g not in found]
                found.extend(frontier)
        return found

    def person_records(self, ids: list[str]) -> list[str]:
        """Every source record that ever belonged to these golden IDs, less those that
        now belong to someone else (a wrong merge since split apart)."""
        x = schema.xref_version
        ever = set(self.read(select(x.c.unique_id).where(x.c.golden_id.in_(ids)))["unique_id"])
        now = self.read(
            select(x.c.unique_id, x.c.golden_id).where(
                x.c.unique_id.in_(sorted(ever)), x.c.valid_to_run.is_(None)
            )
        )
        elsewhere = set(now.loc[~now["golden_id"].isin(ids), "unique_id"])
        return sorted(ever - elsewhere)

    def person_history(self, ids: list[str], records: list[str]) -> PersonHistory:
        """Every row about the person of these golden IDs and source records (rows of
        other people they name are returned as they are: the caller masks them)."""
        v, x, e = schema.golden_version, schema.xref_version, schema.change_event
        d, r = schema.steward_decision, schema.review_item
        u = schema.steward_decision_undone
        return PersonHistory(
            versions=self.read(select(v).where(v.c.golden_id.in_(ids)).order_by(v.c.version_id)),
            xref=self.read(
                select(x)
                .where(x.c.golden_id.in_(ids), x.c.unique_id.in_(records))
                .order_by(x.c.version_id)
            ),
            events=self.read(
                select(e)
                .where(or_(e.c.golden_id.in_(ids), e.c.other_golden_id.in_(ids)))
                .order_by(e.c.sequence)
            ),
            decisions=self.read(
                select(d).where(or_(d.c.record_a.in_(records), d.c.record_b.in_(records)))
            ),
            undone=self.read(
                select(u).where(or_(u.c.record_a.in_(records), u.c.record_b.in_(records)))
            ),
            reviews=self.read(
                select(
                    r.c.run_key, r.c.record_a, r.c.record_b, r.c.match_probability, r.c.reason
                ).where(or_(r.c.record_a.in_(records), r.c.record_b.in_(records)))
            ),
        )
