"""Score only what changed: tonight's pairs from an earlier night's and the changed records'.

A pair's score depends on its two records, the model, the blocking rules and the name
frequencies. So when a night's model, review threshold and blocking rules are the
earlier night's, its scored pairs are exactly:

* the earlier night's pairs between records scored that night whose content is the same
  tonight (found by a content hash of every compared field), plus
* the changed records (new, or whose content changed, or newly standing for identical
  copies) scored against the unchanged ones (Splink's ``predict_between``, with the same
  blocking rules) and among themselves (``predict_within``).

Records deleted at source simply drop out with their pairs. Name frequencies are taken
from tonight's whole population, as a full night's are, so the new pairs score as a full
night would; the kept pairs keep the frequencies of the night they were scored, a drift
of a fraction of a bit when a small share changes (measured in ``docs/benchmarks.md``),
and a full re-match (a new model, ``full_refresh``, the first night of each month) resets
it. Clustering then runs over all of tonight's pairs, as on a full night.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from golden_record.hashing import duckdb_row_hashes
from golden_record.keys import held_in, positions_in
from golden_record.matching.backend import (
    as_frame,
    matching_db_api,
    register,
    release,
    sorted_frame_of,
    taken_as_frame,
)
from golden_record.matching.dialect import for_dialect
from golden_record.standardise.fields import MATCH_COLUMNS

if TYPE_CHECKING:
    from splink import Linker

# Every field a comparison, a blocking rule or the guard may read; unique_id is the key.
HASHED = [c for c in MATCH_COLUMNS if c != "unique_id"]
SCORED_RECORD_COLUMNS = ["unique_id", "content_hash"]
# Rows of the earlier scored pairs read and filtered at a time.
PAIRS_BATCH = 65_536


def content_hashes(records: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per record over :data:`HASHED`, by position (DuckDB's ``hash``:
    2.6 s at a million records where pandas took 50 s). Positional, and a missing value
    hashes unlike any text, so moving or blanking a value changes the hash; a DuckDB that
    hashes otherwise is named by :func:`hash_scheme`, and the night scores in full."""
    return duckdb_row_hashes(records[HASHED])


def hash_scheme() -> str:
    """What a content hash depends on besides the data: a night hashed otherwise (a
    DuckDB upgrade, a field added) is compared with nothing and scored in full."""
    import duckdb

    return f"duckdb {duckdb.__version__}; " + ",".join(HASHED)


@dataclass(frozen=True)
class Scoring:
    """How a night's pairs were scored, kept beside them so the next night can build on
    them: the records scored (each with its content hash) and what the pairs depend on."""

    records: pd.DataFrame  # SCORED_RECORD_COLUMNS
    model_sha256: str
    review_threshold: float
    blocking_rules: tuple[str, ...]
    hash_scheme: str
    mode: str  # full | incremental
    why_full: str | None = None
    base_run: str | None = None
    changed: int = 0
    kept_pairs: int = 0
    new_pairs: int = 0
    last_full: str | None = None  # the run key of the last full scoring in the chain

    def about(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "why_full": self.why_full,
            "base_run": self.base_run,
            "records_scored": len(self.records),
            "changed": self.changed,
            "kept_pairs": self.kept_pairs,
            "new_pairs": self.new_pairs,
            "model_sha256": self.model_sha256,
            "review_threshold": self.review_threshold,
            "blocking_rules": list(self.blocking_rules),
            "hash_scheme": self.hash_scheme,
            "last_full": self.last_full,
        }


