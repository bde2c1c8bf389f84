"""The extract stage: land each source's raw extract per run, then map it to canonical.

For run ``K`` and source ``S``:

* ``runs/K/raw/S.parquet`` holds the native rows exactly as read, written once and never
  changed, beside ``runs/K/raw/S.json`` with the watermark used and reached. A rerun of
  ``K`` replays the landed file instead of reading the source again, so it yields the
  same result.
* ``runs/K/canonical/S.parquet`` is the source's full current state as canonical records:
  for incremental sources the previous run's snapshot with this run's changes upserted,
  for full-snapshot sources the extract itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from dedupe import paths
from dedupe.atomic import write_parquet, write_text
from dedupe.canonical import conform, empty_frame
from dedupe.settings import SourceSettings
from dedupe.sources import EXTRACTORS


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


def _meta_path(raw_file: Path) -> Path:
    return raw_file.with_suffix(".json")


def _previous_run_with(run_key: str, source: str, root: Path) -> str | None:
    runs = paths.runs_root(root)
    if not runs.is_dir():
        return None
    earlier = sorted(
        p.name
        for p in runs.iterdir()
        if p.name < run_key
        and paths.canonical_path(p.name, source, root).is_file()
        and _meta_path(paths.raw_path(p.name, source, root)).is_file()
    )
    return earlier[-1] if earlier else None


def extract_source(
    source: str,
    run_key: str,
    run_date: date,
    settings: SourceSettings,
    root: Path | None = None,
    full_refresh: bool = False,
) -> ExtractSummary:
    root = root or paths.data_root()
    module = EXTRACTORS[source]
    incremental = module.WATERMARK_COLUMN is not None and not full_refresh
    raw_file = paths.raw_path(run_key, source, root)
    meta_file = _meta_path(raw_file)

    previous_key = _previous_run_with(run_key, source, root) if incremental else None
    previous_meta = (
        json.loads(_meta_path(paths.raw_path(previous_key, source, root)).read_text())
        if previous_key
        else None
    )

    replayed = raw_file.is_file() and meta_file.is_file()
    if replayed:
        meta = json.loads(meta_file.read_text())
        raw = pd.read_parquet(raw_file).astype("string")
    else:
        watermark = previous_meta["watermark_after"] if previous_meta else None
        raw = module.extract(settings, watermark, run_date)
        reached = watermark
        if module.WATERMARK_COLUMN and len(raw):
            newest = raw[module.WATERMARK_COLUMN].dropna().max()
            reached = max(filter(None, [watermark, newest]))
        meta = {
            "source": source,
            "run_key": run_key,
            "mode": "incremental" if incremental else "full",
            "previous_run": previous_key,
            "watermark_before": watermark,
            "watermark_after": reached,
            "rows": len(raw),
        }
        # Raw first, then its metadata: a run is only "landed" once both exist.
        write_parquet(raw, raw_file)
        write_text(json.dumps(meta, indent=2) + "\n", meta_file)

    changes = conform(module.to_canonical(raw), source) if len(raw) else empty_frame()
    if meta["mode"] == "incremental" and meta.get("previous_run"):
        before = pd.read_parquet(paths.canonical_path(meta["previous_run"], source, root))
        kept = before[~before["source_record_id"].isin(changes["source_record_id"])]
        snapshot = pd.concat([kept, changes], ignore_index=True)
    else:
        snapshot = changes
    snapshot = snapshot.sort_values("source_record_id", kind="stable").reset_index(drop=True)
    canonical_file = paths.canonical_path(run_key, source, root)
    write_parquet(snapshot.astype("string"), canonical_file)

    return ExtractSummary(
        source=source,
        run_key=run_key,
        mode=meta["mode"],
        replayed=replayed,
        watermark_before=meta["watermark_before"],
        watermark_after=meta["watermark_after"],
        raw_rows=int(meta["rows"]),
        canonical_rows=len(snapshot),
        raw_path=str(raw_file),
        canonical_path=str(canonical_file),
    )


def summary_dict(summary: ExtractSummary) -> dict:
    return asdict(summary)
