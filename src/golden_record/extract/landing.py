"""The extract stage: land each source's raw extract per run, then map it to canonical.

For run ``K`` and source ``S``:

* ``runs/K/raw/S.parquet`` holds the native rows exactly as read, written once and never
  changed, beside ``runs/K/raw/S.json`` with the watermark used and reached. A rerun of
  ``K`` replays the landed file instead of reading the source again, so it yields the
  same result.
* ``runs/K/raw/S.keys.parquet`` (incremental sources) holds every key the source holds
  tonight, read after the changes: a watermark never sees a deleted row, so a record in
  the snapshot whose key is gone was deleted at source.
* ``runs/K/canonical/S.parquet`` is the source's full current state as canonical records:
  for incremental sources the last accepted night's snapshot with this run's changes
  upserted and its deletions removed, for full-snapshot sources the extract itself.

A watermark never moves past the night's own start: a row stamped in the future (a
clock or keying slip at source) is landed, listed by id, and read again each night until
its time has passed, instead of carrying the watermark past every real change after it.
A watermark already in the future (left by an older release) is not trusted: the night
reads the source in full and starts again from what it read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from golden_record import nights
from golden_record.atomic import write_parquet, write_text
from golden_record.extract.canonical import (
    CanonicalContractError,
    about_a_person,
    conform,
    empty_frame,
    parsed_dates,
)
from golden_record.extract.sources import Extractor, SourceDataError, extractor
from golden_record.keys import held_in
from golden_record.run import Run
from golden_record.settings import SourceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractSummary:
    source: str
    run_key: str
    mode: str  # "incremental" | "full"
    replayed: bool
    watermark_before: str | None
    watermark_after: str | None
    raw_rows: int
    canonical_rows: int
    raw_path: str
    canonical_path: str
    deleted_rows: int = 0  # records of the previous snapshot no longer at source
    # Rows left out as records of residents erased at their request (ids never listed).
    suppressed_rows: int = 0
    # Records whose date of birth is after the run's date (ids, the first MAX_LISTED).
    future_birth_dates: list[str] = field(default_factory=list)
    future_birth_date_count: int = 0
    # Rows whose change timestamp is after the night's start (ids, the first MAX_LISTED):
    # landed, and read again each night until their time has passed.
    future_stamped: list[str] = field(default_factory=list)
    future_stamped_count: int = 0
    # Why the last accepted night's watermark was not used (it was in the future).
    watermark_reset: str | None = None
    # Records with no name and no identifying detail, held back (ids, the first MAX_LISTED).
    quarantined: list[str] = field(default_factory=list)
    quarantined_count: int = 0


MAX_LISTED = 100


def keys_path(raw_file: Path) -> Path:
    return raw_file.with_name(raw_file.stem + ".keys.parquet")


def meta_path(raw_file: Path) -> Path:
    """Where a landed extract's change metadata (watermarks, baselines) is kept."""
    return raw_file.with_suffix(".json")


def _previous_run_with(run: Run, source: str) -> Run | None:
    """The last accepted night that landed ``source``: a refused night's changes are read
    again from where the accepted one left off, never carried over."""
    return nights.last_accepted_before(
        run,
        having=lambda night: (
            night.canonical(source).is_file() and meta_path(night.raw(source)).is_file()
        ),
    )


