"""Time that cannot run ahead: a night dated ahead is refused, a night a later run
supersedes says so and fails, and a run published by mistake is undone, the CRM and the
golden store back to the last good night (SQLite, and PostgreSQL for store and CRM).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from night_runner import SECOND, Council, postgresql_copy, stamp_before
from typer.testing import CliRunner

from golden_record.cli import app
from golden_record.run import Run, RunDateAhead, check_not_ahead
from tests.crm_fixtures import dump

pytestmark = pytest.mark.faults

AHEAD = date(2099, 1, 1)
runner = CliRunner()


def test_a_night_dated_later_than_tomorrow_is_refused_before_anything_is_written(tmp_path):
    from airflow.sdk.exceptions import AirflowFailException

    from golden_record.airflow.stages import _run

    today = date.today()
    check_not_ahead(today + timedelta(days=1))  # a night run just after midnight elsewhere
    with pytest.raises(RunDateAhead, match="later than tomorrow"):
        check_not_ahead(today + timedelta(days=2))
    with pytest.raises(RunDateAhead, match="2099-01-01 is later than tomorrow"):
        Run.from_context("2099-01-01", root=tmp_path)
    # In the DAG: the task fails at once, without retries.
    with pytest.raises(AirflowFailException, match="Nothing was written"):
        _run("2099-01-01")
    # The command line too: a run keyed ahead is refused, nothing made.
    persons = tmp_path / "persons.csv"
    persons.write_text("source_system,source_record_id,source_updated_at\nportal,1,2026-01-01\n")
    result = runner.invoke(
        app,
        [
            "match",
            "--input",
            str(persons),
            "--output-dir",
            str(tmp_path / "out"),
            "--run-key",
            "2099-01-01",
        ],
    )
    assert result.exit_code == 2 and "later than tomorrow" in result.output
    assert not (tmp_path / "out").exists()


def _crm_tables(url: str) -> dict:
    found = dump(url)
    return {t: found[t] for t in ("golden_customer", "golden_customer_source")}


def _mistake_then_a_real_night(council: Council) -> dict:
    """A run dated 2099 published (as one was before the date check), then a real night
    with a real change; returns what the CRM and store held after the first night."""
    before = {"crm": _crm_tables(council.crm_url), "store": council.store_state()}
    council.housing(
        "UPDATE tenancy_person SET family_name = 'Mistaken', "
        f"updated = '{stamp_before(SECOND)}' WHERE person_ref = 'HP00000001'"
    )
    mistaken = council.night(AHEAD)
    assert mistaken.outcome == "published", mistaken.failed
    council.revenues(
        "UPDATE ctax_liable_party SET surname = 'Realchange', "
        f"last_modified = '{stamp_before(SECOND)}' WHERE party_id = "
        "(SELECT MIN(party_id) FROM ctax_liable_party)"
    )
    return before


def _undo(council: Council, *extra: str):
    return runner.invoke(
        app,
        [
            "night",
            "undo",
            AHEAD.isoformat(),
            "--store",
            council.store_url,
            "--crm",
            council.crm_url,
            "--by",
            "ops.lead",
            "--reason",
            "run dated 2099 by mistake",
            "--data",
            str(council.data),
            *extra,
        ],
    )


def test_a_superseded_night_fails_its_outcome_and_its_report_says_what_to_do(council):
    from airflow.sdk.exceptions import AirflowFailException

    from golden_record.airflow.stages import outcome_run

    _mistake_then_a_real_night(council)
    crm_after_mistake = _crm_tables(council.crm_url)
    later = council.night(SECOND)
    assert later.outcome == "superseded", later.failed
    assert later.results["publish"]["superseded_by"] == AHEAD.isoformat()
    assert any("golden-record night undo 2099-01-01" in why for why in later.stopped_because)
    assert _crm_tables(council.crm_url) == crm_after_mistake
    page = council.run(SECOND).report_html.read_text()
    assert "Not written to the CRM: a later run is already published" in page
    assert "golden-record night undo 2099-01-01" in page
    facts = json.loads(council.run(SECOND).report_json.read_text())
    assert facts["outcome"] == "superseded"

    class TaskInstance:  # what Airflow's outcome task reads: the report task's result
        def xcom_pull(self, task_ids: str) -> dict:
            return {
                "outcome": facts["outcome"],
                "stopped": facts["stopped_because"],
                "report_html": "report.html",
            }

    with pytest.raises(AirflowFailException, match="night not written to the CRM"):
        outcome_run(TaskInstance())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_run_published_by_mistake_is_undone_and_the_night_after_it_publishes(
    backend, council, request, tmp_path
):
    if backend == "postgresql":
        council.close()
        council = postgresql_copy(
            request.getfixturevalue("published_on_postgresql"),
            request.getfixturevalue("postgres"),
            tmp_path / "on-postgresql",
            "undo",
        )
    try:
        first = _mistake_then_a_real_night(council)
        assert council.night(SECOND).outcome == "superseded"
        assert council.store.run_status(SECOND.isoformat()) == "accepted"

        # Nothing is done without confirmation.
        refused = _undo(council)
        assert refused.exit_code != 0 and council.store.run_status(AHEAD.isoformat())
        result = _undo(council, "--yes")
        assert result.exit_code == 0, result.output
        assert "back at run 2026-11-02" in result.output
        assert "run them again" in result.output and "-s 2026-11-03" in result.output

        # The store exactly as the first night left it; the CRM's tables too.
        assert council.store_state() == first["store"]
        assert _crm_tables(council.crm_url) == first["crm"]
        publishes = dump(council.crm_url)["crm_publish"]
        withdrawn = {row[1]: row for row in publishes if row[-3] is not None}
        assert set(withdrawn) == {AHEAD.isoformat()}
        assert withdrawn[AHEAD.isoformat()][-2:] == ("ops.lead", "run dated 2099 by mistake")
        feed = dump(council.crm_url)["golden_change_feed"]
        last_publish = max(row[1] for row in feed)
        undo_events = {row[3] for row in feed if row[1] == last_publish}
        assert "updated" in undo_events  # the mistaken surname put back
        exports = council.data / "crm_exports"
        assert not (exports / AHEAD.isoformat()).exists()
        assert (exports / ".withdrawn" / AHEAD.isoformat()).is_dir()
        assert not council.run(AHEAD).accepted_mark.exists()
        record = json.loads((council.run(AHEAD).dir / "undone.json").read_text())
        assert record["taken_back"] == [AHEAD.isoformat(), SECOND.isoformat()]

        # Undoing again changes nothing; the night after it, run again, publishes.
        assert "was undone on" in _undo(council, "--yes").output
        again = council.night(SECOND)
        assert again.outcome == "published", (again.failed, again.stopped_because)
        rows = dump(council.crm_url)["golden_customer"]
        assert any("Realchange" in str(row) for row in rows)
        from sqlalchemy import create_engine

        from golden_record.publish.contract import latest_run

        engine = create_engine(council.crm_url)
        with engine.connect() as connection:
            assert latest_run(connection) == SECOND.isoformat()
        engine.dispose()
    finally:
        council.close()
