"""What each gate validates in a run, read from the run's files, with its parameters.

Two gates guard a night. ``sources`` runs after the extracts: each source's raw extract
against its own suite, and its canonical records against ``canonical_source`` with its
volume band (against the source's previous run) and freshness; against the last accepted
night's records, its record ids (a re-keyed source), the share of its records changed
tonight, and each column's completeness (a column emptied at source). ``golden`` runs before
publishing: the standardised records, the golden records, and the run's changes as
shares of the golden records before it. Each batch carries only the columns its suite
reads, except where the suite checks the whole shape (data minimisation).
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path

import pandas as pd

from golden_record import nights
from golden_record.extract.canonical import CANONICAL_COLUMNS, REQUIRED_COLUMNS
from golden_record.extract.declaration import source_systems
from golden_record.keys import held_in
from golden_record.quality.bands import Bands
from golden_record.quality.gates import Batch
from golden_record.quality.suites import columns_read, read_suite
from golden_record.run import Run

CHANGE_KINDS = ("merged", "split", "retired", "created", "updated")
# The golden gate's batch whose failure a steward may accept (golden_record.golden.
# acceptance), and the sources gate's (by the end of their names: one per source).
CHANGES_BATCH = "changes in this run"
SOURCE_CHANGES_SUFFIX = " changes since the last accepted night"
COMPLETENESS_SUFFIX = " completeness by column"
# The columns whose completeness is watched: every canonical column a source may leave
# empty (the required ones are checked for every record by canonical_source).
COMPLETENESS_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c not in REQUIRED_COLUMNS)


def acceptable_batches(gate: str) -> list[str]:
    """The batches of ``gate`` whose failure a steward may accept: the judgements a person
    can make (a genuine mass merge, a source's own clean-up), never a defect."""
    if gate == "golden":
        return [CHANGES_BATCH]
    return [
        f"{source}{suffix}"
        for source in source_systems()
        for suffix in (SOURCE_CHANGES_SUFFIX, COMPLETENESS_SUFFIX)
    ]


def _previous_canonical(run: Run, source: str) -> pd.DataFrame | None:
    """The source's canonical records on the last accepted night (None on its first): the
    baseline of its volume, ids, changes and completeness. A refused night is never the
    baseline: restoring a halved file the next night must pass."""
    baseline = nights.last_accepted_before(
        run, having=lambda night: night.canonical(source).is_file()
    )
    return None if baseline is None else pd.read_parquet(baseline.canonical(source))


def id_shares(ids: pd.Series, previous: pd.Series | None) -> pd.DataFrame:
    """One row: the share of tonight's ids not held before, and of the earlier ids gone
    (0 on a source's first night)."""
    if previous is None:
        return pd.DataFrame([{"new_id_share": 0.0, "gone_id_share": 0.0}])
    new = float((~held_in(ids, previous)).mean()) if len(ids) else 0.0
    gone = float((~held_in(previous, ids)).mean()) if len(previous) else 0.0
    return pd.DataFrame([{"new_id_share": new, "gone_id_share": gone}])


def changed_share(canonical: pd.DataFrame, previous: pd.DataFrame | None) -> float:
    """The share of the records held on both nights whose values changed (a change of
    ``source_updated_at`` alone is no change of values)."""
    if previous is None:
        return 0.0
    compared = [c for c in CANONICAL_COLUMNS if c != "source_updated_at"]
    both = canonical[compared].merge(
        previous[compared], on=["source_system", "source_record_id"], suffixes=("", "_before")
    )
    if both.empty:
        return 0.0
    values = [c for c in compared if c not in ("source_system", "source_record_id")]
    now = both[values].astype("string").fillna("\x00")
    before = both[[f"{c}_before" for c in values]].astype("string").fillna("\x00")
    before.columns = values
    return float((now != before).any(axis=1).mean())


def filled_shares(canonical: pd.DataFrame) -> dict[str, float]:
    """Each watched column's share of records with a value."""
    if canonical.empty:
        return dict.fromkeys(COMPLETENESS_COLUMNS, 0.0)
    return {c: float(canonical[c].notna().mean()) for c in COMPLETENESS_COLUMNS}


def completeness_batch(
    source: str, canonical: pd.DataFrame, previous: pd.DataFrame | None, max_drop: float
) -> Batch:
    """One row: each column's filled share tonight; each may fall at most ``max_drop``
    below the last accepted night's share (no floor on a source's first night)."""
    tonight = filled_shares(canonical)
    before = filled_shares(previous) if previous is not None else dict.fromkeys(tonight, 0.0)
    return Batch(
        name=f"{source}{COMPLETENESS_SUFFIX}",
        suite="source_completeness",
        frame=pd.DataFrame([{f"{c}_filled_share": share for c, share in tonight.items()}]),
        source=source,
        parameters={
            f"min_{c}_filled_share": max(0.0, before[c] - max_drop) for c in COMPLETENESS_COLUMNS
        },
    )


def volume_parameters(previous: int | None, max_drop: float, max_growth: float) -> dict:
    """Row-count limits from the previous run's count; never fewer than one row."""
    if previous is None:
        return {"min_rows": 1, "max_rows": None}
    return {
        "min_rows": max(1, math.ceil(previous * (1 - max_drop))),
        "max_rows": max(1, math.floor(previous * (1 + max_growth))),
    }


def source_batches(run: Run, bands: Bands) -> list[Batch]:
    batches = []
    fresh_since = (run.date - timedelta(days=bands.max_age_days)).isoformat()
    not_after = (run.date + timedelta(days=1)).isoformat()
    for source in source_systems():
        raw_file = run.raw(source)
        canonical_file = run.canonical(source)
        for needed in (raw_file, canonical_file):
            if not needed.is_file():
                raise FileNotFoundError(f"run {run.key}: {source} has not landed {needed}")
        batches.append(
            Batch(
                name=f"{source} raw extract",
                suite=f"raw_{source}",
                frame=pd.read_parquet(raw_file),
                source=source,
            )
        )
        volume = bands.volume_for(source)
        canonical = pd.read_parquet(canonical_file)
        previous = _previous_canonical(run, source)
        previous_ids = previous["source_record_id"] if previous is not None else None
        batches.append(
            Batch(
                name=f"{source} record ids",
                suite="source_keys",
                frame=id_shares(canonical["source_record_id"], previous_ids),
                source=source,
                parameters=dict(bands.keys),
            )
        )
        batches.append(
            Batch(
                name=f"{source}{SOURCE_CHANGES_SUFFIX}",
                suite="source_changes",
                frame=pd.DataFrame([{"changed_share": changed_share(canonical, previous)}]),
                source=source,
                parameters={"max_changed_share": bands.max_changed_share_for(source)},
            )
        )
        batches.append(
            completeness_batch(source, canonical, previous, bands.completeness_drop_for(source))
        )
        batches.append(
            Batch(
                name=f"{source} canonical records",
                suite="canonical_source",
                frame=canonical,
                source=source,
                parameters={
                    **volume_parameters(
                        len(previous) if previous is not None else None,
                        volume.max_drop,
                        volume.max_growth,
                    ),
                    "fresh_since": fresh_since,
                    "not_after": not_after,
                    "source_system": [source],
                },
            )
        )
    return batches


def change_shares(summary: dict) -> pd.DataFrame:
    """One row: each kind of change as a share of the golden records before the run."""
    before = summary.get("previous_golden_records") or 0
    events = summary.get("events") or {}
    return pd.DataFrame(
        [
            {
                f"{kind}_share": (events.get(kind, 0) / before) if before else 0.0
                for kind in CHANGE_KINDS
            }
        ]
    )


def change_parameters(summary: dict, bands: Bands) -> dict:
    if not summary.get("previous_golden_records"):
        # A store's first run creates everyone: there is nothing to compare with.
        return {key: 1.0 for key in bands.changes}
    return dict(bands.changes)


def _columns_for(suite: str, path: Path) -> pd.DataFrame:
    """The suite's columns that the file has (a missing one is reported by the gate)."""
    import pyarrow.parquet as pq

    available = set(pq.read_schema(path).names)
    wanted = [c for c in columns_read(read_suite(suite)) if c in available]
    return pd.read_parquet(path, columns=wanted)


def golden_batches(run: Run, bands: Bands) -> list[Batch]:
    golden_summary_file = run.golden.summary
    if not golden_summary_file.is_file():
        raise FileNotFoundError(f"run {run.key}: no golden records built ({golden_summary_file})")
    summary = json.loads(golden_summary_file.read_text(encoding="utf-8"))
    return [
        Batch(
            name="standardised records",
            suite="standardised",
            frame=_columns_for("standardised", run.standardised.records),
        ),
        Batch(
            name="golden records",
            suite="golden_records",
            frame=_columns_for("golden_records", run.golden.golden_records),
            parameters={"max_records_per_person": bands.max_records_per_person},
        ),
        Batch(
            name=CHANGES_BATCH,
            suite="golden_changes",
            frame=change_shares(summary),
            parameters=change_parameters(summary, bands),
        ),
    ]


# Each gate and what it reads, in the order a night runs them.
BATCHES_OF_GATE = {"sources": source_batches, "golden": golden_batches}
