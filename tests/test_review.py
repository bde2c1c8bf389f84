"""Clerical review through the CLI: list, show, decide; decisions honoured by later runs."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from devtools.cli import app as dev_app
from golden_record.cli import app
from golden_record.golden import GoldenStore, StoreError
from golden_record.golden.stewardship import decide, decisions, queue

runner = CliRunner()


def _unwrapped(output: str) -> str:
    return "".join(output.replace("│", "").split())


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    data = root / "gen"
    assert (
        runner.invoke(
            dev_app, ["generate", "--people", "900", "--seed", "5", "--out", str(data)]
        ).exit_code
        == 0
    )
    persons = root / "persons.parquet"
    assert (
        runner.invoke(dev_app, ["canonical", "--data", str(data), "--out", str(persons)]).exit_code
        == 0
    )
    out = root / "out"
    result = runner.invoke(
        app, ["match", "--input", str(persons), "--output-dir", str(out), "--run-key", "night-1"]
    )
    assert result.exit_code == 0, result.output
    return root, persons, out, f"sqlite:///{out / 'golden_store.db'}"


def _xref(out):
    xref = pd.read_parquet(out / "xref.parquet")
    return xref.set_index(xref["source_system"] + ":" + xref["source_record_id"])["golden_id"]


def test_review_list_says_how_many_it_shows_of_how_many(matched):
    store = matched[3]
    listed = runner.invoke(app, ["review", "list", "--store", store, "--limit", "1"])
    assert listed.exit_code == 0, listed.output
    assert "pairsawaitingreview:thestrongest1(--limitformore)" in _unwrapped(listed.output)


def test_decisions_are_honoured_by_a_later_run_with_a_retrained_model(matched):
    root, persons, out, store = matched
    listed = runner.invoke(app, ["review", "list", "--store", store])
    assert listed.exit_code == 0 and "pairsawaitingreview" in _unwrapped(listed.output)
    review_pairs = pd.read_parquet(out / "review_pairs.parquet")
    pair = review_pairs.iloc[0]
    a = f"{pair['source_system_l']}:{pair['source_record_id_l']}"
    b = f"{pair['source_system_r']}:{pair['source_record_id_r']}"
    shown = runner.invoke(app, ["review", "show", a, b, "--store", store])
    assert shown.exit_code == 0, shown.output
    assert "matchweight" in _unwrapped(shown.output) and "first_name" in shown.output

    golden = _xref(out)
    together = golden[golden.duplicated(keep=False)].sort_values()
    c, d = together.index[0], together[together == together.iloc[0]].index[1]
    assert golden[a] != golden[b] and golden[c] == golden[d]

    for x, y, verdict in ((a, b, "same"), (c, d, "different")):
        result = runner.invoke(
            app,
            [
                "review",
                "decide",
                x,
                y,
                verdict,
                "--store",
                store,
                "--by",
                "steward-7",
                "--reason",
                "checked the tenancy file",
            ],
        )
        assert result.exit_code == 0, result.output

    model = root / "retrained.json"
    trained = runner.invoke(
        app, ["train", "--input", str(persons), "--output", str(model), "--seed", "3"]
    )
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(
        app,
        [
            "match",
            "--input",
            str(persons),
            "--output-dir",
            str(out),
            "--run-key",
            "night-2",
            "--model",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    after = _xref(out)
    assert after[a] == after[b]
    assert after[c] != after[d]
    pending = queue(GoldenStore(store))
    assert not ((pending["record_a"] == min(a, b)) & (pending["record_b"] == max(a, b))).any()


def test_a_decision_on_an_unknown_record_is_refused_and_nothing_written(matched):
    _, _, out, store = matched
    before = len(decisions(GoldenStore(store)))
    result = runner.invoke(
        app,
        [
            "review",
            "decide",
            "revenues:NOPE",
            "housing:HP00000001",
            "same",
            "--store",
            store,
            "--by",
            "s",
            "--reason",
            "r",
        ],
    )
    assert result.exit_code != 0
    assert "unknownrecordrevenues:NOPE" in _unwrapped(result.output)
    assert len(decisions(GoldenStore(store))) == before


def test_contradicting_decisions_are_refused(tmp_path):
    from tests.test_golden_store import night

    store = GoldenStore(f"sqlite:///{tmp_path / 's.db'}")
    night(store, "2026-01-01", [["a:1"], ["a:2"], ["a:3"]])
    decide(store, "a:1", "a:2", "same", "ann", "same NI number on file")
    with pytest.raises(StoreError, match="decided 'same' by ann"):
        decide(store, "a:2", "a:1", "different", "bob", "looks different")
    decide(store, "a:2", "a:3", "same", "ann", "same tenancy")
    with pytest.raises(StoreError, match="contradicts earlier decisions"):
        decide(store, "a:1", "a:3", "different", "bob", "different dates of birth")
    assert len(decisions(store)) == 2
    with pytest.raises(StoreError, match="needs who made it"):
        decide(store, "a:1", "a:3", "same", " ", "")


def test_an_undone_decision_is_kept_and_the_next_night_makes_the_model_s_call(matched):
    _, persons, out, store = matched
    review_pairs = pd.read_parquet(out / "review_pairs.parquet")
    golden = _xref(out)
    decided = decisions(GoldenStore(store))
    taken = set(zip(decided["record_a"], decided["record_b"], strict=True))
    # A pair the model kept apart that no other test decided.
    for pair in review_pairs.itertuples():
        a = f"{pair.source_system_l}:{pair.source_record_id_l}"
        b = f"{pair.source_system_r}:{pair.source_record_id_r}"
        if golden[a] != golden[b] and (min(a, b), max(a, b)) not in taken:
            break
    who = ["--store", store, "--by", "steward-9"]

    def night(key: str) -> pd.Series:
        result = runner.invoke(
            app, ["match", "--input", str(persons), "--output-dir", str(out), "--run-key", key]
        )
        assert result.exit_code == 0, result.output
        return _xref(out)

    same = ["review", "decide", a, b, "same", *who, "--reason", "same tenancy"]
    assert runner.invoke(app, same).exit_code == 0
    together = night("night-undo-1")
    assert together[a] == together[b]
    # Deciding otherwise is refused with the way out; undoing needs a reason.
    refused = runner.invoke(app, ["review", "decide", a, b, "different", *who, "--reason", "x"])
    assert refused.exit_code != 0 and "reviewundo" in _unwrapped(refused.output)
    undone = runner.invoke(app, ["review", "undo", a, b, *who, "--reason", "wrong tenancy file"])
    assert undone.exit_code == 0, undone.output
    assert "undone: 'same'" in undone.output
    again = runner.invoke(app, ["review", "undo", a, b, *who, "--reason", "twice"])
    assert again.exit_code != 0 and "nothingtoundo" in _unwrapped(again.output)
    held = GoldenStore(store)
    kept = held.undone_decisions()
    assert kept[
        ["record_a", "record_b", "decision", "undone_by", "undo_reason"]
    ].values.tolist() == [[min(a, b), max(a, b), "same", "steward-9", "wrong tenancy file"]]
    assert not (
        (decisions(held)["record_a"] == min(a, b)) & (decisions(held)["record_b"] == max(a, b))
    ).any()
    # The next night makes the model's call again: apart, as before the decision.
    apart = night("night-undo-2")
    assert apart[a] != apart[b]
    different = ["review", "decide", a, b, "different", *who, "--reason", "checked again"]
    assert runner.invoke(app, different).exit_code == 0


def test_a_pair_s_weights_with_the_model_s_starting_point_add_up_to_its_total(matched):
    from golden_record.golden.stewardship import item, side_by_side

    store = GoldenStore(matched[3])
    pending = queue(store, limit=None)
    for row in pending.head(5).itertuples():
        table = side_by_side(item(store, row.record_a, row.record_b))
        weights = table.set_index("field")["match weight"]
        total = weights.pop("total match weight")
        start = weights["starting point (two records at random)"]
        # Two records at random are seldom one person: the model starts well below zero.
        assert start < -5, start
        assert abs(weights.dropna().sum() - total) < 0.05, (weights.to_dict(), total)


def _store_copy(matched, tmp_path) -> GoldenStore:
    """The matched night's store, copied: these tests decide and claim in it."""
    import shutil

    copied = tmp_path / "golden_store.db"
    shutil.copyfile(matched[2] / "golden_store.db", copied)
    return GoldenStore(f"sqlite:///{copied}")


