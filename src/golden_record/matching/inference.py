"""Score and cluster standardised records with a stored model (nightly; never trains).

Three bands, by match probability:

* **auto-match** (at or above ``Thresholds.auto_match``): linked, then clustered without
  joining conflicting records (:mod:`golden_record.matching.clustering`);
* **clerical review** (from ``Thresholds.review`` up to auto-match), plus auto-match links
  the clustering refused: a match here "may indicate an inconsistency" and nothing is
  assumed until a person checks it;
* **non-match** below ``Thresholds.review``: not kept.

Before scoring, records whose comparable fields are all identical and hold identifying
detail beyond a name (a date of birth, an email, a phone, an NI number, a UPRN or a street
line) are scored once: the rest join their representative's cluster with probability 1.
Identical records that hold only a name (and perhaps a town) are scored like any other
pair, since two of them are as likely two namesakes as one person. An email, phone or NI
number held by many different people identifies none of them and is left out first
(:mod:`golden_record.matching.generic`). A group of more than
``MAX_IDENTICAL`` identical records (a bulk load or placeholder data, not a person) is
never merged: each stays on its own and the group is reported for review. A record with
nothing to compare (no name, date of birth, contact or address) stays on its own.

The thresholds and the precision/recall curve behind them are in ``docs/thresholds.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from splink import Linker

from golden_record.hashing import duckdb_row_hashes
from golden_record.keys import positions_in
from golden_record.matching.backend import as_frame, matching_db_api, register
from golden_record.matching.clustering import cluster_without_conflicts, join_must_link
from golden_record.matching.clustering_on_spark import cluster_on_spark, should_cluster_on_spark
from golden_record.matching.dialect import for_dialect
from golden_record.matching.generic import without_generic_identifiers
from golden_record.matching.guard import (
    PAIR_VALUES_READ,
    Households,
    PersonalEvidence,
    forename_and_birth_date_conflict,
    household_evidence_only,
    namesakes_in_one_system,
)
from golden_record.matching.incremental import EarlierScoring, Scoring, score_records
from golden_record.matching.kept_components import KeptComponents
from golden_record.matching.levels import LevelWeights, ModelShapeError
from golden_record.matching.model import DEFAULT_MODEL_PATH, with_loose_rules
from golden_record.matching.parked import NOTHING_PARKED, Parked, park
from golden_record.matching.precedents import SETTLED_COLUMNS, Precedents, join_settled_same
from golden_record.memory import give_back, trim
from golden_record.standardise.fields import MATCH_COLUMNS

PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
MAX_IDENTICAL = 25
IDENTIFYING = ("date_of_birth", "email", "phone", "ni_number", "uprn", "address_key")
COMPARABLE = [
    c
    for c in MATCH_COLUMNS
    if c not in ("unique_id", "source_system", "source_record_id", "postcode_valid")
]
REVIEW_COLUMNS = [*PAIR_COLUMNS, "reason"]


class ModelError(ValueError):
    """The model file is missing, unreadable or not a model for these records."""


@dataclass(frozen=True)
class Thresholds:
    auto_match: float = 0.95
    review: float = 0.80

    def __post_init__(self) -> None:
        if not 0 < self.review <= self.auto_match <= 1:
            raise ValueError("thresholds must satisfy 0 < review <= auto_match <= 1")


@dataclass(frozen=True)
class MatchOptions:
    """How to match, in one value from the command line or the night to the clustering:
    the thresholds, whether the household guard applies, the stewards' decisions
    (``cannot_link`` pairs kept apart, ``must_link`` pairs joined, whatever the scores)
    and the database Splink runs on (DuckDB in memory if None)."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    household_guard: bool = True
    cannot_link: frozenset[frozenset[str]] = frozenset()
    must_link: frozenset[frozenset[str]] = frozenset()
    db_api: Any = field(default=None, compare=False)
    # An earlier night's scoring to build tonight's pairs on (scored in full if None, or
    # if it does not allow: see golden_record.matching.incremental).
    earlier: EarlierScoring | None = field(default=None, compare=False)
    why_full: str | None = None
    # What stewards decided, by kind of pair: doubtful pairs of a kind they always decide
    # one way are decided that way (golden_record.matching.precedents).
    precedents: Precedents | None = field(default=None, compare=False)


