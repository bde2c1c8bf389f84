"""The Airflow plugin serves run reports and Data Docs; the report renders its figures.

The plugin is loaded the way Airflow's API server loads it (its plugins manager, then
the real API server app) and is exercised over HTTP; the report page is rendered in
headless Chromium and read back from its DOM.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pandas as pd
import pytest
from plugin_server import RUN_ID, RUN_KEY

from golden_record import pipeline
from golden_record.run import Run


def test_airflow_loads_the_plugin_with_its_app_and_views(airflow_api):
    plugins_manager = airflow_api["plugins"]
    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(app["url_prefix"] == "/golden-record" for app in apps)
    views, _ = plugins_manager._get_ui_plugins()
    routes = {view["url_route"]: view for view in views}
    assert routes["golden-record-reports"]["destination"] == "nav"
    assert routes["golden-record-run-report"]["href"] == "/golden-record/dag-runs/{RUN_ID}"
    assert routes["golden-record-rights"]["href"] == "/golden-record/rights"


def test_every_route_of_the_plugin_asks_for_a_signed_in_airflow_user(airflow_api, reported):
    base = airflow_api["base"] + "/golden-record"
    docs = json.loads((Run.of(RUN_KEY, root=reported).report_json).read_text())["gates"][0]
    routes = [
        "/",
        "/api/runs",
        f"/runs/{RUN_KEY}/",
        f"/runs/{RUN_KEY}/report.json",
        f"/runs/{RUN_KEY}/{docs['data_docs']}",
        "/dag-runs/scheduled__2026-11-02T02%3A00%3A00%2B00%3A00",
    ]
    with httpx.Client(base_url=base, timeout=10) as anonymous:
        for route in routes:
            assert anonymous.get(route).status_code == 401, route
        forged = {"Authorization": "Bearer not-a-token-this-server-signed"}
        assert anonymous.get("/api/runs", headers=forged).status_code in (401, 403)
    # Signed in: the token as a header (API clients) or as the UI's cookie (the browser).
    with httpx.Client(base_url=base, timeout=10) as signed_in:
        bearer = {"Authorization": f"Bearer {airflow_api['token']}"}
        for route in routes:
            answer = signed_in.get(route, headers=bearer)
            assert answer.status_code in (200, 307), (route, answer.status_code)
    with httpx.Client(base_url=base, timeout=10, cookies={"_token": airflow_api["token"]}) as ui:
        assert ui.get(f"/runs/{RUN_KEY}/").status_code == 200


def test_the_plugin_serves_the_runs_their_reports_and_data_docs(airflow_api, reported):
    base = airflow_api["base"] + "/golden-record"
    with httpx.Client(
        base_url=base,
        follow_redirects=True,
        timeout=10,
        headers={"Authorization": f"Bearer {airflow_api['token']}"},
    ) as client:
        index = client.get("/").text
        assert f'href="runs/{RUN_KEY}/"' in index and 'class="badge published"' in index
        assert 'href="review/style.css"' in index and 'href="review"' in index
        runs = client.get("/api/runs").json()
        assert [r["run_key"] for r in runs] == [RUN_KEY]
        assert runs[0]["gates"] == {"sources": "passed", "golden": "passed"}
        assert runs[0]["outcome"] == "published"

        page = client.get(f"/runs/{RUN_KEY}/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert f"run {RUN_KEY}" in page.text

        # The external view on a DAG run: Airflow substitutes the URL-encoded run id.
        from urllib.parse import quote

        by_run = client.get(f"/dag-runs/{quote(RUN_ID, safe='')}")
        assert by_run.status_code == 200 and by_run.text == page.text

        facts = json.loads(client.get(f"/runs/{RUN_KEY}/report.json").text)
        for gate in facts["gates"]:
            docs = client.get(f"/runs/{RUN_KEY}/{gate['data_docs']}")
            assert docs.status_code == 200
            assert "text/html" in docs.headers["content-type"] and "<html" in docs.text.lower()

        # Residents' data in the run's folder is never served.
        assert client.get(f"/runs/{RUN_KEY}/golden/golden_records.parquet").status_code == 404
        assert client.get(f"/runs/{RUN_KEY}/..%2F..%2Fcrm.db").status_code == 404
        assert client.get("/runs/1999-01-01/").status_code == 404


@pytest.mark.browser
def test_the_report_renders_its_figures_in_headless_chromium(airflow_api, reported, tmp_path):
    from tests.browser import Browser

    facts = json.loads((Run.of(RUN_KEY, root=reported).report_json).read_text())
    url = f"{airflow_api['base']}/golden-record/runs/{RUN_KEY}/"
    with Browser(tmp_path / "profile") as browser:
        # Not signed in: the page is refused.
        browser.goto(url)
        assert "Not authenticated" in browser.evaluate("document.body.innerText")
        # Signed in, as the Airflow UI's cookie says.
        browser.set_cookie("_token", airflow_api["token"], airflow_api["base"])
        browser.goto(url)
        browser.wait_for("document.querySelectorAll('svg').length >= 2")
        html = browser.evaluate("document.documentElement.outerHTML")
        browser.screenshot(tmp_path / "report.png")
        # Every term linked to the glossary has its entry there.
        terms = browser.evaluate(
            "[...document.querySelectorAll('a.term')].map(a => a.getAttribute('href'))"
        )
        assert len(terms) >= 10
        assert browser.evaluate(
            "[...document.querySelectorAll('a.term')].every(a => "
            "document.getElementById(a.getAttribute('href').slice(1))?.closest('#glossary'))"
        )
        # As narrow as the Airflow UI's iframe beside its navigation: nothing is cut off
        # on the right, the charts shrink and wide tables scroll within themselves.
        browser.narrow(640)
        browser.goto(url)
        browser.wait_for("document.querySelectorAll('svg').length >= 2")
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        widest = browser.evaluate(
            "Math.max(...[...document.querySelectorAll('figure svg')]"
            ".map(s => s.getBoundingClientRect().right))"
        )
        assert widest <= 640
        browser.screenshot(tmp_path / "report-narrow.png")
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert f'id="records-in">{facts["records_in"]:,}<' in html
    assert f'id="golden-records">{facts["golden_records"]:,}<' in html
    assert f'id="duplicate-rate">{facts["duplicate_rate"]:.1%}<' in html
    assert "Published to the CRM" in html
    # The pipeline's own phrases are said in plain words (the fixture's night is a first).
    assert "no earlier accepted night" not in html
    assert "the first night the pipeline has run" in html
    assert html.count("<svg") >= 2  # the cluster-size and match-weight charts drew


def test_the_portal_asks_the_plugin_whether_a_person_is_known(airflow_api, reported):
    from golden_record import nights
    from tests.test_lookup import _someone

    base = airflow_api["base"] + "/golden-record"
    run = Run.of(RUN_KEY, root=reported)
    details, golden_id = _someone(run)
    # The lookup service's account: an op under the default role map.
    bearer = {"Authorization": f"Bearer {airflow_api['tokens']['officer']}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        assert client.post("/api/lookup", json=details).status_code == 401
        if not nights.is_accepted(run):
            assert client.post("/api/lookup", json=details, headers=bearer).status_code == 503
            nights.mark_accepted(run)
        answer = client.post("/api/lookup", json=details, headers=bearer)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["run_key"] == RUN_KEY
        assert body["candidates"][0]["golden_id"] == golden_id
        assert body["candidates"][0]["reasons"]
        refused = client.post("/api/lookup", json={"first_name": "Ann"}, headers=bearer)
        assert refused.status_code == 422 and "surname" in refused.json()["detail"]
        # A date that is no date is refused naming the field, not dropped and answered.
        mistyped = client.post(
            "/api/lookup", json={**details, "date_of_birth": "31/31/1962"}, headers=bearer
        )
        assert mistyped.status_code == 422, mistyped.text
        assert "is not a valid date_of_birth" in mistyped.json()["detail"]


def test_every_dag_run_of_a_date_finds_its_report_after_a_rerun(airflow_api, reported):
    from urllib.parse import quote

    # Another date's run, reported by its scheduled run and then by a manual rerun.
    other = Run.of("2026-11-05", root=reported)
    shutil.copytree(Run.of(RUN_KEY, root=reported).dir, other.dir)
    first, rerun = "scheduled__2026-11-05T02:00:00+00:00", "manual__2026-11-05T09:15:00+00:00"
    try:
        other.report_json.unlink()
        pipeline.report(other, {}, run_id=first)
        pipeline.report(other, {}, run_id=rerun)
        pipeline.report(other, {}, run_id=rerun)
        assert json.loads(other.report_json.read_text())["dag_run_ids"] == [first, rerun]
        # The first run's report is kept beside the rerun's (written twice: replaced once).
        kept = sorted(p.name for p in other.earlier_reports.iterdir())
        assert kept == ["01"]
        assert (
            json.loads((other.earlier_reports / "01" / "report.json").read_text())["run_id"]
            == first
        )
        assert 'href="earlier_reports/01/report.html"' in other.report_html.read_text()
        bearer = {"Authorization": f"Bearer {airflow_api['token']}"}
        base = airflow_api["base"] + "/golden-record"
        with httpx.Client(base_url=base, headers=bearer, timeout=10) as client:
            earlier = client.get("/runs/2026-11-05/earlier_reports/01/report.html")
            assert earlier.status_code == 200 and first in earlier.text
            for elsewhere in ("earlier_reports/01/result.json", "earlier_reports/x/report.html"):
                assert client.get(f"/runs/2026-11-05/{elsewhere}").status_code == 404
            for dag_run in (first, rerun):
                answer = client.get(f"/dag-runs/{quote(dag_run, safe='')}")
                assert answer.status_code == 307, dag_run
                assert answer.headers["location"].endswith("runs/2026-11-05/")
    finally:
        shutil.rmtree(other.dir)


def _pending(reported: Path):
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.stewardship import queue

    return queue(GoldenStore(default_store_url(reported)), limit=None)


def _decisions(reported: Path):
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.stewardship import decisions

    return decisions(GoldenStore(default_store_url(reported)))


def test_a_steward_works_through_the_review_queue_over_http(airflow_api, reported):
    from urllib.parse import parse_qs, urlsplit

    pending = _pending(reported)
    assert len(pending) > 30, "the sample night should leave pairs to review"
    base = airflow_api["base"] + "/golden-record"
    bearer = {"Authorization": f"Bearer {airflow_api['token']}"}
    with httpx.Client(base_url=base, headers=bearer, timeout=30) as client:
        assert httpx.get(base + "/review", timeout=10).status_code == 401
        page = client.get("/review")
        assert page.status_code == 200
        assert f"{len(pending)} pairs awaiting review" in page.text
        assert "showing 1–25" in page.text and "page 1 of" in page.text
        reason = pending["reason"].value_counts().index[0]
        filtered = client.get("/review", params={"reason": reason})
        assert f"{(pending['reason'] == reason).sum()} with these filters" in filtered.text
        first = pending.iloc[0]
        pair = client.get("/review/pair", params={"a": first.record_a, "b": first.record_b})
        assert pair.status_code == 200
        assert "total match weight" in pair.text and first.record_a in pair.text
        # Both records as their systems hold them, not as standardising rewrote them, and
        # none of the helper columns blocking uses.
        canonical = pd.read_parquet(Run.of(RUN_KEY, root=reported).standardised.canonical)
        held = canonical.set_index("unique_id").loc[[first.record_a, first.record_b]]
        held_table = pair.text.split('id="held"', 1)[1].split("</table>", 1)[0]
        for surname in held["surname"].dropna():
            assert f"{surname}</td>" in held_table or f" {surname}</td>" in held_table, surname
        assert "&lt;NA&gt;" not in held_table and "nan<" not in held_table
        for helper in ("first_name_sound", "address_key", "email_digits", "surname_sound"):
            assert helper not in pair.text, helper

        form = {
            "record_a": first.record_a,
            "record_b": first.record_b,
            "decision": "different",
            "reason": "checked the tenancy file: father and son",
        }
        elsewhere = client.post(
            "/review/decide", data=form, headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403
        assert _decisions(reported).empty
        decided = client.post("/review/decide", data=form)
        assert decided.status_code == 303
        # On to the next pair of the queue.
        following = parse_qs(urlsplit(decided.headers["location"]).query)
        assert (following["a"][0], following["b"][0]) == (
            pending.iloc[1].record_a,
            pending.iloc[1].record_b,
        )
    made = _decisions(reported)
    assert made[["record_a", "record_b", "decision", "decided_by"]].values.tolist() == [
        [first.record_a, first.record_b, "different", "steward"]
    ]
    assert len(_pending(reported)) == len(pending) - 1


@pytest.mark.browser
def test_a_steward_decides_a_pair_from_the_keyboard_in_chromium(airflow_api, reported, tmp_path):
    from tests.browser import Browser

    before = _pending(reported)
    queue_url = f"{airflow_api['base']}/golden-record/review"
    with Browser(tmp_path / "profile") as browser:
        browser.set_cookie("_token", airflow_api["token"], airflow_api["base"])
        browser.goto(queue_url)
        assert f"{len(before)} pairs awaiting review" in browser.evaluate(
            "document.getElementById('summary').innerText"
        )
        # Fits the window (the Airflow UI shows it in an iframe): nothing off to the right.
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert browser.screenshot(tmp_path / "queue.png").stat().st_size > 5_000
        # Apply now, offered for the night the queue is from, its form carrying its token
        # (the button's effect is tested under a scheduler: tests/test_local_airflow.py).
        offered = browser.evaluate(
            "(() => { const f = document.getElementById('apply-now');"
            " const b = document.getElementById('apply-now-button').getBoundingClientRect();"
            " return [f.night.value, f.form_token.value.length > 20, b.width > 0 && b.right"
            " <= window.innerWidth]; })()"
        )
        assert offered == [RUN_KEY, True, True], offered
        # Enter opens the first pair; type why, then Alt+D: "different people".
        browser.press("Enter", "Enter", 13)
        browser.wait_for("location.pathname.endsWith('/review/pair')")
        browser.wait_for("document.readyState === 'complete'")
        first = browser.evaluate(
            "[...document.querySelectorAll('#decide input[type=hidden]')]"
            ".slice(0, 2).map(i => i.value)"
        )
        assert browser.evaluate("document.activeElement.id") == "reason"
        assert browser.screenshot(tmp_path / "pair.png").stat().st_size > 5_000
        browser.type_text("different dates of birth on the council tax account")
        browser.press("d", "KeyD", 68, alt=True)
        browser.wait_for(
            f"!document.body.innerText.includes({json.dumps(first[0])})"
            f" || !document.body.innerText.includes({json.dumps(first[1])})"
        )
    made = _decisions(reported)
    mine = made[(made["record_a"] == first[0]) & (made["record_b"] == first[1])]
    assert mine[["decision", "decided_by"]].values.tolist() == [["different", "steward"]]
    after = _pending(reported)
    assert len(after) == len(before) - 1
    assert not ((after["record_a"] == first[0]) & (after["record_b"] == first[1])).any()


def test_data_docs_are_served_with_every_asset_from_the_plugin(airflow_api, reported):
    import re

    facts = json.loads((Run.of(RUN_KEY, root=reported).report_json).read_text())
    base = airflow_api["base"] + "/golden-record"
    bearer = {"Authorization": f"Bearer {airflow_api['token']}"}
    with httpx.Client(base_url=base, headers=bearer, timeout=10) as client:
        for gate in facts["gates"]:
            page = client.get(f"/runs/{RUN_KEY}/{gate['data_docs']}").text
            page_file = Run.of(RUN_KEY, root=reported).dir / gate["data_docs"]
            on_disk = page_file.read_text()
            # As written: every asset from the data folder's copy, by a relative path.
            written = re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=\"([^\"]+)\"", on_disk)
            assert not [url for url in written if url.startswith("http")]
            relative = [url for url in written if "data_docs_assets/" in url]
            assert len(relative) >= 10
            assert all((page_file.parent / url).resolve().is_file() for url in relative)
            loaded = re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=\"([^\"]+)\"", page)
            outside = [url for url in loaded if url.startswith("http")]
            assert not outside, outside
            local = [url for url in loaded if "/static/data-docs/" in url]
            assert len(local) >= 10
            for url in local:
                assert client.get(url.removeprefix("/golden-record")).status_code == 200, url
        assert client.get("/static/data-docs/../reports_app.py").status_code == 404
    assert httpx.get(base + "/static/data-docs/jquery/jquery.min.js").status_code == 401


@pytest.mark.browser
def test_data_docs_render_styled_with_no_way_out_in_chromium(airflow_api, reported, tmp_path):
    from tests.browser import Browser

    facts = json.loads((Run.of(RUN_KEY, root=reported).report_json).read_text())
    url = f"{airflow_api['base']}/golden-record/runs/{RUN_KEY}/{facts['gates'][0]['data_docs']}"
    with Browser(tmp_path / "profile") as browser:
        # The CDNs GX points at are unreachable, as on a council's closed network.
        browser.send("Network.enable")
        blocked = ["*cdn*", "*unpkg.com*", "*code.jquery.com*", "*amazonaws.com*"]
        browser.send("Network.setBlockedURLs", urls=blocked)
        browser.set_cookie("_token", airflow_api["token"], airflow_api["base"])
        # Served by the plugin, and opened from disk as the report's links open it.
        page_file = Run.of(RUN_KEY, root=reported).dir / facts["gates"][0]["data_docs"]
        for shown, address in (("served", url), ("from_disk", page_file.as_uri())):
            browser.goto(address)
            assert browser.wait_for("typeof window.jQuery === 'function'")
            assert browser.wait_for("typeof window.vegaEmbed === 'function'")
            # Bootstrap's stylesheet applied: its navbar is laid out as a flex row.
            assert browser.evaluate(
                "getComputedStyle(document.querySelector('nav, .navbar') || document.body).display"
            ) in ("flex", "-webkit-box")
            assert browser.screenshot(tmp_path / f"docs_{shown}.png").stat().st_size > 10_000


def test_a_superseded_backfill_is_reported_as_not_written(reported, tmp_path):
    other = Run.of("2026-11-06", root=reported)
    shutil.copytree(Run.of(RUN_KEY, root=reported).dir, other.dir)
    try:
        results = json.loads((reported / "stage_results.json").read_text())
        results["publish"] = {
            **results["publish"],
            "outcome": "superseded",
            "superseded_by": "2026-11-09",
        }
        pipeline.report(other, results, run_id="backfill__2026-11-06T02:00:00+00:00")
        page = other.report_html.read_text()
        badge = page.split('id="outcome">', 1)[1].split("<", 1)[0]
        assert badge == "Not written to the CRM: a later run is already published"
        assert "Published to the CRM" not in page
        assert "not written: run 2026-11-09, a later one, is already published" in page
    finally:
        shutil.rmtree(other.dir)


def test_an_officer_makes_a_subject_access_request_from_the_plugin(airflow_api, reported):
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.rights.requests import listed

    store = GoldenStore(default_store_url(reported))
    golden_id = store.golden_records()["golden_id"].iloc[0]
    before = len(listed(store))
    base = airflow_api["base"] + "/golden-record"
    bearer = {"Authorization": f"Bearer {airflow_api['tokens']['officer']}"}
    form = {"golden_id": golden_id, "basis": "UK GDPR Art. 15, request of 2 Dec"}
    assert httpx.post(base + "/rights/access", data=form, timeout=10).status_code == 401
    with httpx.Client(base_url=base, headers=bearer, timeout=60) as client:
        page = client.get("/rights")
        assert page.status_code == 200 and f"{before} request(s)" in page.text
        elsewhere = client.post(
            "/rights/access", data=form, headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403
        unknown = client.post("/rights/access", data={**form, "golden_id": "GR0000"})
        assert unknown.status_code == 400 and "no golden record GR0000" in unknown.text
        assert len(listed(store)) == before
        answered = client.post("/rights/access", data=form)
        assert answered.status_code == 200 and golden_id in answered.text
        made = listed(store).iloc[-1]
        assert (made["kind"], made["golden_id"], made["requested_by"]) == (
            "access",
            golden_id,
            "officer",
        )
        page = client.get("/rights")
        assert f"{before + 1} request(s)" in page.text and golden_id in page.text
    assert (reported / "rights" / f"subject-access-{golden_id}" / "subject_access.json").is_file()


def test_a_steward_finds_a_resident_and_reads_their_golden_record(airflow_api, reported, tmp_path):
    from golden_record import nights
    from golden_record.golden import GoldenStore, default_store_url
    from tests.browser import Browser
    from tests.test_lookup import _someone

    run = Run.of(RUN_KEY, root=reported)
    nights.mark_accepted(run)
    details, golden_id = _someone(run)
    xref = GoldenStore(default_store_url(reported)).current_xref()
    records = sorted(xref.loc[xref["golden_id"] == golden_id, "unique_id"])
    base = airflow_api["base"] + "/golden-record"
    asked = {k: details[k] for k in ("first_name", "surname", "postcode")}
    with httpx.Client(base_url=base, timeout=60, cookies={"_token": airflow_api["token"]}) as ui:
        found = ui.post("/search", data=asked)
        assert found.status_code == 200, found.text
        first = found.text.split('class="golden"')[1]
        assert golden_id in first.split("</tr>")[0]  # the resident first
        assert "same surname" in found.text  # why, in a steward's words
        refused = ui.post("/search", data={**asked, "date_of_birth": "31/31/1962"})
        assert refused.status_code == 200 and "is not a valid date_of_birth" in refused.text
        page = ui.get(f"/golden/{golden_id}")
        assert page.status_code == 200, page.text
        # Every source record of the golden record, as the system holds it, and where
        # each value now comes from.
        assert all(record in page.text for record in records)
        assert details["surname"] in page.text
        assert "record joined" in page.text and "created" in page.text
        assert ui.get("/golden/GR-NOBODY").status_code == 404
    # A viewer reads reports, not residents.
    viewer = {"Authorization": f"Bearer {airflow_api['tokens']['viewer']}"}
    assert httpx.post(base + "/search", data=asked, headers=viewer, timeout=30).status_code == 403
    assert httpx.get(base + f"/golden/{golden_id}", headers=viewer, timeout=30).status_code == 403

    with Browser(tmp_path / "profile") as browser:
        browser.set_cookie("_token", airflow_api["token"], airflow_api["base"])
        browser.goto(f"{base}/search")
        for name, value in asked.items():
            browser.evaluate(f"document.querySelector('[name={name}]').value = {json.dumps(value)}")
        browser.evaluate("document.getElementById('search').submit()")
        browser.wait_for("document.getElementById('results') !== null")
        assert browser.screenshot(tmp_path / "search.png").stat().st_size > 5_000
        browser.evaluate("document.querySelector('a.golden').click()")
        browser.wait_for(f"location.pathname.endsWith('/golden/{golden_id}')")
        browser.wait_for("document.readyState === 'complete'")
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert browser.screenshot(tmp_path / "golden.png").stat().st_size > 5_000


def test_a_steward_undoes_a_decision_from_the_golden_record_page(airflow_api, reported):
    import re

    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.stewardship import decide

    store = GoldenStore(default_store_url(reported))
    pair = _pending(reported).iloc[-1]
    a, b = pair["record_a"], pair["record_b"]
    decide(store, a, b, "same", "steward", "same NI number on the tenancy")
    xref = store.current_xref().set_index("unique_id")["golden_id"]
    golden_id = xref[a]
    base = airflow_api["base"] + "/golden-record"
    with httpx.Client(base_url=base, timeout=60, cookies={"_token": airflow_api["token"]}) as ui:
        page = ui.get(f"/golden/{golden_id}").text
        assert "same NI number on the tenancy" in page
        form = page.split('<form class="undo"')[1].split("</form>")[0]
        token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
        fields = {"record_a": a, "record_b": b, "back_to": golden_id, "reason": "wrong file"}
        # The Origin a browser sends with a form from this page.
        origin = {"Origin": airflow_api["base"]}
        assert ui.post("/review/undo", data=fields, headers=origin).status_code == 403  # no token
        undone = ui.post("/review/undo", data={**fields, "form_token": token}, headers=origin)
        assert undone.status_code == 303, undone.text
        assert undone.headers["location"].endswith(f"/golden/{golden_id}")
    kept = store.undone_decisions()
    assert kept[["record_a", "decision", "undone_by", "undo_reason"]].values.tolist()[-1] == [
        a,
        "same",
        "steward",
        "wrong file",
    ]
    assert not (
        (_decisions(reported)["record_a"] == a) & (_decisions(reported)["record_b"] == b)
    ).any()
    # Back in the queue, to be decided afresh.
    back = _pending(reported)
    assert ((back["record_a"] == a) & (back["record_b"] == b)).any()


def test_the_report_says_when_the_run_started_and_the_decisions_it_applied(reported):
    import re
    from datetime import UTC, datetime, timedelta

    other = Run.of("2026-11-07", root=reported)
    shutil.copytree(Run.of(RUN_KEY, root=reported).dir, other.dir)
    try:
        results = json.loads((reported / "stage_results.json").read_text())
        results["match"] = {**results["match"], "steward_decisions": 3}
        started = datetime.now(UTC) - timedelta(seconds=252)
        pipeline.report(
            other, results, run_id="manual__2026-11-07T02:00:00+00:00", started_at=started
        )
        page = other.report_html.read_text()
        # The header says when the run started and how long it had taken.
        when = page.split('id="when">', 1)[1].split("</span>", 1)[0]
        assert when.startswith(f"started {started:%H:%M} UTC on {started.day} {started:%B %Y}")
        assert re.search(r"the report written 4 min 1[23] s later$", when), when
        line = page.split('id="steward-decisions">', 1)[1].split("</p>", 1)[0]
        assert line.startswith("Stewards' decisions applied tonight: 3 ")
        results["match"]["steward_decisions"] = 0
        pipeline.report(other, results, run_id="manual__2026-11-07T02:00:00+00:00")
        assert 'id="steward-decisions"' not in other.report_html.read_text()
    finally:
        shutil.rmtree(other.dir)


def test_a_steward_works_the_queue_by_person_claims_an_item_and_decides_a_filtered_set(
    airflow_api, reported
):
    import re

    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.review_items import review_items

    store = GoldenStore(default_store_url(reported))
    items = review_items(store)
    assert len(items) > 5
    first = items[0]
    base = airflow_api["base"] + "/golden-record"
    bearer = {"Authorization": f"Bearer {airflow_api['token']}"}
    with httpx.Client(base_url=base, headers=bearer, timeout=60) as client:
        listed = client.get("/review/items")
        assert listed.status_code == 200
        assert f"{len(items)} items awaiting review" in listed.text
        assert f'href="/golden-record/review/item/{first.item_id}"' in listed.text
        page = client.get(f"/review/item/{first.item_id}")
        assert page.status_code == 200
        records = page.text.split('id="records"', 1)[1].split("</table>", 1)[0]
        # Every source record the answer affects, each with its golden record.
        for record in first.records:
            assert f"<td>{record}" in records, record
        for golden_id in first.golden_ids:
            assert f">{golden_id}</a>" in records
        links = page.text.split('id="links"', 1)[1].split("</table>", 1)[0]
        assert links.count('class="pair"') == len(first.pairs)
        # Each link says, in words, what weighed most for and against it.
        said = re.findall(r'<td class="in-words">([^<]*)</td>', links)
        assert len(said) == len(first.pairs) and all(re.search(r"\([+-]\d", s) for s in said)
        assert any(s.startswith(("same ", "different ")) or "same" in s for s in said), said
        assert "Nobody has claimed it" in page.text
        # Claimed: the page says so, and the queue shows it as the steward's.
        claimed = client.post("/review/claim", data={"item_id": first.item_id})
        assert claimed.status_code == 303
        assert "Claimed by you since" in client.get(f"/review/item/{first.item_id}").text
        assert review_items(store)[0].claimed_by == "steward"
        # A pair's page leads to its whole item.
        pair = first.pairs.iloc[0]
        pair_page = client.get("/review/pair", params={"a": pair.record_a, "b": pair.record_b})
        assert f'href="/golden-record/review/item/{first.item_id}"' in pair_page.text
        assert 'id="in-words">What weighed most: ' in pair_page.text

        # One reason's pairs decided at once: the page shows how many, the post says how
        # many it saw, and a count that no longer holds decides nothing.
        reason = min(
            {r for item in items for r in item.pairs["reason"]},
            key=lambda r: sum((item.pairs["reason"] == r).sum() for item in items),
        )
        count = sum(int((item.pairs["reason"] == reason).sum()) for item in items)
        filtered = client.get("/review/items", params={"reason": reason})
        assert f'name="pairs_seen" value="{count}"' in filtered.text
        form = {
            "decision": "different",
            "reason": "a care home's residents, checked with the home",
            "reason_filter": reason,
            "pairs_seen": count + 1,
        }
        before = _decisions(reported)
        stale = client.post("/review/decide-all", data=form)
        assert stale.status_code == 409 and "nothing was decided" in stale.json()["detail"]
        whole = client.post("/review/decide-all", data={**form, "reason_filter": ""})
        assert whole.status_code == 400 and "needs a filter" in whole.json()["detail"]
        pd.testing.assert_frame_equal(_decisions(reported), before)
        done = client.post("/review/decide-all", data={**form, "pairs_seen": count})
        assert done.status_code == 303
    made = _decisions(reported)
    bulk = made[made["reason"] == form["reason"]]
    assert len(bulk) == count and set(bulk["decided_by"]) == {"steward"}
    assert not (_pending(reported)["reason"] == reason).any()


@pytest.mark.browser
def test_a_steward_opens_and_claims_an_item_in_chromium(airflow_api, reported, tmp_path):
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.review_items import review_items
    from tests.browser import Browser

    store = GoldenStore(default_store_url(reported))
    first = review_items(store)[0]
    linked = set(first.pairs["record_a"]) | set(first.pairs["record_b"])
    # Unclaimed to begin with, whichever test of the module ran before.
    with store.transaction() as connection:
        store.end_claim(connection, first.item_id)

    with Browser(tmp_path / "profile") as browser:
        browser.set_cookie("_token", airflow_api["token"], airflow_api["base"])
        browser.goto(f"{airflow_api['base']}/golden-record/review/items")
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        browser.screenshot(tmp_path / "items.png")
        browser.evaluate("document.querySelector('a.item').click()")
        browser.wait_for("location.pathname.includes('/review/item/')")
        browser.wait_for("document.readyState === 'complete'")
        third = browser.evaluate("document.querySelectorAll('#records tr.third').length")
        browser.evaluate("document.querySelector('#claim button').click()")
        browser.wait_for(
            "document.getElementById('claimed')?.innerText.startsWith('Claimed by you')"
        )
        assert browser.screenshot(tmp_path / "item.png").stat().st_size > 10_000
        # Nothing off the page, even as narrow as the Airflow UI's iframe beside its
        # navigation: a table wider than that scrolls within itself.
        browser.narrow(640)
        # Reloaded at that width: the old page's mark gone is the new page loaded.
        browser.evaluate("window.beforeNarrowing = true; location.reload()")
        browser.wait_for(
            "!window.beforeNarrowing && document.readyState === 'complete'"
            " && !!document.getElementById('claimed')"
        )
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert browser.evaluate(
            "document.querySelector('.wide').scrollWidth > document.querySelector('.wide')"
            ".clientWidth"
        )
    # The records in no doubtful link are there, told apart (the item's third records).
    assert third == len(set(first.records) - linked)