def test_the_queue_by_person_holds_every_record_its_answer_affects(matched, tmp_path):
    from golden_record.golden.review_items import review_items

    store = _store_copy(matched, tmp_path)
    items = review_items(store)
    pending = queue(store, limit=None)
    assert items and len(items) < len(pending)  # pairs sharing people make one item
    # Every undecided pair is in exactly one item.
    in_items = sorted(
        pair
        for item in items
        for pair in zip(item.pairs["record_a"], item.pairs["record_b"], strict=True)
    )
    assert in_items == sorted(zip(pending["record_a"], pending["record_b"], strict=True))
    xref = store.current_xref()
    for item in items:
        # Every source record of the golden records its links would join, and no other.
        members = set(xref.loc[xref["golden_id"].isin(item.golden_ids), "unique_id"])
        assert set(item.records) == members
        # (One golden record, when a decision or a later night has joined the pair's
        # records since the model doubted them: whether to keep them together.)
        linked = set(item.pairs["record_a"]) | set(item.pairs["record_b"])
        assert linked <= members
    # Records in no doubtful link are shown too (the third record, the household).
    assert any(set(i.records) - set(i.pairs["record_a"]) - set(i.pairs["record_b"]) for i in items)
    # Most records affected first, ranked 1, 2, 3…
    assert [i.rank for i in items] == list(range(1, len(items) + 1))
    sizes = [len(i.records) for i in items]
    assert sizes == sorted(sizes, reverse=True)
    # Listed by the command line too.
    listed = runner.invoke(app, ["review", "items", "--store", store.url, "--limit", "3"])
    assert listed.exit_code == 0, listed.output
    assert f"{len(items)}itemsawaitingreview:thefirst3" in _unwrapped(listed.output)
    assert items[0].item_id in listed.output