@dataclass
class MatchResult:
    pairs: pd.DataFrame  # every pair scored at or above the review threshold, with detail
    clusters: pd.DataFrame  # unique_id, cluster_id, cluster_match_probability
    review_pairs: pd.DataFrame  # REVIEW_COLUMNS
    scoring: Scoring | None = None  # how the pairs were scored (None: nothing to score)
    # Doubtful pairs the stewards' precedents decided (SETTLED_COLUMNS), not sent to review.
    settled: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SETTLED_COLUMNS))
    # The components the clustering checked, for the next night (None: not kept).
    kept_components: KeptComponents | None = None
    components_kept: int = 0  # components answered from the earlier night's

    @property
    def links(self) -> pd.DataFrame:
        return self.pairs[PAIR_COLUMNS]


def load_model(path: Path | None = None) -> dict:
    """Read a model file and check it is a Splink model over this project's columns."""
    path = Path(path or DEFAULT_MODEL_PATH)
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"model file not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"model file {path} is not valid JSON: {exc}") from exc
    if not isinstance(model, dict) or not isinstance(model.get("comparisons"), list):
        raise ModelError(f"model file {path} is not a Splink model (no 'comparisons' list)")
    if model.get("link_type") != "dedupe_only" or model.get("unique_id_column_name") != "unique_id":
        raise ModelError(f"model file {path} is not a dedupe model keyed on unique_id")
    unknown = sorted(_columns_used(model) - set(MATCH_COLUMNS))
    if unknown:
        raise ModelError(
            f"model file {path} compares columns this pipeline does not produce: "
            f"{', '.join(unknown)} (a model from another schema?)"
        )
    try:
        LevelWeights.of(model)
    except ModelShapeError as exc:
        raise ModelError(f"model file {path}: {exc}") from exc
    return model


def _columns_used(model: dict) -> set[str]:
    import re

    used = set()
    for comparison in model["comparisons"]:
        for level in comparison.get("comparison_levels", []):
            sql = level.get("sql_condition", "")
            used |= set(re.findall(r"\b([a-z_][a-z0-9_]*)_[lr]\b", sql))
    return used - {"unique_id"}


def _empty_result() -> MatchResult:
    return MatchResult(
        pairs=pd.DataFrame(columns=PAIR_COLUMNS),
        clusters=pd.DataFrame(columns=["unique_id", "cluster_id", "cluster_match_probability"]),
        review_pairs=pd.DataFrame(columns=REVIEW_COLUMNS),
    )


def score(
    records: pd.DataFrame,
    model: dict,
    threshold: float,
    db_api: Any = None,
    linker_out: list[Linker] | None = None,
) -> pd.DataFrame:
    """Every blocked pair at or above ``threshold``, with Splink's detail columns."""
    db_api = db_api or matching_db_api()
    dialect = db_api.sql_dialect.sql_dialect_str
    model = with_loose_rules(for_dialect(model, dialect), records, dialect)
    linker = Linker(register(db_api, records), model, log_level=None)
    if linker_out is not None:
        linker_out.append(linker)
    scored = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    return as_frame(scored)


# Columns computed from others (a forename's variants and sound, an email's user name
# and digits) add nothing to whether two records are identical.
DERIVED = {
    "first_name_variants",
    "surname_parts",
    "first_name_sound",
    "surname_sound",
    "email_user",
    "email_digits",
}


def _content_key(records: pd.DataFrame) -> pd.Series:
    """A 64-bit hash of each record's compared fields (unsigned), by the same index."""
    compared = [c for c in COMPARABLE if c not in DERIVED]
    return pd.Series(duckdb_row_hashes(records[compared].astype("string")), index=records.index)


