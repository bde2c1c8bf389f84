"""Retention over a span of nights longer than the sources' periods: nothing landed
older than its source's period remains, except what a later night or a replay needs; the
next night is still incremental; a rerun replays; an undo still has its good night; a
refused night deletes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from night_runner import FIRST, stamp_before

from golden_record.extract.declaration import PACKAGED, declared_sources

pytestmark = pytest.mark.faults

# Short periods, so a week of nights spans them: the revenues', housing's and parking's
# extracts kept two days, the waste and libraries drops' one, the portal's three (the
# derived files: three).
PERIODS = {"revenues": 2, "housing": 2, "waste": 1, "portal": 3, "parking": 2, "libraries": 1}


def _short_periods(folder: Path) -> Path:
    text = PACKAGED.read_text(encoding="utf-8")
    for days in (90, 30):
        text = text.replace(f"retention_days = {days}\n", "retention_days = PERIOD\n")
    for source, days in PERIODS.items():
        head, _, tail = text.partition(f"[sources.{source}]\n")
        text = head + f"[sources.{source}]\n" + tail.replace("PERIOD", str(days), 1)
    path = folder / "sources.toml"
    path.write_text(text, encoding="utf-8")
    assert {s.name: s.retention_days for s in declared_sources(path).sources} == PERIODS
    return path


def _landed(council, source: str) -> set[str]:
    runs = council.data / "runs"
    return {
        night.name
        for night in runs.iterdir()
        if (night / "raw" / f"{source}.parquet").exists()
        or (night / "canonical" / f"{source}.parquet").exists()
    }


def _change_a_payer(council, day: date) -> None:
    council.revenues(
        f"UPDATE ctax_liable_party SET email = 'moved.{day:%d}@example.org', "
        f"last_modified = '{stamp_before(day)}' WHERE party_id = "
        "(SELECT MIN(party_id) FROM ctax_liable_party)"
    )


def test_nights_past_the_periods_keep_only_what_later_nights_need(council, tmp_path, monkeypatch):
    monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(_short_periods(tmp_path)))
    days = [FIRST + timedelta(days=n) for n in range(1, 6)]  # five more nights
    for day in days:
        _change_a_payer(council, day)
        night = council.night(day)
        assert night.outcome == "published", night.failed or night.stopped_because
    last = days[-1]
    retained = night.results["retain"]
    # Tonight removed what had just passed its period.
    assert retained["files_deleted"] > 0 and retained["bytes_deleted"] > 0, retained

    kept_whole = {days[-2].isoformat(), last.isoformat()}  # the two latest accepted nights
    for source, period in PERIODS.items():
        horizon = (last - timedelta(days=period)).isoformat()
        too_old = {key for key in _landed(council, source) if key < horizon}
        assert too_old <= kept_whole, (source, sorted(too_old))
        # ... and what is within the period is all there.
        within = {d.isoformat() for d in days if d.isoformat() >= horizon}
        assert within <= _landed(council, source), source
    runs = council.data / "runs"
    longest = (last - timedelta(days=max(PERIODS.values()))).isoformat()
    for night_dir in runs.iterdir():
        # Every night's report stays (ids and counts: later nights' trends read them).
        assert (night_dir / "report.json").is_file(), night_dir.name
        if night_dir.name < longest:
            for derived in ("standardised", "match", "golden", "quality"):
                assert not (night_dir / derived).exists(), (night_dir.name, derived)
            assert not (council.data / "crm_exports" / night_dir.name).exists()
    report = Path(night.report_html).read_text(encoding="utf-8")
    assert 'id="retention"' in report and "past their source" in report

    # The next night is still incremental, on the last night's snapshot and watermark.
    following = last + timedelta(days=1)
    _change_a_payer(council, following)
    night = council.night(following)
    assert night.outcome == "published", night.failed or night.stopped_because
    for source in ("revenues", "housing", "portal", "parking"):
        assert night.results["extract"][source]["mode"] == "incremental", source
    assert night.results["extract"]["revenues"]["raw_rows"] == 1
    # A rerun of the date replays its landed extracts.
    again = council.night(following)
    assert again.outcome == "published", again.failed
    assert all(e["replayed"] for e in again.results["extract"].values())
    # An undo of the latest night returns the store and the CRM to the one before it,
    # whose golden records retention kept.
    from golden_record.undo import undo_run

    undone = undo_run(
        council.run(following), "ops.lead", "retention test", council.crm_url, council.store
    )
    assert undone["back_to"] == last.isoformat() and undone["crm"], undone
    assert len(council.store.golden_records()) == len(
        pd.read_parquet(council.run(last).golden.golden_records)
    )


def test_a_refused_night_deletes_nothing(council, tmp_path, monkeypatch):
    from golden_record import pipeline

    monkeypatch.setenv("GOLDEN_RECORD_SOURCES", str(_short_periods(tmp_path)))
    far = FIRST + timedelta(days=30)
    run = council.run(far)
    run.dir.mkdir(parents=True)  # a night that ran and was not accepted
    before = sorted(p for p in council.data.rglob("*"))
    assert pipeline.retain(run).files_deleted == 0
    assert sorted(p for p in council.data.rglob("*")) == before
