"""The pipeline's own files, purged of an erased resident: every night's landed,
canonical, standardised, match and golden files, and the CRM exports.

Each Parquet file is read, its rows of the person dropped (by record key, pair, golden ID
or, in a raw landing, the source's own key column; change feeds and lineage, which hold
IDs and attribute names only, are kept like the CRM's feed) and, if anything was
dropped, written back beside itself and renamed over, so a crash leaves each file whole,
before or after. An export's manifest is rewritten with its files' new counts and
hashes, so the next night still patches its export from it. The runs' text files (gate
results, Data Docs, reports) that still name one of the person's records or values are
listed, for the officer to delete or keep as the retention schedule says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from golden_record.atomic import write_text
from golden_record.digest import file_sha256
from golden_record.extract.declaration import declared_sources
from golden_record.keys import held_in

TEXT_SUFFIXES = (".json", ".html", ".csv", ".txt")


@dataclass
class Purged:
    files_rewritten: list[str] = field(default_factory=list)
    rows_removed: int = 0
    still_named_in: list[str] = field(default_factory=list)


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).cast(pa.string()).combine_chunks()


# Columns of files that hold identifiers and events only (change feeds, lineage): such a
# file keeps its rows, as the CRM's feed does (an ID and attribute names are no values).
IDENTIFIERS_ONLY = frozenset(
    {
        "sequence",
        "publish_id",
        "run_key",
        "published_at",
        "event",
        "golden_id",
        "other_golden_id",
        "related_golden_id",
        "merged_into",
        "split_from",
        "changed",
        "changed_attributes",
    }
)


def _rows_of(table: pa.Table, path: Path, records: set[str], golden_ids: set[str]) -> np.ndarray:
    """Which rows of ``table`` are the person's."""
    names = set(table.column_names)
    hit = np.zeros(table.num_rows, dtype=bool)
    if names <= IDENTIFIERS_ONLY:
        return hit
    for column in ("unique_id", "unique_id_l", "unique_id_r"):
        if column in names:
            hit |= held_in(_column(table, column), records)
    for column in ("golden_id", "related_golden_id"):
        if column in names:
            hit |= held_in(_column(table, column), golden_ids)
    if {"source_system", "source_record_id"} <= names:
        keys = pc.binary_join_element_wise(
            _column(table, "source_system"), _column(table, "source_record_id"), ":"
        )
        hit |= held_in(keys, records)
    if path.parent.name == "raw":
        source = path.name.split(".")[0]
        declared = {s.name: s.key for s in declared_sources().sources}
        key = "key" if path.name.endswith(".keys.parquet") else declared.get(source, "")
        if source in declared and key and key in names:
            ids = {r.split(":", 1)[1] for r in records if r.startswith(f"{source}:")}
            hit |= held_in(pc.utf8_trim_whitespace(_column(table, key)), ids)
    return hit


def _purge_parquet(path: Path, records: set[str], golden_ids: set[str], write: bool = True) -> int:
    table = pq.read_table(path)
    hit = _rows_of(table, path, records, golden_ids)
    if not hit.any() or not write:
        return int(hit.sum())
    kept = table.filter(pa.array(~hit))
    temporary = path.with_name(f".{path.name}.erasing")
    pq.write_table(kept, temporary)
    temporary.replace(path)
    return int(hit.sum())


def _rewrite_manifest(folder: Path) -> None:
    manifest_file = folder / "manifest.json"
    if not manifest_file.is_file():
        return
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for name, entry in manifest.get("files", {}).items():
        path = folder / name
        if path.is_file():
            entry["sha256"] = file_sha256(path)
            if path.suffix == ".parquet":
                entry["rows"] = pq.read_metadata(path).num_rows
            else:
                entry["rows"] = max(0, len(path.read_text(encoding="utf-8").splitlines()) - 1)
    write_text(json.dumps(manifest, indent=2) + "\n", manifest_file)


def _purge_export(
    folder: Path, records: set[str], golden_ids: set[str], purged: Purged, write: bool
) -> None:
    """An export folder: its Parquet files purged, each CSV rewritten from its Parquet
    file (the same rows, as the export writes them), the manifest brought up to date."""
    from golden_record.publish.export import write_csv

    changed = False
    for path in sorted(folder.glob("*.parquet")):
        removed = _purge_parquet(path, records, golden_ids, write)
        if removed:
            changed = True
            purged.rows_removed += removed
            purged.files_rewritten.append(str(path))
            csv = path.with_suffix(".csv")
            if csv.is_file() and not write:
                purged.files_rewritten.append(str(csv))
            elif csv.is_file():
                temporary = csv.with_name(f".{csv.name}.erasing")
                write_csv(pq.read_table(path), temporary)
                temporary.replace(csv)
                purged.files_rewritten.append(str(csv))
    if changed and write:
        _rewrite_manifest(folder)


def purge(
    data_root: Path,
    records: set[str],
    golden_ids: set[str],
    exports_root: Path | None = None,
    mentions: set[str] | None = None,
    write: bool = True,
) -> Purged:
    """Remove the person's rows from every run's files and every export under
    ``data_root``; list text files still holding any of ``mentions`` (their record ids and
    distinctive values). ``write=False``: only count what would go (a dry run)."""
    from golden_record.publish.export import exports_root as default_exports

    purged = Purged()
    runs = Path(data_root) / "runs"
    if runs.is_dir():
        for path in sorted(runs.rglob("*.parquet")):
            if path.name.startswith("."):
                continue
            removed = _purge_parquet(path, records, golden_ids, write)
            if removed:
                purged.rows_removed += removed
                purged.files_rewritten.append(str(path))
    exports = exports_root or default_exports(Path(data_root))
    if exports.is_dir():
        for folder in sorted(p for p in exports.iterdir() if p.is_dir()):
            _purge_export(folder, records, golden_ids, purged, write)
    wanted = sorted(m for m in (mentions or set()) | records if m and len(m) >= 5)
    # The exports were rewritten from their purged Parquet files: only the runs' reports
    # and gate results are searched.
    if wanted and runs.is_dir():
        for path in sorted(runs.rglob("*")):
            if path.suffix not in TEXT_SUFFIXES or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if any(m in text for m in wanted):
                purged.still_named_in.append(str(path))
    return purged