def _identical_groups(records: pd.DataFrame, identifying: pd.Series) -> pd.Series:
    """A group number per record: records with identical compared fields that hold
    identifying detail share one; every other record has one of its own. Numbered, not
    mixed with stand-ins: a 64-bit hash beside negative numbers became a float, and two
    hashes a float cannot tell apart would have made two different records one."""
    hashes = _content_key(records).to_numpy(dtype=np.uint64)
    held = identifying.to_numpy(dtype=bool)
    groups = np.empty(len(records), dtype=np.int64)
    groups[held] = pd.factorize(hashes[held])[0]
    first_own = int(groups[held].max()) + 1 if held.any() else 0
    groups[~held] = first_own + np.arange(int((~held).sum()))
    return pd.Series(groups, index=records.index)


def predict_and_cluster(
    records: pd.DataFrame, model: dict, options: MatchOptions | None = None
) -> MatchResult:
    """Score, then cluster, honouring the stewards' decisions in ``options``."""
    options = options or MatchOptions()
    missing = [column for column in MATCH_COLUMNS if column not in records]
    if missing:
        # Records standardised by an older version (a column added since) or not at all.
        raise ValueError(
            f"records lack the standardised columns {', '.join(missing)}: standardise them "
            "with this version first (golden_record.matching.stage.standardise_records)"
        )
    if records.empty:
        return _empty_result()
    if records["unique_id"].duplicated().any():
        duplicate = records.loc[records["unique_id"].duplicated(), "unique_id"].iloc[0]
        raise ValueError(f"record {duplicate} appears more than once in the input")
    # A switchboard's number or a care home's email is nobody's: left out of matching.
    records, _ = without_generic_identifiers(records.reset_index(drop=True))
    empty = records[COMPARABLE].isna().all(axis=1)
    identifying = records[list(IDENTIFYING)].notna().any(axis=1)
    # Records with nothing beyond a name each get a key of their own: scored, not joined.
    key = _identical_groups(records, identifying)
    group_size = key.groupby(key).transform("size")
    representative = records.groupby(key)["unique_id"].transform("min")
    bulk = (group_size > MAX_IDENTICAL) & ~empty
    kept = ~empty & ~bulk
    scored_here = (records["unique_id"] == representative) & kept

    # The systems each scored record stands for, with its identical copies': the
    # one-system namesake rule must see a copy's system too.
    stands_for = pd.DataFrame(
        {"representative": representative[kept], "system": records.loc[kept, "source_system"]}
    ).drop_duplicates()
    several = stands_for[stands_for.duplicated("representative", keep=False)]
    systems = {
        str(k): frozenset(v)
        for k, v in several.groupby("representative")["system"].agg(frozenset).items()
    }
    distinct = records[scored_here]
    # Only the ids are read from here on: the rest goes, where the caller handed the
    # records over (golden_record.pipeline.match) rather than keeping them.
    records = records[["unique_id"]]
    result, parked = _match_distinct(distinct, model, options, systems)
    del distinct
    copies = kept & ~scored_here
    of_representative = positions_in(representative[copies], result.clusters["unique_id"])
    if (of_representative < 0).any():  # each representative was scored, so clustered
        raise RuntimeError("a scored record is missing from its own clustering")
    joined = pd.DataFrame(
        {
            "unique_id": records.loc[copies, "unique_id"].to_numpy(),
            "cluster_id": result.clusters["cluster_id"].to_numpy()[of_representative],
            "cluster_match_probability": 1.0,
        }
    )
    alone = records.loc[empty | bulk, "unique_id"]
    singletons = pd.DataFrame(
        {"unique_id": alone, "cluster_id": alone, "cluster_match_probability": float("nan")}
    )
    clusters = pd.concat(
        [c for c in (result.clusters, joined, singletons) if not c.empty], ignore_index=True
    )
    # A representative that got a lower-id copy still names the cluster by its lowest id.
    clusters["cluster_id"] = clusters.groupby("cluster_id")["unique_id"].transform("min")
    clusters = join_must_link(clusters, set(options.must_link))
    clusters, unsettled = join_settled_same(clusters, result.settled, set(options.cannot_link))
    review, settled = result.review_pairs, result.settled
    if not unsettled.empty:
        back = unsettled.assign(
            reason="stewards decided pairs like this 'same', but joining it would join records "
            "a steward decided are different people"
        )[REVIEW_COLUMNS]
        review = pd.concat([review, back], ignore_index=True)
        settled = settled.drop(unsettled.index)
    if bulk.any():
        bulk_rows = records[bulk].groupby(key[bulk])["unique_id"].agg(["min", "max", "size"])
        flagged = pd.DataFrame(
            {
                "unique_id_l": bulk_rows["min"].to_numpy(),
                "unique_id_r": bulk_rows["max"].to_numpy(),
                "match_probability": 1.0,
                "match_weight": float("nan"),
                "reason": [
                    f"{n} identical records not merged: a bulk load or placeholder data?"
                    for n in bulk_rows["size"]
                ],
            }
        )
        review = pd.concat([review, flagged], ignore_index=True)
    return MatchResult(
        # The pairs' values set aside while the guard and the clustering ran come back last.
        pairs=parked.restore(result.pairs),
        clusters=clusters,
        review_pairs=review,
        scoring=result.scoring,
        settled=settled.reset_index(drop=True),
        kept_components=result.kept_components,
        components_kept=result.components_kept,
    )


