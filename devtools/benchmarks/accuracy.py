"""``make bench-accuracy``: pairwise precision, recall and F1, ours beside plain Splink.

Each data set is matched the way ``golden-record match`` matches a file it has never
seen: our standardisation, our model shape trained unsupervised on that data set, then
prediction with the household guard. Plain Splink
(:mod:`devtools.benchmarks.plain_splink`) is trained and run on the same
standardised records in the same run. Also printed: blocking recall (the share of true
pairs any blocking rule brings together), household hard cases merged where the data
knows them, the scores without the household guard, and the auto-match threshold sweep.

Rows are marked by whether development tuned on them. Tuned: FEBRL3, FEBRL4 and the
synthetic council of seed 11. Held out, never tuned on: FEBRL1, FEBRL2, the council of
seed 13, the mistyped profile (:mod:`devtools.generate.typo_profile`),
RLdata10000 from R's RecordLinkage package (:mod:`devtools.benchmarks.rldata`),
pseudopeople's simulated town at its own noise and at five times it
(:mod:`devtools.benchmarks.pseudopeople_town`, a population simulator
nobody here wrote) and any labelled file given with ``--external NAME=PATH``. Every row
is also matched with the packaged model (the demo's) beside the default, and gives the
share of its records the review queue holds; where a set records each person's sex and
race or ethnicity, recall by group.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from devtools.benchmarks.ceilings import conflict_free_ceiling, shared_detail_ceiling
from devtools.benchmarks.plain_splink import MAX_PAIRS_FOR_U, plain_settings, plain_splink
from devtools.benchmarks.stewards import ITEMS_DECIDED, StewardsDay, stewards_day
from golden_record.matching.blocking import blocking_recall, rules_of
from golden_record.matching.choosing import train_checked
from golden_record.matching.evaluation import PairwiseScores, merged_hard_cases, pairwise_scores
from golden_record.matching.inference import MatchOptions, Thresholds, load_model
from golden_record.matching.levels import LevelWeights
from golden_record.matching.stage import match_standardised, standardise_records

SWEEP = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


@dataclass
class DataSet:
    name: str
    records: pd.DataFrame
    truth: pd.DataFrame
    tuned: bool
    hard_cases: pd.DataFrame | None = None
    packaged_model: bool = False  # matched with the packaged model instead of training
    groups: pd.DataFrame | None = None  # person_id and a column per grouping (sex, …)


@dataclass
class Outcome:
    name: str
    tuned: bool
    scores: PairwiseScores
    plain: PairwiseScores
    hard_cases: int | None  # hard-case pairs the data knows
    hard_cases_merged: int | None
    plain_hard_cases_merged: int | None
    blocking_recall: float
    plain_blocking_recall: float
    review_pairs: int
    seconds: float
    plain_seconds: float
    # Same scores, clustered without the household guard (None: not asked for).
    unguarded: PairwiseScores | None
    unguarded_hard_cases_merged: int | None
    ceilings: dict  # recall the data allow: devtools.benchmarks.ceilings
    sweep: list[dict] = field(default_factory=list)
    training: dict = field(default_factory=dict)
    packaged: PairwiseScores | None = None  # the packaged model on the same records
    review_records: int = 0  # records in at least one review pair
    recall_by_group: dict = field(default_factory=dict)  # grouping → group → recall, pairs
    stewards: StewardsDay | None = None  # after stewards decide the queue's first items

    @property
    def review_share(self) -> float:
        return self.review_records / self.scores.records if self.scores.records else 0.0


def _labelled(clusters: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    ids = truth["source_system"] + ":" + truth["source_record_id"]
    people = pd.DataFrame({"unique_id": ids, "person_id": truth["person_id"].to_numpy()})
    return clusters[["unique_id", "cluster_id"]].merge(
        people, on="unique_id", validate="one_to_one"
    )


def recall_by_group(labelled: pd.DataFrame, groups: pd.DataFrame | None) -> dict:
    """Per grouping column of ``groups`` (sex, race or ethnicity), each group's recall:
    the true pairs of its people that were joined (and how many true pairs it has)."""
    if groups is None:
        return {}
    found: dict[str, dict] = {}
    for column in (c for c in groups.columns if c != "person_id"):
        of_person = groups.set_index("person_id")[column]
        group = labelled["person_id"].map(of_person)
        found[column] = {}
        for name in sorted(group.dropna().unique()):
            scores = pairwise_scores(labelled[group == name], "cluster_id", "person_id")
            if scores.true_pairs:
                found[column][str(name)] = {
                    "recall": round(scores.recall, 5),
                    "true_pairs": scores.true_pairs,
                }
    return found


def _in_review(review_pairs: pd.DataFrame) -> int:
    return len(set(review_pairs["unique_id_l"]) | set(review_pairs["unique_id_r"]))


def _hard(labelled: pd.DataFrame, hard_cases: pd.DataFrame | None) -> int | None:
    if hard_cases is None:
        return None
    return len(merged_hard_cases(labelled, hard_cases, "cluster_id"))


def run(
    data: DataSet,
    thresholds: Thresholds,
    sweep: tuple[float, ...] = SWEEP,
    *,
    with_plain: bool = True,
    with_ceilings: bool = True,
    with_unguarded: bool = True,
    with_packaged: bool = True,
    plain_pairs_for_u: float = MAX_PAIRS_FOR_U,
) -> Outcome:
    """Match ``data`` as the default does and score it; beside it (each may be left out
    by a caller that does not use it, as the tests' floors do) plain Splink, ours without
    the household guard, the packaged model, the recall ceilings and a threshold sweep.
    ``plain_pairs_for_u``: plain Splink's random sample for u (the floors' is smaller)."""
    started = time.perf_counter()
    standardised = standardise_records(data.records)
    model_path, training = None, {}
    if not data.packaged_model:
        model_path = Path(tempfile.mkdtemp()) / "model.json"
        # As `golden-record match` does with no model: trained, checked against the
        # packaged model (golden_record.matching.choosing).
        meta = train_checked(standardised, model_path)
        training = {
            k: meta[k] for k in ("expectation_maximisation_passes", "prior_from", "chosen", "check")
        }
    output = match_standardised(standardised, model_path, MatchOptions(thresholds=thresholds))
    seconds = time.perf_counter() - started
    labelled = _labelled(output.result.clusters, data.truth)
    model = load_model(model_path)
    person_of = labelled.set_index("unique_id")["person_id"]
    unguarded = None
    if with_unguarded:
        unguarded = _labelled(
            match_standardised(
                standardised,
                model_path,
                MatchOptions(thresholds=thresholds, household_guard=False),
            ).result.clusters,
            data.truth,
        )
    plain_scores, plain_hard, plain_recall, plain_seconds = None, None, float("nan"), 0.0
    if with_plain:
        started = time.perf_counter()
        plain = plain_splink(standardised, thresholds.auto_match, max_pairs_for_u=plain_pairs_for_u)
        plain_seconds = time.perf_counter() - started
        plain_labelled = _labelled(plain.clusters, data.truth)
        plain_scores = pairwise_scores(plain_labelled, "cluster_id", "person_id")
        plain_hard = _hard(plain_labelled, data.hard_cases)
        _, plain_rules, _, _ = plain_settings(standardised)
        plain_recall = blocking_recall(standardised, person_of, plain_rules)
    curve = []
    for threshold in sweep:
        swept_thresholds = Thresholds(
            auto_match=threshold, review=min(threshold, thresholds.review)
        )
        swept = match_standardised(
            standardised, model_path, MatchOptions(thresholds=swept_thresholds)
        )
        swept_labelled = _labelled(swept.result.clusters, data.truth)
        point = pairwise_scores(swept_labelled, "cluster_id", "person_id")
        curve.append(
            {
                "threshold": threshold,
                **point.as_dict(),
                "hard_cases_merged": _hard(swept_labelled, data.hard_cases),
                "review_pairs": len(swept.review_pairs),
            }
        )
    packaged = None
    if with_packaged and not data.packaged_model:
        # The default (a model trained on the data) beside the model the project ships.
        shipped = match_standardised(standardised, None, MatchOptions(thresholds=thresholds))
        packaged = pairwise_scores(
            _labelled(shipped.result.clusters, data.truth), "cluster_id", "person_id"
        )
    ceilings = {}
    if with_ceilings:
        ceilings = {
            "shared_detail": shared_detail_ceiling(standardised, data.truth),
            "conflict_free": conflict_free_ceiling(
                standardised, data.truth, LevelWeights.of(model)
            ),
        }
    scores = pairwise_scores(labelled, "cluster_id", "person_id")
    return Outcome(
        name=data.name,
        tuned=data.tuned,
        scores=scores,
        plain=plain_scores or scores,
        hard_cases=None if data.hard_cases is None else len(data.hard_cases),
        hard_cases_merged=_hard(labelled, data.hard_cases),
        plain_hard_cases_merged=plain_hard,
        blocking_recall=blocking_recall(standardised, person_of, rules_of(model, standardised)),
        plain_blocking_recall=plain_recall,
        review_pairs=len(output.review_pairs),
        seconds=seconds,
        plain_seconds=plain_seconds,
        unguarded=None
        if unguarded is None
        else pairwise_scores(unguarded, "cluster_id", "person_id"),
        unguarded_hard_cases_merged=None
        if unguarded is None
        else _hard(unguarded, data.hard_cases),
        ceilings=ceilings,
        sweep=curve,
        training=training,
        packaged=packaged,
        review_records=_in_review(output.result.review_pairs),
        recall_by_group=recall_by_group(labelled, data.groups),
        stewards=stewards_day(
            standardised,
            model_path,
            output.result,
            data.truth,
            MatchOptions(thresholds=thresholds),
        ),
    )


def synthetic(
    people: int, seed: int, workdir: Path
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from devtools.generate import generate
    from devtools.generate.canonical_sample import canonical_records

    data = generate(people, seed, workdir / f"council-{seed}")
    truth = pd.read_csv(data.paths["ground_truth"], dtype="string")
    return canonical_records(data.out), truth, pd.read_csv(data.paths["hard_cases"])


def data_sets(args: argparse.Namespace, workdir: Path) -> list[DataSet]:
    from devtools.benchmarks import febrl
    from devtools.benchmarks.external import read_labelled
    from devtools.generate.typo_profile import typo_profile

    sets = []
    for number in (3, 4):
        records, truth = getattr(febrl, f"febrl{number}")()
        sets.append(DataSet(f"FEBRL{number}", records, truth, tuned=True))
    records, truth, hard = synthetic(args.people, args.seed, workdir)
    council = f"Synthetic council ({args.people:,} people, seed {args.seed})"
    sets.append(DataSet(council, records, truth, tuned=True, hard_cases=hard))
    sets.append(
        DataSet(
            f"{council}, packaged model",
            records,
            truth,
            tuned=True,
            hard_cases=hard,
            packaged_model=True,
        )
    )
    for number in (1, 2):
        records, truth = febrl.febrl_numbered(number)
        sets.append(DataSet(f"FEBRL{number}", records, truth, tuned=False))
    records, truth, hard = synthetic(args.people, args.held_out_seed, workdir)
    sets.append(
        DataSet(
            f"Synthetic council ({args.people:,} people, seed {args.held_out_seed})",
            records,
            truth,
            tuned=False,
            hard_cases=hard,
        )
    )
    records, truth, hard = typo_profile(args.typo_people, args.typo_seed)
    sets.append(
        DataSet(
            f"Mistyped profile ({args.typo_people:,} people, seed {args.typo_seed})",
            records,
            truth,
            tuned=False,
            hard_cases=hard,
        )
    )
    from devtools.benchmarks.rldata import rldata10000

    records, truth = rldata10000()
    sets.append(
        DataSet(
            "RLdata10000 (R RecordLinkage, one list of names and birth dates)",
            records,
            truth,
            tuned=False,
        )
    )
    from devtools.benchmarks.pseudopeople_town import read_town

    for scale, noise in (("1", "its own noise"), ("5", "five times its noise")):
        folder = args.pseudopeople / f"noise-{scale}"
        if not (folder / "manifest.json").is_file():
            print(f"no pseudopeople export in {folder} (make pseudopeople-data): row left out")
            continue
        town = read_town(folder)
        sets.append(
            DataSet(
                f"Simulated town (pseudopeople {town.manifest['pseudopeople']}, six agencies, "
                f"{noise})",
                town.records,
                town.truth,
                tuned=False,
                groups=town.groups,
            )
        )
    for named in args.external:
        name, _, path = named.partition("=")
        records, truth = read_labelled(Path(path), name)
        sets.append(DataSet(name, records, truth, tuned=False))
    return sets


def write_curve(outcomes: list[Outcome], path: Path) -> Path:
    """Precision and recall against the auto-match threshold, one panel per data set."""
    import altair as alt
    import vl_convert

    rows = [
        {"data set": o.name, "threshold": p["threshold"], "measure": measure, "value": p[measure]}
        for o in outcomes
        for p in o.sweep
        for measure in ("precision", "recall")
    ]
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "threshold:Q",
                title="auto-match threshold (match probability)",
                scale=alt.Scale(domain=[0.5, 1]),
            ),
            y=alt.Y("value:Q", title="pairwise score", scale=alt.Scale(zero=False)),
            color="measure:N",
        )
        .properties(width=240, height=180)
        .facet(facet=alt.Facet("data set:N", header=alt.Header(labelLimit=320)), columns=3)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(vl_convert.vegalite_to_svg(chart.to_dict()))
    return path


def _merged(merged: int | None, of: int | None) -> str:
    return "–" if merged is None else f"{merged} of {of:,}"


def print_tables(outcomes: list[Outcome], thresholds: Thresholds) -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(f"thresholds: auto-match {thresholds.auto_match}, review from {thresholds.review}")
    for tuned, title in ((True, "Tuned on during development"), (False, "Held out")):
        rows = [o for o in outcomes if o.tuned is tuned]
        if not rows:
            continue
        print(f"\n{title}: ours beside plain Splink on the same records, same run\n")
        print(
            "| data set | records | people | ours P / R / F1 | plain Splink P / R / F1 | "
            "F1 ours − plain | hard cases merged, ours / plain | blocking recall, ours / plain "
            "| review pairs | seconds, ours / plain |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for o in rows:
            s, p = o.scores, o.plain
            print(
                f"| {o.name} | {s.records:,} | {s.true_entities:,} | "
                f"{s.precision:.4f} / {s.recall:.4f} / {s.f1:.4f} | "
                f"{p.precision:.4f} / {p.recall:.4f} / {p.f1:.4f} | {s.f1 - p.f1:+.4f} | "
                f"{_merged(o.hard_cases_merged, o.hard_cases)} / "
                f"{_merged(o.plain_hard_cases_merged, o.hard_cases)} | "
                f"{o.blocking_recall:.4f} / {o.plain_blocking_recall:.4f} | "
                f"{o.review_pairs:,} | {o.seconds:.1f} / {o.plain_seconds:.1f} |"
            )
    print(
        "\nThe default (a model trained on the data, as `golden-record match` does with no "
        "--model) beside the packaged model on the same records, and the review queue:\n"
    )
    print(
        "| data set | default P / R / F1 | packaged P / R / F1 | F1 default − packaged | "
        "records in a review pair |"
    )
    print("|---|---|---|---|---|")
    for o in outcomes:
        s, k = o.scores, o.packaged
        packaged = f"{k.precision:.4f} / {k.recall:.4f} / {k.f1:.4f}" if k else "(is the packaged)"
        gap = f"{s.f1 - k.f1:+.4f}" if k else "–"
        print(
            f"| {o.name} | {s.precision:.4f} / {s.recall:.4f} / {s.f1:.4f} | {packaged} | "
            f"{gap} | {o.review_records:,} ({o.review_share:.1%}) |"
        )
    print(
        f"\nAfter a steward decides the queue's first {ITEMS_DECIDED} items as the truth has "
        "it, the next match (decisions honoured, precedents learnt from them):\n"
    )
    print(
        "| data set | pairs decided | queue records before → after | settled by precedent: "
        "joined / kept apart (right) | F1 before → after |"
    )
    print("|---|---|---|---|---|")
    for o in outcomes:
        d = o.stewards
        if d is None:
            continue
        settled = d.settled_same + d.settled_different
        print(
            f"| {o.name} | {d.pairs_decided:,} | {d.queue_records_before:,} → "
            f"{d.queue_records_after:,} ({d.queue_records_after / o.scores.records:.1%}) | "
            f"{d.settled_same:,} / {d.settled_different:,} ({d.settled_right:,} of {settled:,}) | "
            f"{o.scores.f1:.4f} → {d.scores_after.f1:.4f} |"
        )
    grouped = [o for o in outcomes if o.recall_by_group]
    if grouped:
        print("\nRecall by group, where a set records each person's group:\n")
        print("| data set | grouping | group | recall | true pairs | overall recall |")
        print("|---|---|---|---|---|---|")
        for o in grouped:
            for grouping, groups in o.recall_by_group.items():
                for name, found in groups.items():
                    print(
                        f"| {o.name} | {grouping} | {name} | {found['recall']:.4f} | "
                        f"{found['true_pairs']:,} | {o.scores.recall:.4f} |"
                    )
    print("\nOurs without the household guard (plain connected components on our scores):\n")
    print("| data set | precision | recall | F1 | hard cases merged |")
    print("|---|---|---|---|---|")
    for o in outcomes:
        u = o.unguarded
        if u is None:
            continue
        print(
            f"| {o.name} | {u.precision:.4f} | {u.recall:.4f} | {u.f1:.4f} | "
            f"{_merged(o.unguarded_hard_cases_merged, o.hard_cases)} |"
        )
    print(
        "\nRecall the data allow (golden_record/devtools/benchmarks/ceilings.py): "
        "true pairs joined through details shared exactly, and the most any clustering "
        "keeps without putting two records the guard calls conflicting in one cluster:\n"
    )
    print("| data set | recall | shared-detail reach | conflict-free ceiling |")
    print("|---|---|---|---|")
    for o in outcomes:
        c = o.ceilings
        if c:
            print(
                f"| {o.name} | {o.scores.recall:.4f} | {c['shared_detail']:.4f} | "
                f"{c['conflict_free']:.4f} |"
            )
    for o in outcomes:
        if not o.sweep:
            continue
        print(f"\n{o.name}: auto-match threshold sweep")
        print("| threshold | precision | recall | F1 | hard cases merged | review pairs |")
        print("|---|---|---|---|---|---|")
        for point in o.sweep:
            merged = "–" if point["hard_cases_merged"] is None else point["hard_cases_merged"]
            print(
                f"| {point['threshold']} | {point['precision']:.4f} | {point['recall']:.4f} | "
                f"{point['f1']:.4f} | {merged} | {point['review_pairs']:,} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20000, help="synthetic council size")
    parser.add_argument("--seed", type=int, default=11, help="the council tuned on")
    parser.add_argument("--held-out-seed", type=int, default=13)
    parser.add_argument("--typo-people", type=int, default=5000)
    parser.add_argument("--typo-seed", type=int, default=21)
    parser.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a labelled CSV or Parquet file to add as a held-out row (repeatable)",
    )
    parser.add_argument(
        "--pseudopeople",
        type=Path,
        default=Path("data/pseudopeople"),
        help="pseudopeople's town as exported by make pseudopeople-data",
    )
    parser.add_argument("--auto-match", type=float, default=Thresholds().auto_match)
    parser.add_argument("--review", type=float, default=Thresholds().review)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--chart", type=Path, default=None, help="precision/recall curve SVG")
    args = parser.parse_args(argv)

    import logging

    # Splink warns of every level a training pass could not estimate; the model's
    # metadata lists them, and here they would bury the results.
    logging.getLogger("splink").setLevel(logging.ERROR)
    thresholds = Thresholds(auto_match=args.auto_match, review=args.review)
    outcomes = []
    with tempfile.TemporaryDirectory() as workdir:
        for data in data_sets(args, Path(workdir)):
            # The sweep is drawn for the rows tuned on; every row gets the rest.
            sweep = SWEEP if data.tuned else ()
            outcomes.append(run(data, thresholds, sweep))
            o = outcomes[-1]
            print(
                f"{o.name}: ours F1 {o.scores.f1:.4f}, plain {o.plain.f1:.4f} "
                f"({o.seconds:.0f} s + {o.plain_seconds:.0f} s)",
                flush=True,
            )
    print_tables(outcomes, thresholds)
    if args.chart:
        write_curve(outcomes, args.chart)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                [
                    {
                        "name": o.name,
                        "tuned": o.tuned,
                        **o.scores.as_dict(),
                        "plain": o.plain.as_dict(),
                        "hard_cases": o.hard_cases,
                        "hard_cases_merged": o.hard_cases_merged,
                        "plain_hard_cases_merged": o.plain_hard_cases_merged,
                        "blocking_recall": round(o.blocking_recall, 5),
                        "plain_blocking_recall": round(o.plain_blocking_recall, 5),
                        "review_pairs": o.review_pairs,
                        "seconds": round(o.seconds, 1),
                        "plain_seconds": round(o.plain_seconds, 1),
                        "unguarded": o.unguarded.as_dict() if o.unguarded else None,
                        "unguarded_hard_cases_merged": o.unguarded_hard_cases_merged,
                        "ceilings": {k: round(v, 5) for k, v in o.ceilings.items()},
                        "training": o.training,
                        "packaged": o.packaged.as_dict() if o.packaged else None,
                        "review_records": o.review_records,
                        "review_share": round(o.review_share, 5),
                        "recall_by_group": o.recall_by_group,
                        "stewards": o.stewards.as_dict() if o.stewards else None,
                        "sweep": o.sweep,
                    }
                    for o in outcomes
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
