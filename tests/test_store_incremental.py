"""A night rebuilds only the golden records it touches, and the store ends the same as
rebuilding every one: same golden IDs, attributes, history and change feed, night by night."""

from __future__ import annotations

import hashlib
import random

import pandas as pd
import pytest

from golden_record.golden import GoldenStore
from tests.test_golden_store import COLUMNS, person

FIRST_NAMES = ["Ann", "Bob", "Cat", "Dev", "Eve", "Fay", "Gus", "Hal"]


def _random_nights(seed: int, nights: int = 6):
    """Nights of clusters and records with every kind of change between them: records
    edited, added, deleted, moved to another cluster, clusters merged and split."""
    rng = random.Random(seed)
    people: dict[str, dict] = {}
    clusters: dict[str, list[str]] = {}
    counter = 0

    def new_record(system: str) -> str:
        nonlocal counter
        counter += 1
        uid = f"{system}:{counter}"
        people[uid] = person(
            uid,
            first=rng.choice(FIRST_NAMES),
            email=rng.choice([None, f"p{counter}@example.org"]),
            updated=f"2026-01-{rng.randint(1, 28):02d}",
        )
        return uid

    for number in range(60):
        clusters[f"c{number}"] = [
            new_record(rng.choice("abcd")) for _ in range(rng.choice([1, 1, 2, 3]))
        ]
    for day in range(1, nights + 1):
        if day > 1:
            names = sorted(clusters)
            for uid in rng.sample(sorted(people), 4):  # edited at source
                people[uid] = {**people[uid], "email": f"new{day}.{uid}@example.org"}
            for _ in range(3):  # a new person
                clusters[f"n{day}.{_}"] = [new_record(rng.choice("abcd"))]
            joined = rng.choice(names)  # a new record of a known person
            clusters[joined] = [*clusters[joined], new_record("b")]
            deleted = rng.choice(names)  # deleted at source
            clusters[deleted] = clusters[deleted][1:]
            a, b = rng.sample(names, 2)  # a merge
            clusters[a], clusters[b] = clusters[a] + clusters[b], []
            several = [n for n in names if len(clusters[n]) > 1]
            if several:  # a split
                split = rng.choice(several)
                clusters[f"s{day}"] = clusters[split][:1]
                clusters[split] = clusters[split][1:]
            several = [n for n in names if len(clusters[n]) > 1]
            if several:  # a record moving to another person
                source, target = rng.choice(several), rng.choice(names)
                moved = clusters[source].pop()
                clusters[target] = [*clusters[target], moved]
            clusters = {k: v for k, v in clusters.items() if v}
        groups = [sorted(v) for v in clusters.values()]
        yield f"2026-02-{day:02d}", groups, {u: dict(people[u]) for g in groups for u in g}


def _frames(groups, people):
    clusters = pd.DataFrame(
        [
            {"unique_id": uid, "cluster_id": min(group), "cluster_match_probability": 0.99}
            for group in groups
            for uid in group
        ]
    )
    records = pd.DataFrame([people[uid] for group in groups for uid in group], columns=COLUMNS)
    return clusters, records


def _state(store: GoldenStore, run_key: str):
    golden = store.golden_records(include_inactive=True)
    xref = store.current_xref()[["unique_id", "golden_id"]].sort_values("unique_id")
    events = store.events_of_run(run_key).drop(columns=["sequence"])
    events = events.sort_values(["event", "golden_id"]).reset_index(drop=True)
    return golden.reset_index(drop=True), xref.reset_index(drop=True), events


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request, tmp_path):
    if request.param == "sqlite":
        yield [GoldenStore(f"sqlite:///{tmp_path / f'{n}.db'}") for n in ("touched", "all")]
        return
    server = request.getfixturevalue("postgres")
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    stores = [GoldenStore(server.create_database(f"{n}_{digest}")) for n in ("touched", "all")]
    yield stores
    for store in stores:
        store.engine.dispose()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuilding_only_touched_clusters_equals_rebuilding_all(two_stores, seed):
    touched, everything = two_stores
    for run_key, groups, people in _random_nights(seed):
        clusters, records = _frames(groups, people)
        ours = touched.apply_run(run_key, run_key, clusters, records)
        full = everything.apply_run(run_key, run_key, clusters, records, rebuild_all="the test")
        assert full.records_rebuilt == len(records) and full.why_all == "the test"
        if run_key > "2026-02-01":
            assert 0 < ours.records_rebuilt < len(records) / 2, run_key
        assert ours.events == full.events, run_key
        for mine, theirs in zip(_state(touched, run_key), _state(everything, run_key), strict=True):
            pd.testing.assert_frame_equal(mine, theirs, obj=run_key)


def test_a_night_with_no_change_rebuilds_nothing_and_an_edit_rebuilds_its_cluster(tmp_path):
    store = GoldenStore(f"sqlite:///{tmp_path / 'store.db'}")
    groups = [[f"a:{i}", f"b:{i}"] for i in range(20)]
    people = {uid: person(uid) for group in groups for uid in group}
    store.apply_run("2026-03-01", "2026-03-01", *_frames(groups, people))
    quiet = store.apply_run("2026-03-02", "2026-03-02", *_frames(groups, people))
    assert quiet.records_rebuilt == 0 and quiet.events == dict.fromkeys(quiet.events, 0)
    assert quiet.golden_records == 20 and quiet.source_records == 40
    people["b:7"] = person("b:7", email="ann.lee@example.org", updated="2026-03-03")
    edited = store.apply_run("2026-03-03", "2026-03-03", *_frames(groups, people))
    assert edited.records_rebuilt == 2 and edited.events["updated"] == 1
    golden = store.golden_records().set_index("source_record_count", append=True)
    assert (golden["email"] == "ann.lee@example.org").sum() == 1


def test_a_night_taken_back_restores_what_records_held(tmp_path):
    """A refused night's record hashes go with it: the next night sees the edit again."""
    store = GoldenStore(f"sqlite:///{tmp_path / 'store.db'}")
    groups = [["a:1"], ["a:2"]]
    people = {uid: person(uid) for group in groups for uid in group}
    store.apply_run("2026-03-01", "2026-03-01", *_frames(groups, people))
    people["a:2"] = person("a:2", email="new@example.org")
    clusters, records = _frames(groups, people)
    store.apply_run("2026-03-02", "2026-03-02", clusters, records, staged=True)
    assert store.take_back_pending() == ["2026-03-02"]
    again = store.apply_run("2026-03-03", "2026-03-03", clusters, records)
    assert again.records_rebuilt == 1 and again.events["updated"] == 1


def test_changed_survivorship_rules_rebuild_every_golden_record(tmp_path, monkeypatch):
    from golden_record.golden.store import applying as store_module

    store = GoldenStore(f"sqlite:///{tmp_path / 'store.db'}")
    groups = [["a:1"], ["a:2", "b:2"]]
    people = {uid: person(uid) for group in groups for uid in group}
    store.apply_run("2026-03-01", "2026-03-01", *_frames(groups, people))
    monkeypatch.setattr(store_module, "survivorship_digest", lambda _: "other rules")
    night = store.apply_run("2026-03-02", "2026-03-02", *_frames(groups, people))
    assert night.records_rebuilt == 3
    assert night.why_all == "the survivorship rules or the code applying them changed"
    assert night.events["updated"] == 0  # the same rules in fact: nothing to publish
