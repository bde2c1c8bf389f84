"""The review queue by golden record: items of clusters joined by doubtful links, ranked,
one row per record, written by every match."""

from __future__ import annotations

import pandas as pd
from conftest import RUN_DATE

from golden_record.matching.review_queue import QUEUE_COLUMNS, review_queue
from golden_record.run import Run


def _pairs(*links: tuple[str, str, float, str]) -> pd.DataFrame:
    return pd.DataFrame(
        links, columns=["unique_id_l", "unique_id_r", "match_probability", "reason"]
    )


def test_clusters_joined_by_doubtful_links_are_one_item_ranked_by_what_it_affects():
    clusters = pd.DataFrame(
        {
            "unique_id": ["a:1", "b:1", "a:2", "c:2", "a:3", "a:4", "a:9"],
            "cluster_id": ["k1", "k1", "k2", "k2", "k3", "k4", "k9"],
        }
    )
    pairs = _pairs(
        ("a:1", "a:2", 0.90, "review band"),  # k1 and k2: one item of four records
        ("b:1", "c:2", 0.97, "auto-match refused: at a household"),
        ("a:3", "a:4", 0.85, "review band"),  # k3 and k4: an item of two
    )
    queue = review_queue(pairs, clusters)
    assert list(queue.columns) == list(QUEUE_COLUMNS)
    first = queue[queue["rank"] == 1]
    assert sorted(first["source_system"] + ":" + first["source_record_id"]) == [
        "a:1", "a:2", "b:1", "c:2"
    ]  # fmt: skip
    assert set(first["reason"]) == {"auto-match refused: at a household"}  # the strongest
    assert set(first["records"]) == {4} and set(first["systems"]) == {3}
    second = queue[queue["rank"] == 2]
    assert sorted(second["source_record_id"]) == ["3", "4"]
    assert "9" not in set(queue["source_record_id"])  # not in doubt
    # Stable: the same records make the same item id, whatever the order given.
    again = review_queue(pairs.iloc[::-1], clusters.iloc[::-1])
    assert dict(zip(again["source_record_id"], again["item_id"], strict=True)) == dict(
        zip(queue["source_record_id"], queue["item_id"], strict=True)
    )
    assert review_queue(pairs.iloc[0:0], clusters).empty


def test_every_match_writes_the_queue_and_counts_it(landed_run):
    run = Run.of(RUN_DATE.isoformat(), root=landed_run)
    queue = pd.read_parquet(run.match.review_queue)
    review = pd.read_parquet(run.match.review_pairs)
    in_review = set(review["unique_id_l"]) | set(review["unique_id_r"])
    queued = set(queue["source_system"] + ":" + queue["source_record_id"])
    assert in_review <= queued  # every record of a doubtful link is in an item
    assert queue["rank"].min() == 1 and queue.groupby("item_id")["rank"].nunique().max() == 1
    sizes = queue.groupby("item_id")["records"].first()
    assert (queue.groupby("item_id").size() == sizes).all()
