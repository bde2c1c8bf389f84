"""Stewards' decisions as precedents: kinds of pair always decided one way are decided
that way; the queue shrinks as stewards work, and the golden records get no worse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from devtools.cli import app as dev_app
from golden_record.cli import app
from golden_record.golden import GoldenStore
from golden_record.golden.stewardship import decide, precedents
from golden_record.matching.evaluation import pairwise_scores
from golden_record.matching.model import DEFAULT_MODEL_PATH
from golden_record.matching.precedents import (
    AUDIT_EVERY,
    MIN_ALIKE,
    Precedents,
    agreement_with_stewards,
    audited,
    join_settled_same,
    kinds,
)

runner = CliRunner()
HOUSEHOLD = "auto-match refused: at a household"


def _pair(a: str, b: str, forename: int, reason: str = HOUSEHOLD, p: float = 0.97) -> dict:
    return {
        "unique_id_l": a,
        "unique_id_r": b,
        "match_probability": p,
        "match_weight": 5.0,
        "reason": reason,
        "gamma_first_name": forename,
        "gamma_surname": 5,
        "gamma_date_of_birth": -1,
    }


def _items(kind: str, decision: str, count: int, first: int = 0) -> list[tuple[str, str, str]]:
    return [(kind, decision, f"item-{first + n}") for n in range(count)]


def test_a_kind_always_decided_one_way_is_settled_and_one_dissent_sends_it_back():
    different_forename = kinds(pd.DataFrame([_pair("a:1", "b:1", 0)])).iloc[0]
    one_letter_off = kinds(pd.DataFrame([_pair("a:1", "b:1", 3)])).iloc[0]
    band = kinds(pd.DataFrame([_pair("a:1", "b:1", 0, reason="review band")])).iloc[0]
    assert len({different_forename, one_letter_off, band}) == 3  # levels and reason both count
    learnt = Precedents.of(
        _items(different_forename, "different", MIN_ALIKE)
        + _items(one_letter_off, "same", MIN_ALIKE)
        # Many decisions, but in too few separate items: one household is one situation.
        + [(band, "different", "one-household")] * 20
        + _items(band, "different", MIN_ALIKE - 2)
    )
    assert learnt.different[band] == MIN_ALIKE - 1
    review = pd.DataFrame(
        [
            _pair("a:2", "b:2", 0),
            _pair("a:3", "b:3", 3),
            _pair("a:4", "b:4", 0, reason="review band"),
            {**_pair("a:5", "b:5", 0), "gamma_date_of_birth": None},  # no scored detail
        ]
    )
    assert not audited(review).any()  # (these ids are not among the one in twenty)
    doubtful, settled = learnt.settle(review)
    assert dict(zip(settled["unique_id_l"], settled["decision"], strict=True)) == {
        "a:2": "different",
        "a:3": "same",
    }
    assert set(settled["decided_alike"]) == {MIN_ALIKE}
    assert sorted(doubtful["unique_id_l"]) == ["a:4", "a:5"]

    dissent = Precedents.of(
        _items(different_forename, "different", MIN_ALIKE + 10)
        + _items(different_forename, "same", 1, first=99)
    )
    doubtful, settled = dissent.settle(review)
    assert "a:2" in set(doubtful["unique_id_l"]) and settled.empty
    assert Precedents().settle(review)[0] is review  # nothing learnt, nothing settled


def test_one_in_twenty_settled_pairs_is_still_checked_and_stays_its_kind():
    kind = kinds(pd.DataFrame([_pair("a:1", "b:1", 0)])).iloc[0]
    learnt = Precedents.of(_items(kind, "different", MIN_ALIKE))
    review = pd.DataFrame([_pair(f"a:{n}", f"b:{n}", 0) for n in range(2000)])
    doubtful, settled = learnt.settle(review)
    assert len(doubtful) + len(settled) == len(review)
    assert abs(len(doubtful) - len(review) / AUDIT_EVERY) < 40
    assert doubtful["reason"].str.contains("one in 20 is checked", regex=False).all()
    # An audit decided 'same' speaks against the very kind it was drawn from.
    assert set(kinds(doubtful)) == {kind}
    again, _ = learnt.settle(review.iloc[::-1].reset_index(drop=True))
    assert set(again["unique_id_l"]) == set(doubtful["unique_id_l"])  # the same on a rerun


def test_the_model_is_measured_against_the_stewards_decisions():
    scored = pd.DataFrame(
        {
            "unique_id_l": ["a:1", "a:2", "a:3"],
            "unique_id_r": ["b:1", "b:2", "b:3"],
            "match_probability": [0.99, 0.85, 0.97],
        }
    )
    same = {frozenset(("b:1", "a:1")), frozenset(("a:2", "b:2")), frozenset(("a:9", "b:9"))}
    different = {frozenset(("a:3", "b:3")), frozenset(("a:8", "b:8"))}
    assert agreement_with_stewards(scored, same, different, 0.95) == {
        "decided_same": 3,
        "scored_same": 1,  # a:2 in the review band, a:9 never scored
        "decided_different": 2,
        "scored_different": 1,  # a:8 never scored: below
    }


def test_a_settled_join_never_joins_records_a_steward_kept_apart():
    clusters = pd.DataFrame(
        {"unique_id": ["a:1", "b:1", "c:1", "d:1"], "cluster_id": ["a:1", "a:1", "c:1", "d:1"]}
    )
    settled = pd.DataFrame(
        [
            {**_pair("b:1", "c:1", 3, p=0.99), "decision": "same", "decided_alike": 6},
            {**_pair("c:1", "d:1", 3, p=0.98), "decision": "same", "decided_alike": 6},
        ]
    )
    # A steward said a:1 and d:1 are different people: c:1 joins a:1's cluster first (the
    # stronger pair), so d:1 cannot join c:1 without joining a:1.
    joined, refused = join_settled_same(clusters, settled, {frozenset(("a:1", "d:1"))})
    cluster = joined.set_index("unique_id")["cluster_id"]
    assert cluster["a:1"] == cluster["b:1"] == cluster["c:1"] == "a:1"
    assert cluster["d:1"] == "d:1"
    assert list(refused["unique_id_r"]) == ["d:1"]


def test_after_stewards_decide_the_first_items_the_next_queue_is_smaller_and_no_worse(
    tmp_path,
):
    data, persons, out = tmp_path / "gen", tmp_path / "persons.parquet", tmp_path / "out"
    assert runner.invoke(
        dev_app, ["generate", "--people", "8000", "--seed", "23", "--out", str(data)]
    )
    assert (
        runner.invoke(dev_app, ["canonical", "--data", str(data), "--out", str(persons)]).exit_code
        == 0
    )
    truth = pd.read_csv(data / "truth" / "ground_truth.csv", dtype="string")
    person = pd.Series(
        truth["person_id"].to_numpy(),
        index=truth["source_system"] + ":" + truth["source_record_id"],
    )

    said: list[str] = []

    def night(key: str) -> tuple[pd.DataFrame, pd.DataFrame, float]:
        result = runner.invoke(
            app,
            [
                "match", "--input", str(persons), "--output-dir", str(out), "--run-key", key,
                "--model", str(DEFAULT_MODEL_PATH),
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        said.append(result.output)
        xref = pd.read_parquet(out / "xref.parquet")
        uid = xref["source_system"] + ":" + xref["source_record_id"]
        xref["person_id"] = person.reindex(uid).to_numpy()
        f1 = pairwise_scores(xref, "golden_id", "person_id").f1
        pairs = pd.read_parquet(out / "review_pairs.parquet")
        for side in ("l", "r"):
            pairs[side] = pairs[f"source_system_{side}"] + ":" + pairs[f"source_record_id_{side}"]
        return pd.read_parquet(out / "review_queue.parquet"), pairs, f1

    queue, pairs, f1_before = night("night-1")
    store = GoldenStore(f"sqlite:///{out / 'golden_store.db'}")
    first = queue[queue["rank"] <= 60]
    in_first = set(first["source_system"] + ":" + first["source_record_id"])
    chosen = pairs[pairs["l"].isin(in_first) & pairs["r"].isin(in_first)]
    for a, b in zip(chosen["l"], chosen["r"], strict=True):
        verdict = "same" if person[a] == person[b] else "different"
        decide(store, a, b, verdict, "steward-3", "checked both files")
    assert 0 < len(precedents(store)) <= len(chosen)  # separate items of a kind count once

    queue_after, pairs_after, f1_after = night("night-2")
    every_settled = pd.read_parquet(out / "settled_pairs.parquet")
    by_evidence = every_settled["settled_by"] == "evidence"
    assert by_evidence.any() and f"not queued: {by_evidence.sum()} doubtful pairs" in said[0]
    assert (every_settled.loc[by_evidence, "decision"] == "different").all()
    settled = every_settled[~by_evidence].copy()
    decided_same = sum(
        person[a] == person[b] for a, b in zip(chosen["l"], chosen["r"], strict=True)
    )
    assert (
        f"of {decided_same} 'same' scored at auto-match" in said[-1]
        and f"of {len(chosen) - decided_same} 'different' below it" in said[-1]
    )
    joins = int((settled["decision"] == "same").sum())
    assert f"{joins} joined, {len(settled) - joins} kept apart" in said[-1]
    # Smaller than the decided pairs alone would make it: precedents decided more.
    assert len(pairs_after) + len(settled) == len(pairs) - len(chosen)
    assert len(settled) >= 10
    assert len(queue_after) < len(queue) - first["records"].groupby(first["item_id"]).first().sum()
    assert f1_after >= f1_before

    # Settled as the truth would have it, more often than what stays in the queue is
    # what the guard made it (kept apart): the precedents pick out the surely different.
    def truly_same(frame: pd.DataFrame, left: str, right: str) -> pd.Series:
        return pd.Series(
            [person[a] == person[b] for a, b in zip(frame[left], frame[right], strict=True)],
            index=frame.index,
            dtype=bool,
        )

    for side in ("l", "r"):
        settled[side] = settled[f"source_system_{side}"] + ":" + settled[f"source_record_id_{side}"]
    same = truly_same(settled, "l", "r")
    joined = settled["decision"] == "same"
    assert same[joined].mean() >= 0.95 if joined.any() else True
    still_doubtful_and_same = truly_same(pairs_after, "l", "r").mean()
    assert (~same[~joined]).mean() > 1 - still_doubtful_and_same


def test_the_nights_report_says_what_precedents_decided_and_how_the_model_agrees(
    landed_run, tmp_path
):
    from dataclasses import asdict

    from conftest import RUN_DATE

    from golden_record import pipeline
    from golden_record.golden import default_store_url
    from golden_record.run import Run

    root = tmp_path / "night"
    shutil.copytree(landed_run, root)
    run = Run.of(RUN_DATE.isoformat(), root=root)
    store = GoldenStore(default_store_url(root))
    review = pd.read_parquet(run.match.review_pairs)
    decided = review.head(3)
    for a, b in zip(decided["unique_id_l"], decided["unique_id_r"], strict=True):
        decide(store, a, b, "different", "steward-3", "two people: checked the tenancy")
    matched = pipeline.match(run)
    assert matched.agreement_with_stewards["decided_different"] == 3
    after = pd.read_parquet(run.match.review_pairs)
    decided_keys = set(zip(decided["unique_id_l"], decided["unique_id_r"], strict=True))
    assert not decided_keys & set(zip(after["unique_id_l"], after["unique_id_r"], strict=True))
    written = pipeline.report(run, {"match": asdict(matched)})
    html = Path(written.report_html).read_text()
    assert 'id="agreement"' in html and "of 3 decided different people" in html


def test_a_pair_whose_forename_and_birth_date_both_conflict_is_two_people_without_asking():
    from golden_record.matching.guard import forename_and_birth_date_conflict
    from golden_record.matching.inference import load_model
    from golden_record.matching.levels import LevelWeights

    weights = LevelWeights.of(load_model(None))
    pairs = pd.DataFrame(
        {
            # Splink's gamma: the highest value is the closest level, 0 "all other", −1 null.
            "gamma_first_name": [0, 0, 7, 0, -1],
            "gamma_date_of_birth": [0, 5, 0, -1, 0],
        }
    )
    assert forename_and_birth_date_conflict(pairs, weights).tolist() == [
        True,  # a different forename and a different date of birth
        False,  # the same date of birth: perhaps a nickname the list lacks
        False,  # the same forename: perhaps a mistyped date
        False,  # no date of birth on one side: a steward's question
        False,
    ]
    no_dates = pairs.drop(columns="gamma_date_of_birth")
    assert not forename_and_birth_date_conflict(no_dates, weights).any()