def _canonical_changes(module: Extractor, raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """The raw rows as canonical records; a broken contract (a record id twice, say) is
    bad source data, which no retry will fix."""
    if not len(raw):
        return empty_frame()
    try:
        return conform(module.to_canonical(raw), source)
    except CanonicalContractError as exc:
        raise SourceDataError(source, str(exc).removeprefix(f"{source}: ")) from exc


def _birth_dates_not_in_the_future(
    snapshot: pd.DataFrame, run_date: date, before: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[str]]:
    """A date of birth after the run's date is a keying slip: the record keeps the date it
    had on the last accepted night (so a published date is not erased), and is flagged."""
    future = (parsed_dates(snapshot["date_of_birth"]) > pd.Timestamp(run_date)).to_numpy()
    if not future.any():
        return snapshot, []
    ids = snapshot.loc[future, "source_record_id"]
    snapshot = snapshot.copy()
    earlier = (
        before.set_index("source_record_id")["date_of_birth"].reindex(ids).to_numpy()
        if before is not None
        else pd.NA
    )
    snapshot.loc[future, "date_of_birth"] = earlier
    log.warning(
        "%s: %d record(s) with a date of birth after %s, kept their earlier date: %s",
        snapshot["source_system"].iloc[0],
        len(ids),
        run_date,
        ", ".join(ids.head(20)),
    )
    return snapshot, ids.tolist()


# Which of a source's rows, given the source and their record ids, are to be left out
# (residents erased at their request); None when none are. The pipeline passes the golden
# store's suppression list: extracting knows nothing of the store.
Suppressed = Callable[[str, pd.Series], pd.Series | None]


def _without_suppressed(
    raw: pd.DataFrame, module: Extractor, source: str, suppressed: Suppressed | None
) -> tuple[pd.DataFrame, int]:
    """The raw rows less those of residents erased at their request (which the source
    still holds until its owner deletes them): never landed, so no later stage sees them."""
    if not len(raw) or suppressed is None:
        return raw, 0
    flagged = suppressed(source, raw[module.KEY_COLUMN])
    if flagged is None or not flagged.any():
        return raw, 0
    return raw[~flagged.to_numpy()].reset_index(drop=True), int(flagged.sum())


def extract_source(
    source: str,
    run: Run,
    settings: SourceSettings,
    full_refresh: bool = False,
    suppressed: Suppressed | None = None,
) -> ExtractSummary:
    """Land ``source`` for ``run`` and write its canonical snapshot; ``suppressed``: which
    rows to leave out (erased residents), as :func:`golden_record.pipeline.extract` gives."""
    module = extractor(source)
    incremental = module.WATERMARK_COLUMN is not None and not full_refresh
    raw_file = run.raw(source)
    meta_file = meta_path(raw_file)

    baseline = _previous_run_with(run, source)
    previous = baseline if incremental else None
    previous_meta = json.loads(meta_path(previous.raw(source)).read_text()) if previous else None

    replayed = raw_file.is_file() and meta_file.is_file()
    keys_file = keys_path(raw_file)
    if replayed:
        meta = json.loads(meta_file.read_text())
        raw = pd.read_parquet(raw_file).astype("string")
        raw, left_out = _without_suppressed(raw, module, source, suppressed)
        changes = _canonical_changes(module, raw, source)
    else:
        started = datetime.now(UTC)
        watermark = previous_meta["watermark_after"] if previous_meta else None
        reset = None
        if watermark is not None and (_stamp(watermark) or started) > started:
            reset = (
                f"the last accepted night's watermark {watermark} is after this night's start "
                f"({started:%Y-%m-%d %H:%M:%S} UTC): read in full"
            )
            log.warning("%s: %s", source, reset)
            watermark = None
        raw = module.extract(settings, watermark, run.date)
        # The watermark reached counts rows left out as suppressed: they were read.
        reached, future_keys = _watermark_reached(raw, module, watermark, started)
        raw, left_out = _without_suppressed(raw, module, source, suppressed)
        future_ids = raw.loc[held_in(raw[module.KEY_COLUMN], future_keys), module.KEY_COLUMN]
        if len(future_ids):
            log.warning(
                "%s: %d row(s) stamped after this night's start, read again until their "
                "time has passed: %s",
                source,
                len(future_ids),
                ", ".join(future_ids.head(20)),
            )
        # Bad data is refused before it lands (mapped once: a full snapshot's mapping is
        # most of its extract).
        changes = _canonical_changes(module, raw, source)
        meta = {
            "source": source,
            "run_key": run.key,
            "mode": "incremental" if incremental else "full",
            "previous_run": previous.key if previous else None,
            "baseline_run": baseline.key if baseline else None,
            "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "watermark_before": watermark,
            "watermark_after": reached,
            "watermark_reset": reset,
            "future_stamped": future_ids.head(MAX_LISTED).tolist(),
            "future_stamped_count": len(future_ids),
            "rows": len(raw),
            "key_list": incremental,
        }
        # Raw and keys first, then the metadata: a run is only "landed" once it exists.
        write_parquet(raw, raw_file)
        if incremental:
            keys = module.keys(settings).astype("string").to_frame("key")
            keys, _ = _without_suppressed(
                keys.rename(columns={"key": module.KEY_COLUMN}), module, source, suppressed
            )
            write_parquet(keys.rename(columns={module.KEY_COLUMN: "key"}), keys_file)
        write_text(json.dumps(meta, indent=2) + "\n", meta_file)

    # A record of nothing about a person is held back; an earlier version of it (a record
    # blanked at source) stays as it was, so a blanked record loses nobody.
    person = about_a_person(changes).to_numpy()
    quarantined = changes.loc[~person, "source_record_id"]
    changes = changes[person]
    if len(quarantined):
        log.warning(
            "%s: %d record(s) quarantined, with no name and no identifying detail: %s",
            source,
            len(quarantined),
            ", ".join(quarantined.head(20)),
        )
    deleted = 0
    baseline_key = meta.get("baseline_run", meta.get("previous_run"))
    baseline_records = (
        pd.read_parquet(run.other(baseline_key).canonical(source)) if baseline_key else None
    )
    if meta["mode"] == "incremental" and meta.get("previous_run"):
        before = (
            baseline_records
            if baseline_records is not None and meta["previous_run"] == baseline_key
            else pd.read_parquet(run.other(meta["previous_run"]).canonical(source))
        )
        # Quarantined records are not in ``changes``: their earlier version is kept here.
        kept = before[~held_in(before["source_record_id"], changes["source_record_id"])]
        snapshot = pd.concat([kept, changes], ignore_index=True)
    elif len(quarantined) and baseline_records is not None:
        # A full snapshot: a quarantined record's earlier version comes from the baseline.
        earlier = baseline_records[held_in(baseline_records["source_record_id"], quarantined)]
        snapshot = pd.concat([changes, earlier], ignore_index=True)
    else:
        snapshot = changes
    if meta.get("key_list"):
        present = held_in(snapshot["source_record_id"], pd.read_parquet(keys_file)["key"])
        deleted = int((~present).sum())
        snapshot = snapshot[present]
    snapshot, future = _birth_dates_not_in_the_future(snapshot, run.date, baseline_records)
    snapshot = snapshot.sort_values("source_record_id", kind="stable").reset_index(drop=True)
    canonical_file = run.canonical(source)
    write_parquet(snapshot.astype("string"), canonical_file)

    return ExtractSummary(
        source=source,
        run_key=run.key,
        mode=meta["mode"],
        replayed=replayed,
        watermark_before=meta["watermark_before"],
        watermark_after=meta["watermark_after"],
        raw_rows=int(meta["rows"]),
        canonical_rows=len(snapshot),
        raw_path=str(raw_file),
        canonical_path=str(canonical_file),
        deleted_rows=deleted,
        suppressed_rows=left_out,
        future_birth_dates=future[:MAX_LISTED],
        future_birth_date_count=len(future),
        future_stamped=list(meta.get("future_stamped") or []),
        future_stamped_count=int(meta.get("future_stamped_count") or 0),
        watermark_reset=meta.get("watermark_reset"),
        quarantined=quarantined.head(MAX_LISTED).tolist(),
        quarantined_count=len(quarantined),
    )


def _stamp(value: object) -> pd.Timestamp | None:
    """A source's change timestamp as a UTC time (one without a zone taken as UTC); None
    if it is not one."""
    parsed = pd.to_datetime(pd.Series([str(value)]), errors="coerce", utc=True, format="mixed")
    return None if parsed.isna().iloc[0] else parsed.iloc[0]


def _watermark_reached(
    raw: pd.DataFrame, module: Extractor, watermark: str | None, started: datetime
) -> tuple[str | None, pd.Series]:
    """The watermark this night reached (the newest change timestamp read that is not
    after ``started``, never behind ``watermark``), and the keys of the rows stamped
    after ``started`` (read again by later nights until their time has passed)."""
    column = module.WATERMARK_COLUMN
    if column is None or not len(raw):
        return watermark, pd.Series([], dtype="string")
    stamps = pd.to_datetime(raw[column], errors="coerce", utc=True, format="mixed")
    future = (stamps > pd.Timestamp(started)).fillna(False).to_numpy(dtype=bool)
    usable = stamps[~future].dropna()
    reached = watermark
    if len(usable):
        newest = raw[column].loc[usable.idxmax()]  # type: ignore[call-overload]
        before = _stamp(watermark) if watermark is not None else None
        if before is None or usable.max() > before:
            reached = str(newest)
    return reached, raw.loc[future, module.KEY_COLUMN].astype("string")