@dataclass(frozen=True)
class EarlierScoring:
    """An earlier night's scoring, read from its match files, to build tonight's on."""

    run_key: str
    about: dict[str, Any]
    records_file: Path
    pairs_file: Path
    # The components its clustering checked (kept_components), if it kept them.
    components_file: Path | None = None
    records: pd.DataFrame = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "records", pd.read_parquet(self.records_file))

    def pairs_among(self, ids: pd.Series) -> pa.Table:
        """The earlier pairs both of whose records are among ``ids``, filtered a batch at a
        time as the file is read: read whole and then filtered, the file's one row group
        and the part kept of it were both held at once (a quiet night's match at a million
        records: 2.2 GB where batches hold 1.5 GB, and 1.3 s where they take 0.8 s).

        A pair is dropped when either record is one of the earlier night's records not
        in ``ids`` (a few thousand on a quiet night, where ``ids`` is nearly everyone:
        a small set to look up in); the earlier pairs are all between its records."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        earlier_ids = self.records["unique_id"]
        left_out = pa.array(
            earlier_ids[~held_in(earlier_ids, ids)].to_numpy(dtype=object), type=pa.string()
        )
        source = pq.ParquetFile(self.pairs_file)
        parts = []
        for batch in source.iter_batches(batch_size=PAIRS_BATCH):
            either = pc.or_(
                pc.is_in(batch.column("unique_id_l"), value_set=left_out),
                pc.is_in(batch.column("unique_id_r"), value_set=left_out),
            )
            parts.append(batch.filter(pc.invert(either)))
        return pa.Table.from_batches(parts, schema=source.schema_arrow)


def model_sha256(model: dict) -> str:
    return hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()


def _why_not_incremental(
    earlier: EarlierScoring | None, model: dict, threshold: float, rules: tuple[str, ...]
) -> str | None:
    if earlier is None:
        return "no earlier night to build on"
    about = earlier.about
    if about.get("model_sha256") != model_sha256(model):
        return f"the model differs from night {earlier.run_key}'s"
    if about.get("review_threshold") != threshold:
        return f"the review threshold differs from night {earlier.run_key}'s"
    if tuple(about.get("blocking_rules", ())) != rules:
        return f"night {earlier.run_key}'s blocking rules no longer fit tonight's pair budget"
    if about.get("hash_scheme") != hash_scheme():
        return f"night {earlier.run_key}'s records were hashed otherwise"
    return None


def _blocking_rules(model: dict) -> tuple[str, ...]:
    return tuple(
        rule["blocking_rule"] if isinstance(rule, dict) else str(rule)
        for rule in model["blocking_rules_to_generate_predictions"]
    )


def _tf_columns(model: dict) -> list[str]:
    return sorted(
        {
            level["tf_adjustment_column"]
            for comparison in model["comparisons"]
            for level in comparison.get("comparison_levels", [])
            if level.get("tf_adjustment_column")
        }
    )


def score_records(
    records: pd.DataFrame,
    model: dict,
    threshold: float,
    db_api: Any = None,
    earlier: EarlierScoring | None = None,
    why_full: str | None = None,
    release_when_scored: bool = False,
) -> tuple[pd.DataFrame, Scoring]:
    """Every blocked pair of ``records`` at or above ``threshold`` with Splink's detail
    columns, sorted by the pair's ids, and how they were scored: built on ``earlier``
    where it allows (see the module's docstring), else in full (``why_full`` says why
    when the caller decided).

    ``release_when_scored``: ``db_api`` is the caller's own DuckDB connection for this
    scoring, closed as soon as the pairs are out of it, before they are sorted and
    joined (its buffers were the match's peak at a million records)."""
    # Here, not at the top: the golden task reads earlier scorings without Splink.
    from splink import Linker

    from golden_record.matching.model import with_loose_rules

    db_api = db_api or matching_db_api()
    prefer = None
    if earlier is not None and why_full is None:
        model_rules = set(_blocking_rules(model))
        prefer = [r for r in earlier.about.get("blocking_rules", ()) if r not in model_rules]
    dialect = db_api.sql_dialect.sql_dialect_str
    model = with_loose_rules(for_dialect(model, dialect), records, dialect, prefer)
    rules = _blocking_rules(model)
    scored = pd.DataFrame(
        {"unique_id": records["unique_id"].to_numpy(), "content_hash": content_hashes(records)}
    )
    scoring = partial(Scoring, scored, model_sha256(model), threshold, rules, hash_scheme())
    why_full = why_full or _why_not_incremental(earlier, model, threshold, rules)
    linker = Linker(register(db_api, records), model, log_level=None)
    if why_full is not None or earlier is None:
        found = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        pairs = taken_as_frame(found, PAIR_ORDER, close_connection=release_when_scored)
        return pairs, scoring(mode="full", why_full=why_full, new_pairs=len(pairs))

    same = same_content(scored, earlier.records)
    changed = ~same
    fresh = _score_changed(linker, db_api, model, records, changed, threshold)
    if release_when_scored:
        release(db_api)
    # The earlier pairs are read only now, and handed over without a name here, so the
    # sort can let each of their columns go once it is copied into order (as a full
    # night's pairs are sorted: taken_as_frame).
    pairs = sorted_frame_of(
        _joined(earlier.pairs_among(scored.loc[same, "unique_id"]), fresh), PAIR_ORDER
    )
    new_pairs = 0 if fresh is None else len(fresh)
    about = scoring(
        mode="incremental",
        base_run=earlier.run_key,
        changed=int(changed.sum()),
        kept_pairs=len(pairs) - new_pairs,
        new_pairs=new_pairs,
        last_full=earlier.about.get("last_full") or earlier.run_key,
    )
    return pairs, about


def same_content(tonight: pd.DataFrame, before: pd.DataFrame) -> np.ndarray:
    """For each of tonight's records, whether an earlier night scored it with the same
    content hash (by position, never through a float: a 64-bit hash does not fit one)."""
    position = positions_in(tonight["unique_id"], before["unique_id"])
    held = position >= 0
    same = np.zeros(len(tonight), dtype=bool)
    before_hash = before["content_hash"].to_numpy(dtype=np.uint64)
    same[held] = before_hash[position[held]] == tonight["content_hash"].to_numpy(np.uint64)[held]
    return same


def _score_changed(
    linker: Linker,
    db_api: Any,
    model: dict,
    records: pd.DataFrame,
    changed: np.ndarray,
    threshold: float,
) -> pd.DataFrame | None:
    """The changed records scored against the unchanged and among themselves, with name
    frequencies from all ``records`` (the linker's input), as a full night takes them."""
    if not changed.any():
        return None
    for column in _tf_columns(model):
        linker.table_management.compute_tf_table(column)
    options: dict[str, Any] = {"threshold_match_probability": threshold, "warning_mode": "never"}
    changed_sdf = register(db_api, records[changed], "changed_records")
    found = []
    if not changed.all():
        unchanged_sdf = register(db_api, records[~changed], "unchanged_records")
        between = linker.inference.predict_between(changed_sdf, unchanged_sdf, **options)
        found.append(_left_lower(as_frame(between)))
    if changed.sum() > 1:
        found.append(as_frame(linker.inference.predict_within(changed_sdf, **options)))
    return pd.concat(found, ignore_index=True)


def _left_lower(pairs: pd.DataFrame) -> pd.DataFrame:
    """``predict_between`` pairs with the lower id on the left, as a dedupe's are (every
    ``_l`` column swapped with its ``_r`` twin where the new record's id is higher)."""
    swap = (pairs["unique_id_l"] > pairs["unique_id_r"]).to_numpy()
    if not swap.any():
        return pairs
    pairs = pairs.copy()
    for left in [c for c in pairs.columns if c.endswith("_l")]:
        right = left[:-2] + "_r"
        if right in pairs:
            values_l = pairs.loc[swap, left].to_numpy()
            pairs.loc[swap, left] = pairs.loc[swap, right].to_numpy()
            pairs.loc[swap, right] = values_l
    return pairs


# DuckDB returns pairs in no fixed order; sorted, a night's pairs are one file whichever
# way they were scored.
PAIR_ORDER = ["unique_id_l", "unique_id_r"]


def _joined(kept: pa.Table, fresh: pd.DataFrame | None) -> pa.Table:
    """The kept pairs and the fresh ones as one table, the kept ones' columns not copied."""
    if fresh is None:
        return kept
    fresh_table = pa.Table.from_pandas(fresh, preserve_index=False)
    return pa.concat_tables([kept, fresh_table], promote_options="permissive")
