"""Stewards' decisions applied at once (``golden-record night apply-decisions``), not with
the next night: the latest accepted night matched, built, gated and published again, so a
merge reaches the golden store and the CRM as ``merged`` with the surviving ID, and
undoing it splits them again, through the same write-audit-publish as a night."""

from __future__ import annotations

import pytest
from crm_fixtures import feed
from night_runner import FIRST, SECOND
from typer.testing import CliRunner

from golden_record.cli import app
from golden_record.golden.stewardship import decide, queue, undo
from golden_record.jobs import ApplyRefused, apply_decisions
from golden_record.matching import registry


def _crm_golden_of(council, unique_id: str) -> str:
    sources = council.crm_sources()
    keyed = sources["source_system"] + ":" + sources["source_record_id"]
    return str(sources.loc[keyed == unique_id, "golden_id"].iloc[0])


def test_a_merge_and_its_undoing_reach_the_store_and_the_crm_at_once(council):
    run = council.run(FIRST)
    store = council.store
    pending = queue(store, limit=None)
    a, b = next(
        (a, b)
        for a, b in zip(pending["record_a"], pending["record_b"], strict=True)
        if council.golden_of(a) != council.golden_of(b)
    )
    kept_apart = council.golden_of(a), council.golden_of(b)
    last_sequence = max(row[0] for row in feed(council.crm_url))

    decide(store, a, b, "same", "steward", "one tenancy file, checked")
    merged = apply_decisions(run, council.crm_url, council.store_url, registry.packaged())
    assert merged.outcome == "published", (merged.failed, merged.stopped_because)
    assert merged.results["match"]["steward_decisions"] >= 1
    survivor = council.golden_of(a)
    assert council.golden_of(b) == survivor and survivor in kept_apart
    assert _crm_golden_of(council, a) == _crm_golden_of(council, b) == survivor
    (gone,) = set(kept_apart) - {survivor}
    changes = feed(council.crm_url, after=last_sequence)
    assert ("merged", gone, survivor) in [(e, g, r) for _, e, g, r, _ in changes]
    assert "Stewards' decisions applied tonight" in run.report_html.read_text()

    # Undone, and applied at once: the two are apart again, in the store and the CRM.
    last_sequence = max(row[0] for row in feed(council.crm_url))
    undo(store, a, b, "steward", "the tenancy file was another resident's")
    parted = apply_decisions(run, council.crm_url, council.store_url, registry.packaged())
    assert parted.outcome == "published", (parted.failed, parted.stopped_because)
    assert council.golden_of(a) != council.golden_of(b)
    assert _crm_golden_of(council, a) != _crm_golden_of(council, b)
    events = {e for _, e, *_ in feed(council.crm_url, after=last_sequence)}
    assert events & {"split", "created"}, events


def test_decisions_wait_for_a_later_night_once_one_has_run(council):
    run = council.run(FIRST)
    before = council.store_state()
    council.run(SECOND).dir.mkdir(parents=True)
    with pytest.raises(ApplyRefused, match=f"night {SECOND.isoformat()} has run since"):
        apply_decisions(run, council.crm_url, council.store_url, registry.packaged())
    refused = CliRunner().invoke(
        app,
        [
            "night", "apply-decisions", FIRST.isoformat(), "--store", council.store_url,
            "--crm", council.crm_url, "--data", str(council.data),
        ],
    )  # fmt: skip
    assert refused.exit_code == 2 and "has run since" in refused.output
    assert council.store_state() == before
