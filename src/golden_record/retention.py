"""Retention: what is landed from each source kept no longer than its declaration says
(``retention_days`` in ``sources.toml``; UK GDPR Art. 5(1)(e)), enforced after each
published night.

For a night dated D and a source S kept R days, every earlier night dated before D − R
loses S's raw extract, its key list and change metadata, and its canonical snapshot. A
night's derived files (its standardised records, pairs, golden records, quality folders
and CRM export), which hold every source's data, go once the night is older than the
longest retention. A night's report and its accepted mark stay: record ids and counts,
the history a later night's trends and an officer read.

Nothing a later night or a replay still needs is removed, whatever its age:

* for each source, tonight's and the latest accepted night's extracts, the last accepted
  night that landed it (the next incremental extract's snapshot and watermark), and the
  nights those extracts name as their baselines (a rerun of the date replays its landed
  extract against its baseline);
* the derived files of the two latest accepted nights (the next night's standardised
  records and pairs, and the night an undo of the latest returns the store and the CRM
  to, by publishing its golden records again).

A rerun of an older night whose baseline has passed its period reads its source again:
the period is the law, and such a rerun is superseded by the later nights anyway.

Only nights keyed by their date are considered (a named run of ``golden-record match`` is
its user's to keep).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from golden_record import nights
from golden_record.extract.declaration import SourceDeclarations, declared_sources
from golden_record.extract.landing import keys_path, meta_path
from golden_record.results import StageResult
from golden_record.run import CANONICAL, GOLDEN, MATCH, QUALITY, RAW, STANDARDISED, Run

_DERIVED = (STANDARDISED, MATCH, GOLDEN, QUALITY)


@dataclass(frozen=True)
class Retained(StageResult):
    """What a night's retention removed, counted for the report (no names: run keys)."""

    run_key: str
    files_deleted: int = 0
    bytes_deleted: int = 0
    # source -> the nights whose landed files of it were deleted tonight
    sources: dict[str, list[str]] = field(default_factory=dict)
    # the nights whose derived files (and CRM export) were deleted tonight
    derived: list[str] = field(default_factory=list)
    # nights past a period kept because a later night or a replay needs them
    kept_past_period: list[str] = field(default_factory=list)


def _dated_nights(run: Run) -> list[Run]:
    if not run.runs_dir.is_dir():
        return []
    found = []
    for folder in sorted(run.runs_dir.iterdir()):
        try:
            date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir() and folder.name <= run.key:
            found.append(run.other(folder.name))
    return found


def _baselines(night: Run, source: str) -> set[str]:
    meta = meta_path(night.raw(source))
    if not meta.is_file():
        return set()
    landed = json.loads(meta.read_text(encoding="utf-8"))
    return {k for k in (landed.get("baseline_run"), landed.get("previous_run")) if k}


def _remove(paths: list[Path]) -> tuple[int, int]:
    files = size = 0
    for path in paths:
        if path.is_dir():
            for inner in path.rglob("*"):
                if inner.is_file():
                    files, size = files + 1, size + inner.stat().st_size
            shutil.rmtree(path)
        elif path.is_file():
            files, size = files + 1, size + path.stat().st_size
            path.unlink()
    return files, size


def _source_files(night: Run, source: str) -> list[Path]:
    raw = night.raw(source)
    return [raw, meta_path(raw), keys_path(raw), night.canonical(source)]


def enforce(
    run: Run, declarations: SourceDeclarations | None = None, exports: Path | None = None
) -> Retained:
    """Delete what is past its source's period as of ``run``'s date (see the module)."""
    from golden_record.publish.export import exports_root

    declarations = declarations or declared_sources()
    exports = exports or exports_root(run.root)
    earlier = _dated_nights(run)
    accepted = [night.key for night in earlier if nights.is_accepted(night)]
    latest = {run.key, *accepted[-1:]}
    whole = latest | set(accepted[-2:])
    files = size = 0
    sources: dict[str, list[str]] = {}
    kept: set[str] = set()
    for source in declarations.sources:
        horizon = (run.date - timedelta(days=source.retention_days)).isoformat()
        landed = [
            n.key for n in earlier if n.key in accepted and n.canonical(source.name).is_file()
        ]
        needed = set(latest) | set(landed[-1:])
        for key in latest:
            needed |= _baselines(run.other(key), source.name)
        for night in earlier:
            present = [p for p in _source_files(night, source.name) if p.exists()]
            if night.key >= horizon or not present:
                continue
            if night.key in needed:
                kept.add(night.key)
                continue
            removed, removed_size = _remove(present)
            files, size = files + removed, size + removed_size
            sources.setdefault(source.name, []).append(night.key)
    longest = max(source.retention_days for source in declarations.sources)
    horizon = (run.date - timedelta(days=longest)).isoformat()
    derived = []
    for night in earlier:
        if night.key >= horizon:
            continue
        present = [night.dir / part for part in _DERIVED if (night.dir / part).exists()]
        present += [p for p in (exports / night.key,) if p.exists()]
        if not present:
            continue
        if night.key in whole:
            kept.add(night.key)
            continue
        removed, removed_size = _remove(present)
        files, size = files + removed, size + removed_size
        derived.append(night.key)
    for night in earlier:
        for part in (RAW, CANONICAL):
            folder = night.dir / part
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return Retained(
        run_key=run.key,
        files_deleted=files,
        bytes_deleted=size,
        sources=sources,
        derived=derived,
        kept_past_period=sorted(kept),
    )