def _shared_places(records: pd.DataFrame, weights: LevelWeights, pairs: pd.DataFrame) -> Any:
    """Whether each pair shares a household's place. Its own function so that the
    households' every-record places are freed before the clustering builds its own."""
    households = Households(records, weights)
    return households.shared(pairs)


def _match_distinct(
    records: pd.DataFrame,
    model: dict,
    options: MatchOptions,
    systems_of: dict[str, frozenset[str]] | None = None,
) -> tuple[MatchResult, Parked]:
    """The match of records that are each scored (no two alike), and the scored pairs'
    values it set aside (:mod:`golden_record.matching.parked`), for the caller to put back
    into ``pairs`` once it has done with its own work."""
    thresholds = options.thresholds
    if len(records) < 2:
        return MatchResult(
            pairs=pd.DataFrame(columns=PAIR_COLUMNS),
            clusters=pd.DataFrame(
                {
                    "unique_id": records["unique_id"],
                    "cluster_id": records["unique_id"],
                    "cluster_match_probability": float("nan"),
                }
            ),
            review_pairs=pd.DataFrame(columns=REVIEW_COLUMNS),
        ), NOTHING_PARKED
    records = records.reset_index(drop=True)
    weights = LevelWeights.of(model)
    db_api = options.db_api or matching_db_api()
    clusters_on_spark = should_cluster_on_spark(db_api, len(records))
    # Splink's tables (the blocked pairs, the predictions) would hold DuckDB's memory (up
    # to its limit, 1.6 GB at a million records) through the sort, the guard and the
    # clustering: this match's own connection is closed once the pairs are out of it.
    own_connection = options.db_api is None and not clusters_on_spark
    pairs, scoring = score_records(
        records,
        model,
        thresholds.review,
        db_api,
        options.earlier,
        options.why_full,
        release_when_scored=own_connection,
    )
    if own_connection:
        # And what the scoring freed (Arrow's pool, glibc's heap) goes back before the
        # guard and the clustering build theirs: a first night's match peaked there.
        give_back()
    # The pairs' compared values, bar the few the guard reads, are set aside while the
    # guard and the clustering build theirs (the match's peak), and what they held goes
    # back too.
    pairs, parked = park(pairs, keep=[*PAIR_COLUMNS, *PAIR_VALUES_READ])
    trim()
    high = pairs["match_probability"] >= thresholds.auto_match
    evidence = PersonalEvidence.of(pairs)
    at_household = pd.Series(False, index=pairs.index)
    if options.household_guard:
        # The ids alone, not a copy of every column of the auto-match pairs (most pairs).
        at_household[high] = _shared_places(
            records, weights, pairs.loc[high, ["unique_id_l", "unique_id_r"]]
        )
    auto_bits = float(np.log2(thresholds.auto_match / (1 - thresholds.auto_match)))
    household_only = high & household_evidence_only(pairs, evidence, at_household, auto_bits)
    namesakes = (
        high
        & namesakes_in_one_system(pairs, evidence, at_household, auto_bits, systems_of)
        & ~household_only
    )
    auto = high & ~household_only & ~namesakes
    # A pair refused for household reasons must not be joined through a third record
    # either: that is how a father and his undated namesake son are chained together.
    refused_pairs = {
        frozenset(pair)
        for pair in pairs.loc[
            household_only | namesakes, ["unique_id_l", "unique_id_r"]
        ].itertuples(index=False, name=None)
    }
    links = pairs.loc[auto, PAIR_COLUMNS].assign(agrees=evidence.agree[auto])
    cluster: Any = cluster_without_conflicts
    if clusters_on_spark:
        cluster = partial(cluster_on_spark, db_api=db_api)
    elif (earlier_components := _earlier_components(options.earlier, scoring)) is not None:
        cluster = partial(cluster_without_conflicts, earlier=earlier_components)
    clustering = cluster(
        records,
        links,
        set(options.cannot_link) | refused_pairs,
        weights=weights,
        household_guard=options.household_guard,
    )

    cluster_of = clustering.clusters.set_index("unique_id")["cluster_id"]
    apart = (
        cluster_of.reindex(pairs["unique_id_l"]).to_numpy()
        != cluster_of.reindex(pairs["unique_id_r"]).to_numpy()
    )
    review = pairs.loc[apart, PAIR_COLUMNS].copy()
    review["reason"] = "review band"
    refused = clustering.refused
    reasons = {
        "conflict": "auto-match refused: forenames or dates of birth conflict in the cluster",
        "ambiguous": "auto-match refused: record fits two people who conflict",
    }
    refused_reason = pd.Series(
        refused["reason"].map(reasons).to_numpy(),
        index=pd.MultiIndex.from_arrays([refused["unique_id_l"], refused["unique_id_r"]]),
    )
    key = pd.MultiIndex.from_arrays([review["unique_id_l"], review["unique_id_r"]])
    review["reason"] = refused_reason.reindex(key).fillna("review band").to_numpy()
    household_keys = pd.MultiIndex.from_frame(
        pairs.loc[household_only, ["unique_id_l", "unique_id_r"]]
    )
    review.loc[key.isin(household_keys), "reason"] = (
        "auto-match refused: at a household, and forename and personal details do not carry it"
    )
    namesake_keys = pd.MultiIndex.from_frame(pairs.loc[namesakes, ["unique_id_l", "unique_id_r"]])
    review.loc[key.isin(namesake_keys), "reason"] = (
        "auto-match refused: one system holds both at a household and nothing personal agrees"
    )
    # A pair a steward has decided is not doubtful any more, whatever the model says.
    decided = set(options.must_link) | set(options.cannot_link)
    if decided:
        pair_keys = zip(review["unique_id_l"], review["unique_id_r"], strict=True)
        review = review[[frozenset(k) not in decided for k in pair_keys]]
    # What the evidence decides is not a steward's question: the forename and the date of
    # birth both conflict (two people), or stewards always decided pairs like it one way.
    gammas = [c for c in pairs.columns if c.startswith("gamma_")]
    detailed = review.join(pairs[gammas])
    two_people = forename_and_birth_date_conflict(detailed, weights)
    settled = detailed.loc[two_people, REVIEW_COLUMNS].assign(
        decision="different", decided_alike=0, settled_by="evidence"
    )
    detailed = detailed[~two_people]
    if options.precedents is not None:
        detailed, by_precedent = options.precedents.settle(detailed)
        settled = pd.concat([settled, by_precedent], ignore_index=True)
    review = detailed[REVIEW_COLUMNS]
    settled = settled.reset_index(drop=True)
    review = review.sort_values("match_probability", ascending=False).reset_index(drop=True)
    result = MatchResult(
        pairs=pairs,
        clusters=clustering.clusters,
        review_pairs=review,
        scoring=scoring,
        settled=settled,
        kept_components=clustering.kept,
        components_kept=clustering.components_kept,
    )
    return result, parked


def _earlier_components(
    earlier: EarlierScoring | None, scoring: Scoring | None
) -> KeptComponents | None:
    """The components the earlier night checked, on a night scored on its pairs (a full
    night, the monthly re-match among them, checks every component again)."""
    if earlier is None or earlier.components_file is None:
        return None
    if scoring is None or scoring.mode != "incremental" or scoring.base_run != earlier.run_key:
        return None
    return KeptComponents.read(earlier.components_file)
