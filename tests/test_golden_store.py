"""The golden store over successive runs: each persistent-ID case, history, change feed."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from golden_record.extract.canonical import CANONICAL_COLUMNS
from golden_record.golden import GoldenStore, StoreError, assign_persistent_ids

# What the store receives: canonical records (keyed by unique_id) as made presentable.
COLUMNS = [
    "unique_id",
    *(c for c in CANONICAL_COLUMNS if c != "source_record_id"),
    "postcode_valid",
]


def person(uid, first="Ann", surname="Lee", email=None, postcode="AB1 2CD", updated="2026-01-01"):
    system = uid.split(":")[0]
    return {
        "unique_id": uid,
        "source_system": system,
        "title": None,
        "first_name": first,
        "middle_names": None,
        "surname": surname,
        "date_of_birth": "1980-01-01",
        "email": email,
        "phone": None,
        "address_line_1": "1 High Street",
        "address_line_2": None,
        "address_line_3": None,
        "town": "Leeds",
        "postcode": postcode,
        "postcode_valid": postcode is not None and postcode != "ZZ",
        "uprn": None,
        "ni_number": None,
        "source_updated_at": updated,
    }


def night(store, run_key, groups, people=None):
    """Apply a run whose clusters are ``groups`` (lists of record ids)."""
    people = people or {}
    clusters = pd.DataFrame(
        [
            {"unique_id": uid, "cluster_id": min(group), "cluster_match_probability": 0.999}
            for group in groups
            for uid in group
        ]
    )
    records = pd.DataFrame(
        [people.get(uid) or person(uid) for group in groups for uid in group], columns=COLUMNS
    )
    return store.apply_run(run_key, run_key, clusters, records)


def ids(store) -> dict[str, str]:
    xref = store.current_xref()
    return dict(zip(xref["unique_id"], xref["golden_id"], strict=True))


def events(store, run_key) -> list[tuple]:
    frame = store.events_of_run(run_key)
    return sorted(
        zip(frame["event"], frame["golden_id"], frame["other_golden_id"].fillna(""), strict=True)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """Every store test runs on the embedded default and on a real PostgreSQL server."""
    if request.param == "sqlite":
        yield GoldenStore(f"sqlite:///{tmp_path / 'store.db'}")
        return
    server = request.getfixturevalue("postgres")
    name = "store_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    golden_store = GoldenStore(server.create_database(name))
    yield golden_store
    golden_store.engine.dispose()


def test_unchanged_records_keep_their_ids_and_cause_no_events(store):
    night(store, "2026-01-01", [["a:1", "b:1"], ["a:2"]])
    before = ids(store)
    night(store, "2026-01-02", [["a:1", "b:1"], ["a:2"]])
    assert ids(store) == before
    assert events(store, "2026-01-02") == []
    assert [kind for kind, *_ in events(store, "2026-01-01")] == ["created", "created"]


def test_clusters_and_records_that_disagree_are_refused_naming_a_record(store):
    clusters = pd.DataFrame(
        {"unique_id": ["a:1", "a:2"], "cluster_id": "a:1", "cluster_match_probability": 0.99}
    ).astype({"unique_id": "string"})
    records = pd.DataFrame([person("a:1"), person("a:3")], columns=COLUMNS).astype(
        {"unique_id": "string"}
    )
    with pytest.raises(StoreError, match="disagree on record a:2"):
        store.apply_run("2026-01-01", "2026-01-01", clusters, records)
    assert store.current_xref().empty


def test_review_detail_carried_from_a_night_the_store_no_longer_holds_is_refused(store):
    clusters = pd.DataFrame(
        {
            "unique_id": ["a:1", "b:1"],
            "cluster_id": ["a:1", "b:1"],
            "cluster_match_probability": 1.0,
        }
    )
    records = pd.DataFrame([person("a:1"), person("b:1")], columns=COLUMNS)
    review = pd.DataFrame(
        {
            "unique_id_l": ["a:1"],
            "unique_id_r": ["b:1"],
            "match_probability": [0.9],
            "match_weight": [3.2],
            "reason": ["review band"],
        }
    )
    carried = pd.DataFrame({"record_a": ["a:1"], "record_b": ["b:1"], "detail_hash": ["f" * 64]})
    with pytest.raises(StoreError, match="carried from an earlier night is not in the store"):
        store.apply_run(
            "2026-01-01", "2026-01-01", clusters, records, review, carried_detail=carried
        )
    assert store.current_xref().empty and store.runs().empty


def test_new_person_gets_a_new_id_and_joining_records_take_the_existing_one(store):
    night(store, "2026-01-01", [["a:1"]])
    first = ids(store)["a:1"]
    night(store, "2026-01-02", [["a:1", "c:9"], ["a:5"]])
    now = ids(store)
    assert now["c:9"] == first
    assert now["a:5"] not in {first}
    assert events(store, "2026-01-02") == sorted(
        [("created", now["a:5"], ""), ("updated", first, "")]
    )
    changed = json.loads(
        store.events_of_run("2026-01-02").query("event == 'updated'")["changed"].iloc[0]
    )
    assert "source_records" in changed


def test_merge_keeps_the_older_id_and_retires_the_other_as_merged(store):
    night(store, "2026-01-01", [["a:1"]])
    night(store, "2026-01-02", [["a:1"], ["b:1"]])
    older, younger = ids(store)["a:1"], ids(store)["b:1"]
    night(store, "2026-01-03", [["a:1", "b:1"]])
    assert ids(store) == {"a:1": older, "b:1": older}
    assert ("merged", younger, older) in events(store, "2026-01-03")
    all_records = store.golden_records(include_inactive=True).set_index("golden_id")
    assert all_records.at[younger, "status"] == "merged"
    assert all_records.at[younger, "merged_into"] == older


def test_split_keeps_the_id_on_the_larger_part_and_mints_new_ones(store):
    night(store, "2026-01-01", [["a:1", "a:2", "b:1"]])
    original = ids(store)["a:1"]
    night(store, "2026-01-02", [["a:1", "a:2"], ["b:1"]])
    now = ids(store)
    assert now["a:1"] == now["a:2"] == original
    assert now["b:1"] != original
    assert ("split", now["b:1"], original) in events(store, "2026-01-02")


def test_a_person_whose_records_all_disappear_is_retired_not_deleted(store):
    night(store, "2026-01-01", [["a:1"], ["b:1"]])
    gone = ids(store)["b:1"]
    night(store, "2026-01-02", [["a:1"]])
    assert ("retired", gone, "") in events(store, "2026-01-02")
    everyone = store.golden_records(include_inactive=True).set_index("golden_id")
    assert everyone.at[gone, "status"] == "retired"
    assert gone not in set(store.golden_records()["golden_id"])


def test_ids_are_never_reused_when_a_record_comes_back(store):
    night(store, "2026-01-01", [["a:1"]])
    retired = ids(store)["a:1"]
    night(store, "2026-01-02", [["b:1"]])
    night(store, "2026-01-03", [["a:1"], ["b:1"]])
    assert ids(store)["a:1"] != retired


def test_attribute_changes_are_reported_by_name(store):
    night(store, "2026-01-01", [["housing:1"]])
    moved = person("housing:1", postcode="LS1 4AP", updated="2026-02-01")
    night(store, "2026-01-02", [["housing:1"]], {"housing:1": moved})
    feed = store.events_of_run("2026-01-02")
    assert feed["event"].tolist() == ["updated"]
    changed = json.loads(feed["changed"].iloc[0])
    assert "postcode" in changed and "address_source_updated_at" in changed
    assert "first_name" not in changed


def test_rerunning_a_run_with_the_same_input_changes_nothing(store):
    night(store, "2026-01-01", [["a:1", "b:1"]])
    feed = store.events()
    summary = night(store, "2026-01-01", [["a:1", "b:1"]])
    assert summary.replayed
    pd.testing.assert_frame_equal(store.events(), feed)


def test_rerunning_the_latest_run_with_new_input_replaces_it_exactly(store):
    night(store, "2026-01-01", [["a:1"], ["b:1"]])
    before = ids(store)
    night(store, "2026-01-02", [["a:1", "b:1"]])
    night(store, "2026-01-02", [["a:1"], ["b:1"]])  # the night redone with corrected data
    assert ids(store) == before
    assert events(store, "2026-01-02") == []
    assert store.runs()["run_key"].tolist() == ["2026-01-01", "2026-01-02"]


def test_an_older_run_cannot_be_applied_again_with_new_input(store):
    night(store, "2026-01-01", [["a:1"]])
    night(store, "2026-01-02", [["a:1"]])
    before = store.events()
    with pytest.raises(StoreError, match="only the latest run"):
        night(store, "2026-01-01", [["a:1"], ["b:1"]])
    pd.testing.assert_frame_equal(store.events(), before)


def test_the_change_feed_pages_in_order(store):
    night(store, "2026-01-01", [[f"a:{i}"] for i in range(7)])
    first = store.events(after=0, limit=3)
    rest = store.events(after=int(first["sequence"].iloc[-1]), limit=100)
    assert len(first) == 3 and len(rest) == 4
    assert list(first["sequence"]) + list(rest["sequence"]) == sorted(
        list(first["sequence"]) + list(rest["sequence"])
    )


def test_split_tie_goes_to_the_part_with_the_longest_history():
    clusters = pd.DataFrame({"unique_id": ["a", "b"], "cluster_id": ["a", "b"]})
    previous = pd.DataFrame({"unique_id": ["a", "b"], "golden_id": ["G1", "G1"]})
    first_seen = pd.Series({"a": "2026-01-05", "b": "2026-01-01"})
    outcome = assign_persistent_ids(
        clusters, previous, pd.Series({"G1": "1"}), "run", first_seen=first_seen
    )
    assigned = dict(
        zip(outcome.membership["unique_id"], outcome.membership["golden_id"], strict=True)
    )
    assert assigned["b"] == "G1" and assigned["a"] != "G1"
    assert outcome.split == [("G1", assigned["a"])]


def _staged(store, run_key, groups):
    clusters = pd.DataFrame(
        [
            {"unique_id": uid, "cluster_id": min(group), "cluster_match_probability": 0.999}
            for group in groups
            for uid in group
        ]
    )
    records = pd.DataFrame([person(uid) for group in groups for uid in group], columns=COLUMNS)
    review = pd.DataFrame(
        {
            "unique_id_l": [groups[0][0]],
            "unique_id_r": [groups[-1][0]],
            "match_probability": [0.9],
            "match_weight": [3.2],
            "reason": ["between thresholds"],
        }
    )
    detail = review[["unique_id_l", "unique_id_r"]].assign(surname_l="Lee", surname_r="Lee")
    return store.apply_run(
        run_key, run_key, clusters, records, review, pair_detail=detail, staged=True
    )


def test_a_staged_night_taken_back_leaves_every_table_as_before(tmp_path):
    from tests.crm_fixtures import dump

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = GoldenStore(url)
    night(store, "2026-01-01", [["a:1"], ["a:2"]])
    before = dump(url)
    summary = _staged(store, "2026-01-02", [["a:1", "a:2"], ["b:3"]])
    assert summary.status == "pending" and store.run_status("2026-01-02") == "pending"
    assert store.take_back_pending("2026-01-02") == ["2026-01-02"]
    assert dump(url) == before


def test_the_next_night_takes_back_a_pending_one_and_accepting_makes_it_the_state(tmp_path):
    store = GoldenStore(f"sqlite:///{tmp_path / 'store.db'}")
    night(store, "2026-01-01", [["a:1"], ["a:2"]])
    _staged(store, "2026-01-02", [["a:1", "a:2"]])  # never gated: a crash
    _staged(store, "2026-01-03", [["a:1"], ["a:2"], ["b:3"]])
    assert store.runs()["run_key"].tolist() == ["2026-01-01", "2026-01-03"]
    assert store.events_of_run("2026-01-03")["event"].tolist() == ["created"]  # no split
    store.accept_run("2026-01-03")
    assert store.runs(accepted_only=True)["run_key"].tolist() == ["2026-01-01", "2026-01-03"]


def test_a_store_of_the_previous_versions_is_upgraded_in_place(tmp_path):
    """Stores written before staging had no run status and kept the scored detail of
    nights later taken back, and before v3 no content hash; opening one adds the columns
    and drops that detail."""
    import sqlite3

    path = tmp_path / "store.db"
    store = GoldenStore(f"sqlite:///{path}")
    _staged(store, "2026-01-01", [["a:1"], ["a:2"]])
    store.engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE store_run DROP COLUMN status")
        connection.execute("ALTER TABLE golden_version DROP COLUMN content_hash")
        connection.execute("INSERT INTO review_detail VALUES ('orphan', '{}')")

    upgraded = GoldenStore(f"sqlite:///{path}")
    assert upgraded.run_status("2026-01-01") == "accepted"
    assert upgraded.read("SELECT content_hash FROM golden_version")["content_hash"].isna().all()
    with sqlite3.connect(path) as connection:
        hashes = [h for (h,) in connection.execute("SELECT detail_hash FROM review_detail")]
    assert "orphan" not in hashes and len(hashes) == 1


def test_a_store_with_the_golden_gates_acceptances_moves_them_to_gate_acceptance(store):
    """Before the sources gate could be accepted, acceptances were the golden gate's, in
    night_acceptance; opening such a store moves them (SQLite and PostgreSQL)."""
    from sqlalchemy import inspect, text

    from golden_record.golden.acceptance import acceptance_of

    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE gate_acceptance"))
        connection.execute(
            text(
                "CREATE TABLE night_acceptance (run_key VARCHAR(64) PRIMARY KEY, "
                "input_fingerprint VARCHAR(64) NOT NULL, accepted_by VARCHAR(200) NOT NULL, "
                "accepted_at VARCHAR(32) NOT NULL, reason TEXT NOT NULL)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO night_acceptance VALUES "
                "('2026-11-05', 'f1', 'A Steward', '2026-11-05T09:00:00Z', 'checked')"
            )
        )
    store.engine.dispose()
    upgraded = GoldenStore(store.url)
    assert "night_acceptance" not in inspect(upgraded.engine).get_table_names()
    found = acceptance_of(upgraded, "2026-11-05", "f1", gate="golden")
    assert found is not None and (found["accepted_by"], found["reason"]) == ("A Steward", "checked")
    assert acceptance_of(upgraded, "2026-11-05", "f1", gate="sources") is None
    upgraded.engine.dispose()


def test_content_hashes_see_every_value_and_missing_but_not_column_order():
    from golden_record.golden.content import content_hashes

    frame = pd.DataFrame({"a": ["x", None, "None"], "b": [1, 2, 2]}, index=["g1", "g2", "g3"])
    hashes = content_hashes(frame.astype(object).where(frame.notna(), None))
    assert hashes.index.tolist() == ["g1", "g2", "g3"]
    assert hashes.str.fullmatch("[0-9a-f]{16}").all()
    assert hashes["g2"] != hashes["g3"]  # missing is not the text "None"
    assert content_hashes(frame[["b", "a"]]).equals(content_hashes(frame))
    changed = frame.copy()
    changed.loc["g1", "a"] = "y"
    assert (content_hashes(changed) != content_hashes(frame)).tolist() == [True, False, False]
    assert (content_hashes(frame.rename(columns={"b": "c"})) != content_hashes(frame)).all()


def test_row_hashes_see_every_value_missing_and_empty_but_not_column_order():
    from golden_record.golden.content import row_hashes

    frame = pd.DataFrame(
        {
            "a": pd.array(["x", None, "", "x", "x"], dtype="string"),
            "b": [None, "", None, "y", "z"],  # Python objects
            "p": [0.5, 0.5, 0.5, 0.5, 1.0],
            "v": [True, True, True, True, False],
        }
    )
    hashes = row_hashes(frame)
    assert hashes.dtype == np.uint64 and len(set(hashes.tolist())) == 5
    assert (row_hashes(frame[["v", "p", "b", "a"]]) == hashes).all()
    # The same values a night later, whatever pandas held them in.
    assert (row_hashes(frame.astype({"a": object, "b": "string"})) == hashes).all()
    # A value moved from one column to the other is another row.
    moved = pd.DataFrame({"a": ["x", None], "b": [None, "x"]})
    assert row_hashes(moved)[0] != row_hashes(moved)[1]


def test_a_store_from_before_content_hashes_is_compared_in_full_once(store):
    """Rows written before v3 hold no hash (and stores before v4 no record hashes): the
    next night rebuilds and compares their JSON, changes nothing, and fills the hashes
    in, so the night after skips them."""
    from sqlalchemy import delete, update

    from golden_record.golden.store import schema

    people = {"a:1": person("a:1"), "b:1": person("b:1", first="Bob")}
    night(store, "2026-01-01", [["a:1"], ["b:1"]], people)
    with store.engine.begin() as connection:
        connection.execute(update(schema.golden_version).values(content_hash=None))
        connection.execute(delete(schema.record_version))
    versions_before = len(store.read("SELECT * FROM golden_version"))
    assert night(store, "2026-01-02", [["a:1"], ["b:1"]], people).records_rebuilt == 2
    assert events(store, "2026-01-02") == []
    versions = store.read("SELECT * FROM golden_version")
    assert len(versions) == versions_before
    assert versions["content_hash"].notna().all()
    assert versions["content_hash"].str.fullmatch("[0-9a-f]{16}").all()
    assert night(store, "2026-01-03", [["a:1"], ["b:1"]], people).records_rebuilt == 0
    people["b:1"] = person("b:1", first="Robert")
    night(store, "2026-01-04", [["a:1"], ["b:1"]], people)
    assert [e[0] for e in events(store, "2026-01-04")] == ["updated"]


def test_record_hashes_made_otherwise_rebuild_once_and_change_nothing(store):
    """An upgrade that hashes records otherwise (row_hashes by DuckDB, say) makes every
    stored record hash differ: the next night rebuilds every golden record, changes none,
    and the night after rebuilds nothing again."""
    from sqlalchemy import update

    from golden_record.golden.store import schema

    people = {"a:1": person("a:1"), "b:1": person("b:1", first="Bob")}
    night(store, "2026-01-01", [["a:1"], ["b:1"]], people)
    golden_before = store.golden_records()
    with store.engine.begin() as connection:
        connection.execute(update(schema.record_version).values(content_hash="0" * 16))
    assert night(store, "2026-01-02", [["a:1"], ["b:1"]], people).records_rebuilt == 2
    assert events(store, "2026-01-02") == []
    assert store.golden_records().equals(golden_before)
    assert night(store, "2026-01-03", [["a:1"], ["b:1"]], people).records_rebuilt == 0


def test_a_night_with_no_change_serialises_no_golden_record(store, monkeypatch):
    # Where a night serialises golden records and its summary.
    from golden_record.golden.store import applying as store_module

    groups = [[f"a:{i}"] for i in range(50)]
    night(store, "2026-01-01", groups)
    written = []
    real = store_module.as_json
    monkeypatch.setattr(store_module, "as_json", lambda value: written.append(1) or real(value))
    night(store, "2026-01-02", groups)
    assert events(store, "2026-01-02") == []
    assert len(written) <= 2  # the run's summary, not one per golden record


def test_golden_attributes_are_read_back_exactly_as_written():
    """Arrow's fast JSON parse must give what json.loads gives: text stays text (a date
    is not turned into a timestamp), nulls, quotes, newlines, and rows of other shapes."""
    from golden_record.golden.store import parse_attributes

    rows = [
        {"born": "1980-01-01", "seen": "2026-01-01T10:00:00", "name": 'é "Q"\nx', "n": None},
        {"born": None, "seen": "007", "name": '["l1", "l2"]', "n": None},
    ]
    texts = pd.Series([json.dumps(r, sort_keys=True) for r in rows], index=[5, 9])
    parsed = parse_attributes(texts)
    assert parsed.index.tolist() == [5, 9] and parsed.to_dict("records") == rows
    odd = pd.Series([json.dumps({"a": "1"})] * 1500 + [json.dumps({"a": 2, "z": "1990-02-03"})])
    assert parse_attributes(odd).iloc[-1].to_dict() == {"a": 2, "z": "1990-02-03"}


@pytest.mark.parametrize("include_inactive", [False, True])
def test_golden_records_read_a_slice_at_a_time_are_those_read_whole(
    store, monkeypatch, include_inactive
):
    """The store reads golden records back in slices (a first night's memory); slices
    whose records hold other attributes, or no merged record, give the same frame, column
    order and types as one read."""
    from golden_record.golden.store import reading

    night(store, "2026-01-01", [["a:1"], ["b:1"], ["c:1"]])
    people = {"c:1": person("c:1", first="Cy", email="cy@example.org", postcode=None)}
    night(store, "2026-01-02", [["a:1", "b:1"], ["c:1"]], people)
    # A version written before an attribute existed has no key for it at all.
    from sqlalchemy import select, update

    from golden_record.golden.store import schema

    v = schema.golden_version
    with store.engine.begin() as connection:
        version, text = connection.execute(
            select(v.c.version_id, v.c.attributes).where(
                v.c.golden_id == ids(store)["c:1"], v.c.valid_to_run.is_(None)
            )
        ).one()
        older = {k: value for k, value in json.loads(text).items() if k != "town"}
        connection.execute(
            update(v).where(v.c.version_id == version).values(attributes=json.dumps(older))
        )
    whole = store.golden_records(include_inactive=include_inactive)
    assert whole["town"].isna().sum() == 1
    assert whole["email"].notna().sum() == 1
    if include_inactive:
        assert whole["merged_into"].notna().sum() == 1
    monkeypatch.setattr(reading, "READ_SLICE", 1)
    sliced = store.golden_records(include_inactive=include_inactive)
    pd.testing.assert_frame_equal(sliced, whole)
