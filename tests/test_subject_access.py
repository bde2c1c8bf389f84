"""A subject access request lists exactly the person's records and nothing of anyone
else's, even a household member in the same review pair."""

from __future__ import annotations

import base64
import json
import re
import shutil

import pandas as pd
import pytest
from conftest import RUN_DATE
from typer.testing import CliRunner

from golden_record.cli import app
from golden_record.golden import GoldenStore, default_store_url
from golden_record.run import Run


@pytest.fixture(scope="module")
def council(landed_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("sar") / "data"
    shutil.copytree(landed_run, root)
    return root


def _someone_in_review_with_another(store: GoldenStore, run: Run) -> tuple[str, set[str]]:
    """The golden ID with records in the most systems among those in a review pair with
    another person's record, and its records."""
    xref = store.current_xref()
    golden_of = xref.set_index("unique_id")["golden_id"]
    review = pd.read_parquet(run.match.review_pairs)
    apart = review[
        golden_of.reindex(review["unique_id_l"]).to_numpy()
        != golden_of.reindex(review["unique_id_r"]).to_numpy()
    ]
    candidates = set(golden_of.reindex(apart["unique_id_l"]).dropna())
    systems = xref.assign(system=xref["unique_id"].str.split(":").str[0])
    spread = systems[systems["golden_id"].isin(candidates)].groupby("golden_id")["system"].nunique()
    chosen = str(spread.sort_values(kind="stable").index[-1])
    return chosen, set(xref.loc[xref["golden_id"] == chosen, "unique_id"])


def _answered(council, out):
    """A SAR for the person in a review pair with another, made on the command line:
    the store, the night, the golden ID, its records and what the command printed."""
    store_url = default_store_url(council)
    store = GoldenStore(store_url)
    run = Run.of(RUN_DATE.isoformat(), root=council)
    golden_id, records = _someone_in_review_with_another(store, run)
    result = CliRunner().invoke(
        app,
        ["rights", "sar", "--golden-id", golden_id, "--out", str(out), "--store", store_url]
        + ["--data", str(council), "--by", "ig.officer", "--basis", "UK GDPR Art. 15"],
    )
    assert result.exit_code == 0, result.output
    return store, run, golden_id, records, result.output


def test_a_subject_access_request_holds_the_person_and_no_one_else(council, tmp_path):
    store, run, golden_id, records, output = _answered(council, tmp_path)
    store_url = default_store_url(council)
    # The request is audited: who, on what basis, what was produced; no personal data.
    listed = CliRunner().invoke(app, ["rights", "requests", "--store", store_url])
    assert listed.exit_code == 0, listed.output
    assert "1 request(s)" in listed.output
    assert f"access {golden_id} by ig.officer (UK GDPR Art. 15)" in listed.output
    assert "letter.html: the response to send" in output
    assert "packaged privacy notice's general wording" in output
    folder = tmp_path / f"subject-access-{golden_id}"
    found = json.loads((folder / "subject_access.json").read_text())
    page = (folder / "technical_annex.html").read_text() + (folder / "letter.html").read_text()
    assert {r["unique_id"] for r in found["source_records"]} == records
    assert {r["unique_id"] for r in found["cross_reference"]} == records
    assert found["golden_record"]["status"] == "active"
    assert found["review_items"], "the chosen person is in a review pair with another"
    assert any("another record" in (r["record_a"] + r["record_b"]) for r in found["review_items"])
    # No one else's record id or golden ID anywhere in what would be sent.
    others = set(store.current_xref()["unique_id"]) - records
    other_golden = set(store.current_xref()["golden_id"]) - set(found["golden_ids"])
    text = (folder / "subject_access.json").read_text() + page
    assert not [o for o in others if o in text]
    assert not [g for g in other_golden if g in text]
    # The values of the person's records are there, from the night's canonical records.
    canonical = pd.read_parquet(run.standardised.canonical)
    mine = canonical[canonical["unique_id"].isin(records)]
    assert all(str(s) in page for s in mine["surname"].dropna())


def test_a_subject_access_request_for_an_unknown_golden_id_is_refused(council, tmp_path):
    result = CliRunner().invoke(
        app,
        ["rights", "sar", "--golden-id", "GR-NOBODY", "--out", str(tmp_path)]
        + ["--store", default_store_url(council), "--data", str(council)]
        + ["--by", "ig.officer", "--basis", "UK GDPR Art. 15"],
    )
    assert result.exit_code == 2
    assert "no golden record GR-NOBODY" in "".join(result.output.replace("│", "").split()) or (
        "nogoldenrecordGR-NOBODY" in "".join(result.output.replace("│", "").split())
    )
    assert not list(tmp_path.iterdir())
    missing_basis = CliRunner().invoke(
        app,
        ["rights", "sar", "--golden-id", "GR-NOBODY", "--out", str(tmp_path)]
        + ["--store", default_store_url(council), "--by", "ig.officer", "--basis", " "],
    )
    assert missing_basis.exit_code == 2 and "legal basis" in missing_basis.output


def test_what_the_crm_was_sent_about_the_person_and_only_them(tmp_path):
    from golden_record.publish import publish
    from golden_record.rights.subject_access import _crm
    from tests.crm_fixtures import lineage, night

    crm = f"sqlite:///{tmp_path / 'crm.db'}"
    people = {f"GR{i:04d}": {"first_name": f"Person{i}", "surname": "Smith"} for i in range(3)}
    members = {f"GR{i:04d}": [f"revenues:r{i}"] for i in range(3)}
    publish(*night(people, members), "2026-11-02", crm)
    # GR0002 merged into GR0001: the feed's merge row names GR0002 as related.
    del people["GR0002"]
    members = {"GR0000": ["revenues:r0"], "GR0001": ["revenues:r1", "revenues:r2"]}
    publish(
        *night(people, members),
        "2026-11-03",
        crm,
        lineage=lineage(merged_into={"GR0002": "GR0001"}),
    )
    sent = _crm(crm, ["GR0000"])
    assert {row["golden_id"] for row in sent["change_feed"]} == {"GR0000"}
    assert [row["golden_id"] for row in sent["published_now"]] == ["GR0000"]
    merged = _crm(crm, ["GR0002"])
    rows = [r for r in merged["change_feed"] if r["event"] == "merged"]
    assert [r["related_golden_id"] for r in rows] == ["another golden record"]
    assert "GR0001" not in json.dumps(merged)


def test_the_letter_is_one_a_resident_can_read_and_print(council, tmp_path):
    from golden_record.extract.canonical import parsed_dates
    from golden_record.rights.letter import load_notice
    from tests.browser import Browser

    _, run, golden_id, records, _ = _answered(council, tmp_path)
    letter_file = tmp_path / f"subject-access-{golden_id}" / "letter.html"
    letter = letter_file.read_text()
    notice = load_notice()
    canonical = pd.read_parquet(run.standardised.canonical)
    mine = canonical[canonical["unique_id"].isin(records)]
    # One section per system that holds the person, named as residents know it, with
    # each record's values as the system holds them and dates as people write them.
    for system, held in mine.groupby("source_system"):
        name = notice.system(str(system))
        assert f"<h3>{name[:1].upper() + name[1:]}</h3>" in letter
        for _, record in held.iterrows():
            assert str(record["source_record_id"]) in letter
            born = parsed_dates(pd.Series([record["date_of_birth"]], dtype="string")).iloc[0]
            if pd.notna(born):
                assert f"{born.day} {born:%B %Y}" in letter
    # What Article 15 says the person must be told.
    for heading in ("Why we hold it", "Who receives it", "How long we keep it",
                    "Where it came from", "Automated decisions", "Your rights"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in letter
    assert "Information Commissioner" in letter and "erasure" in letter
    # None of what made the old page a database dump.
    for internal in ("valid_to_run", "source_updated_at", "unique_id", "match_probability",
                     "_source_system", "ig.officer", "["):  # fmt: skip
        assert internal not in letter, internal
    assert not re.search(r"\b(None|nan|NaT)\b", letter)  # no empty values shown as code
    assert not re.search(r"\d{4}-\d{2}-\d{2}", letter)  # no ISO dates or timestamps
    assert not re.search(r"0\.\d{4,}", letter)  # no probabilities

    # Printed on A4 from Chromium: nothing wider than the page.
    with Browser(tmp_path / "profile", width=794, height=1123) as browser:
        browser.goto(letter_file.as_uri())
        browser.send("Emulation.setEmulatedMedia", media="print")
        cut = browser.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX"
            " !== 'visible' || e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".map(e => e.tagName).slice(0, 5)"
        )
        assert cut == [], cut
        printed = browser.send("Page.printToPDF", paperWidth=8.27, paperHeight=11.69)
        assert base64.b64decode(printed["data"]).startswith(b"%PDF")
        browser.screenshot(tmp_path / "letter.png")