def test_a_decision_for_many_pairs_is_made_for_all_or_for_none(matched, tmp_path):
    from golden_record.golden.stewardship import decide_many

    store = _store_copy(matched, tmp_path)
    pending = queue(store, limit=None)
    pairs = list(zip(pending["record_a"][:6], pending["record_b"][:6], strict=True))
    decide(store, *pairs[0], "same", "ann", "one account, checked")
    before = decisions(store)
    # One of six decided otherwise already: refused, naming it, and none of the six written.
    with pytest.raises(StoreError, match=f"{pairs[0][0]} and {pairs[0][1]} were decided 'same'"):
        decide_many(store, pairs, "different", "bob", "households on the estate")
    pd.testing.assert_frame_equal(decisions(store), before)
    made = decide_many(store, pairs[1:], "different", "bob", "households on the estate")
    assert len(made) == 5
    after = decisions(store)
    bulk = after[after["decided_by"] == "bob"]
    assert sorted(zip(bulk["record_a"], bulk["record_b"], strict=True)) == sorted(pairs[1:])
    assert set(bulk["reason"]) == {"households on the estate"}
    assert len(queue(store, limit=None)) == len(pending) - 6


def test_a_claimed_item_is_another_steward_s_only_when_released_taken_over_or_lapsed(
    matched, tmp_path
):
    from golden_record.golden.review_items import CLAIM_HOURS, claim, release, review_items

    store = _store_copy(matched, tmp_path)
    first = review_items(store)[0].item_id
    claimed = runner.invoke(app, ["review", "claim", first, "--store", store.url, "--by", "ann"])
    assert claimed.exit_code == 0, claimed.output
    assert review_items(store)[0].claimed_by == "ann"
    with pytest.raises(StoreError, match=f"{first} is claimed by ann"):
        claim(store, first, "bob")
    with pytest.raises(StoreError, match="claimed by ann, not bob"):
        release(store, first, "bob")
    assert claim(store, first, "bob", take_over=True)["taken_from"] == "ann"
    assert review_items(store)[0].claimed_by == "bob"
    released = runner.invoke(app, ["review", "release", first, "--store", store.url, "--by", "bob"])
    assert released.exit_code == 0, released.output
    assert review_items(store)[0].claimed_by is None
    # A claim made longer ago than CLAIM_HOURS has lapsed: nobody holds the item.
    with store.transaction() as connection:
        store.set_claim(connection, first, "ann", "2026-01-01T00:00:00Z")
    assert CLAIM_HOURS < 24 * 300 and review_items(store)[0].claimed_by is None
    assert claim(store, first, "bob")["taken_from"] is None
    with pytest.raises(StoreError, match="no review item RQNOSUCH"):
        claim(store, "RQNOSUCH", "bob")
