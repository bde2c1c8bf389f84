"""``make bench-accuracy``: pairwise precision, recall and F1 on FEBRL3, FEBRL4 and the
synthetic council, with hard-case merges and a threshold sweep.

Each data set is matched the way a council would: our standardisation, our model shape
trained unsupervised (EM) on that data set, then prediction and conflict-aware clustering.
The synthetic council is matched with the packaged default model, trained on another seed.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dedupe.benchmarks.ceilings import conflict_free_ceiling, shared_detail_ceiling
from dedupe.evaluation import PairwiseScores, merged_hard_cases, pairwise_scores
from dedupe.match import match_standardised, standardise_records
from dedupe.matching.inference import Thresholds
from dedupe.matching.training import train

SWEEP = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


@dataclass
class Outcome:
    name: str
    scores: PairwiseScores
    hard_cases_merged: int | None
    review_pairs: int
    seconds: float
    sweep: list[dict]
    unguarded: PairwiseScores  # same scores, clustered without the household guard
    unguarded_hard_cases_merged: int | None
    ceilings: dict  # recall the data allow: dedupe.benchmarks.ceilings


def _score(xref: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    return xref.merge(truth, on=["source_system", "source_record_id"], validate="one_to_one")


def run(
    name: str,
    canonical: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    train_on_data: bool,
    thresholds: Thresholds,
    hard_cases: pd.DataFrame | None = None,
    sweep: tuple[float, ...] = SWEEP,
) -> Outcome:
    started = time.perf_counter()
    standardised = standardise_records(canonical)
    model_path = None
    if train_on_data:
        model_path = Path(tempfile.mkdtemp()) / f"{name}.json"
        train(standardised, model_path)
    output = match_standardised(standardised, model_path=model_path, thresholds=thresholds)
    seconds = time.perf_counter() - started
    labelled = _score(output.xref, truth)

    def hard_cases_merged(scored: pd.DataFrame) -> int | None:
        if hard_cases is None:
            return None
        return len(merged_hard_cases(scored, hard_cases, "cluster_id"))

    merged = hard_cases_merged(labelled)
    plain = _score(
        match_standardised(
            standardised, model_path=model_path, thresholds=thresholds, household_guard=False
        ).xref,
        truth,
    )
    curve = []
    for threshold in sweep:
        swept = match_standardised(
            standardised,
            model_path=model_path,
            thresholds=Thresholds(auto_match=threshold, review=min(threshold, thresholds.review)),
        )
        swept_labelled = _score(swept.xref, truth)
        point = pairwise_scores(swept_labelled, "cluster_id", "person_id")
        curve.append(
            {
                "threshold": threshold,
                **point.as_dict(),
                "hard_cases_merged": hard_cases_merged(swept_labelled),
                "review_pairs": len(swept.review_pairs),
            }
        )
    return Outcome(
        name=name,
        scores=pairwise_scores(labelled, "cluster_id", "person_id"),
        hard_cases_merged=merged,
        review_pairs=len(output.review_pairs),
        seconds=seconds,
        sweep=curve,
        unguarded=pairwise_scores(plain, "cluster_id", "person_id"),
        unguarded_hard_cases_merged=hard_cases_merged(plain),
        ceilings={
            "shared_detail": shared_detail_ceiling(standardised, truth),
            "conflict_free": conflict_free_ceiling(standardised, truth),
        },
    )


def synthetic(
    people: int, seed: int, workdir: Path
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from dedupe.generate import generate
    from dedupe.generate.canonical_sample import canonical_records

    data = generate(people, seed, workdir / f"council-{seed}")
    truth = pd.read_csv(data.paths["ground_truth"], dtype="string")
    return canonical_records(data.out), truth, pd.read_csv(data.paths["hard_cases"])


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
        .properties(width=260, height=200)
        .facet(facet="data set:N", columns=3)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(vl_convert.vegalite_to_svg(chart.to_dict()))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20000, help="synthetic council size")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--auto-match", type=float, default=Thresholds().auto_match)
    parser.add_argument("--review", type=float, default=Thresholds().review)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--chart", type=Path, default=None, help="precision/recall curve SVG")
    args = parser.parse_args(argv)

    from dedupe.benchmarks import febrl

    thresholds = Thresholds(auto_match=args.auto_match, review=args.review)
    outcomes = []
    records, labels = febrl.febrl3()
    outcomes.append(
        run("FEBRL3 (dedupe)", records, labels, train_on_data=True, thresholds=thresholds)
    )
    records, labels = febrl.febrl4()
    outcomes.append(
        run("FEBRL4 (link)", records, labels, train_on_data=True, thresholds=thresholds)
    )
    with tempfile.TemporaryDirectory() as workdir:
        records, labels, hard = synthetic(args.people, args.seed, Path(workdir))
        outcomes.append(
            run(
                f"Synthetic council ({args.people:,} people, seed {args.seed})",
                records,
                labels,
                train_on_data=False,
                thresholds=thresholds,
                hard_cases=hard,
            )
        )

    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(f"thresholds: auto-match {thresholds.auto_match}, review from {thresholds.review}\n")
    print(
        "| data set | records | people | precision | recall | F1 | hard cases merged "
        "| review pairs | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        s = o.scores
        merged = "–" if o.hard_cases_merged is None else str(o.hard_cases_merged)
        print(
            f"| {o.name} | {s.records:,} | {s.true_entities:,} | {s.precision:.4f} | "
            f"{s.recall:.4f} | {s.f1:.4f} | {merged} | {o.review_pairs:,} | {o.seconds:.1f} |"
        )
    print(
        "\nThe same scores clustered without the household guard "
        "(plain connected components, as Splink clusters):\n"
    )
    print("| data set | precision | recall | F1 | hard cases merged |")
    print("|---|---|---|---|---|")
    for o in outcomes:
        s = o.unguarded
        merged = "–" if o.unguarded_hard_cases_merged is None else o.unguarded_hard_cases_merged
        print(f"| {o.name} | {s.precision:.4f} | {s.recall:.4f} | {s.f1:.4f} | {merged} |")
    print(
        "\nRecall the data allow (dedupe/benchmarks/ceilings.py): true pairs joined through "
        "details shared exactly, and the most any clustering keeps without putting two "
        "records the household guard calls conflicting in one cluster:\n"
    )
    print("| data set | recall | shared-detail reach | conflict-free ceiling |")
    print("|---|---|---|---|")
    for o in outcomes:
        c = o.ceilings
        print(
            f"| {o.name} | {o.scores.recall:.4f} | {c['shared_detail']:.4f} | "
            f"{c['conflict_free']:.4f} |"
        )
    for o in outcomes:
        print(f"\n{o.name}: auto-match threshold sweep")
        print("| threshold | precision | recall | F1 | hard cases merged | review pairs |")
        print("|---|---|---|---|---|---|")
        for point in o.sweep:
            merged = "–" if point["hard_cases_merged"] is None else point["hard_cases_merged"]
            print(
                f"| {point['threshold']} | {point['precision']:.4f} | {point['recall']:.4f} | "
                f"{point['f1']:.4f} | {merged} | {point['review_pairs']:,} |"
            )
    if args.chart:
        write_curve(outcomes, args.chart)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                [
                    {
                        "name": o.name,
                        **o.scores.as_dict(),
                        "hard_cases_merged": o.hard_cases_merged,
                        "review_pairs": o.review_pairs,
                        "seconds": round(o.seconds, 1),
                        "unguarded": o.unguarded.as_dict(),
                        "unguarded_hard_cases_merged": o.unguarded_hard_cases_merged,
                        "ceilings": {k: round(v, 5) for k, v in o.ceilings.items()},
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
