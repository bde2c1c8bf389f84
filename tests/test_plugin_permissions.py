"""Residents' data behind the right doors: every route of the plugin, asked by no user, a
viewer, a steward, an officer and an admin over real HTTP on Airflow's API server; paths
that try to leave a run's Data Docs; forms posted from elsewhere; refusals audited.
"""

from __future__ import annotations

import http.client
import json
import os
from urllib.parse import urlsplit

import httpx
import pytest
from plugin_server import RUN_KEY

from golden_record.run import Run

# Who may do what under the default role map (README, Permissions), written out here
# rather than read from the code, so a change to the defaults shows up as a failure.
MAY = {
    "viewer": {"reports"},
    "steward": {"reports", "review"},
    "officer": {"reports", "rights", "lookup"},
    "admin": {"reports", "review", "rights", "lookup"},
}


def _routes(reported) -> list[tuple[str, str, str | None, dict]]:
    """(method, path, the permission it needs or None for any signed-in user, request)."""
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.stewardship import queue

    facts = json.loads(Run.of(RUN_KEY, root=reported).report_json.read_text())
    docs = facts["gates"][0]["data_docs"]
    pair = queue(GoldenStore(default_store_url(reported)), limit=None).iloc[0]
    # Posts an allowed user makes harmlessly: refused for their content (400/422/503),
    # never carried out, so the matrix changes nothing it later asks about.
    not_a_decision = {
        "record_a": pair.record_a,
        "record_b": pair.record_b,
        "decision": "perhaps",
        "reason": "matrix",
    }
    return [
        ("GET", "/", "reports", {}),
        ("GET", "/api/runs", "reports", {}),
        ("GET", f"/runs/{RUN_KEY}", "reports", {}),
        ("GET", f"/runs/{RUN_KEY}/", "reports", {}),
        ("GET", f"/runs/{RUN_KEY}/report.json", "reports", {}),
        ("GET", f"/runs/{RUN_KEY}/{docs}", "reports", {}),
        ("GET", "/dag-runs/scheduled__2026-11-02T02%3A00%3A00%2B00%3A00", "reports", {}),
        ("GET", "/review", "review", {}),
        ("GET", "/review/pair", "review", {"params": {"a": pair.record_a, "b": pair.record_b}}),
        ("POST", "/review/decide", "review", {"data": not_a_decision}),
        ("POST", "/review/undo", "review", {"data": {**not_a_decision, "decision": None}}),
        ("GET", "/rights", "rights", {}),
        ("POST", "/rights/access", "rights", {"data": {"golden_id": "GR0000", "basis": "x"}}),
        ("POST", "/api/lookup", "lookup", {"json": {"first_name": "Ann"}}),
        ("GET", "/search", "review", {}),
        ("POST", "/search", "review", {"data": {"first_name": "Ann"}}),
        ("GET", "/golden/GR0000", "review", {}),
        ("GET", "/review/items", "review", {}),
        ("GET", "/review/item/RQ0000", "review", {}),
        ("POST", "/review/claim", "review", {"data": {"item_id": "RQ0000"}}),
        (
            "POST",
            "/review/decide-all",
            "review",
            {"data": {"decision": "perhaps", "reason": "matrix", "pairs_seen": 0}},
        ),
        # A night the page never offered: refused for that, whoever may apply.
        ("POST", "/review/apply-now", "review", {"data": {"night": "1999-01-01"}}),
        ("GET", "/review/style.css", None, {}),
        ("GET", "/static/data-docs/jquery/jquery.min.js", None, {}),
    ]


def _refusals(owner: str) -> list[dict]:
    from airflow.models.log import Log
    from airflow.utils.session import create_session

    from golden_record.airflow.permissions import REFUSED_EVENT

    with create_session() as session:
        rows = session.query(Log).filter(Log.event == REFUSED_EVENT, Log.owner == owner).all()
        return [json.loads(row.extra) for row in rows]


def test_every_route_answers_each_kind_of_user_as_its_permission_says(airflow_api, reported):
    base = airflow_api["base"] + "/golden-record"
    routes = _routes(reported)
    with httpx.Client(base_url=base, timeout=60) as anonymous:
        for method, path, _, request in routes:
            assert anonymous.request(method, path, **request).status_code == 401, path
    seen = {}
    for user, token in airflow_api["tokens"].items():
        before = len(_refusals(user))
        refused = []
        with httpx.Client(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            for method, path, needs, request in routes:
                answer = client.request(method, path, **request)
                seen[(user, method, path)] = answer.status_code
                if needs is None or needs in MAY[user]:
                    assert answer.status_code not in (401, 403), (user, path, answer.text)
                else:
                    assert answer.status_code == 403, (user, path, answer.status_code)
                    detail = answer.json()["detail"]
                    assert "Golden Record" in detail and "permission" in detail, detail
                    refused.append((method, urlsplit(base + path).path))
        # Each refusal is in Airflow's audit log under the user, with method and path.
        logged = _refusals(user)[before:]
        assert [(e["method"], e["path"]) for e in logged] == refused, user
    # The harmless posts were answered for their content, not carried out.
    assert seen[("steward", "POST", "/review/decide")] == 400
    assert seen[("steward", "POST", "/review/undo")] == 400  # nothing to undo
    assert seen[("officer", "POST", "/rights/access")] == 400
    assert seen[("viewer", "POST", "/review/decide")] == 403
    assert seen[("steward", "POST", "/review/claim")] == 409  # no such item
    assert seen[("steward", "POST", "/review/decide-all")] == 400  # no filter
    assert seen[("steward", "POST", "/review/apply-now")] == 409  # not the night shown


def test_a_viewer_cannot_decide_a_pair_nor_answer_a_subject_access_request(airflow_api, reported):
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.stewardship import decisions, queue
    from golden_record.rights.requests import listed

    store = GoldenStore(default_store_url(reported))
    pair = queue(store, limit=None).iloc[0]
    golden_id = store.golden_records()["golden_id"].iloc[0]
    requests_before, decided_before = len(listed(store)), len(decisions(store))
    base = airflow_api["base"] + "/golden-record"
    viewer = {"Authorization": f"Bearer {airflow_api['tokens']['viewer']}"}
    with httpx.Client(base_url=base, headers=viewer, timeout=30) as client:
        same = {
            "record_a": pair.record_a,
            "record_b": pair.record_b,
            "decision": "same",
            "reason": "looks alike",
        }
        assert client.post("/review/decide", data=same).status_code == 403
        access = {"golden_id": golden_id, "basis": "curiosity"}
        answer = client.post("/rights/access", data=access)
        assert answer.status_code == 403 and golden_id not in answer.text
    assert len(decisions(store)) == decided_before
    assert len(listed(store)) == requests_before


def test_a_council_grants_its_own_role_map(airflow_api, monkeypatch):
    from golden_record.airflow.permissions import RoleMapError, role_permissions

    base = airflow_api["base"] + "/golden-record"
    viewer = {"Authorization": f"Bearer {airflow_api['tokens']['viewer']}"}
    assert httpx.get(base + "/review", headers=viewer, timeout=30).status_code == 403
    monkeypatch.setenv("GOLDEN_RECORD_ROLE_PERMISSIONS", "viewer=reports,review")
    assert httpx.get(base + "/review", headers=viewer, timeout=30).status_code == 200
    monkeypatch.setenv("GOLDEN_RECORD_ROLE_PERMISSIONS", "viewer=")
    assert httpx.get(base + "/", headers=viewer, timeout=30).status_code == 403
    with pytest.raises(RoleMapError, match="unknown permission everything"):
        role_permissions("op=everything")
    with pytest.raises(RoleMapError, match="not role=permission"):
        role_permissions("viewer")
    assert role_permissions("user=*")["user"] == {"reports", "review", "rights", "lookup"}


# ----- paths that try to leave the Data Docs --------------------------------------------


def _raw_get(base: str, path: str, token: str) -> tuple[int, bytes]:
    """GET exactly ``path`` (no client normalising dots or encodings on the way)."""
    where = urlsplit(base)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {token}")
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_no_path_reaches_residents_files_from_the_data_docs(airflow_api, reported):
    run = Run.of(RUN_KEY, root=reported)
    assert run.raw("portal").read_bytes()[:4] == b"PAR1"
    docs = "quality/sources/gx/uncommitted/data_docs"
    # A link planted inside the Data Docs (by anyone who can write the run's folder), to a
    # file and to a folder of residents' data.
    planted = run.dir / docs / "planted.html"
    planted.symlink_to(run.raw("portal"))
    (run.dir / docs / "planted_dir").symlink_to(run.dir / "raw", target_is_directory=True)
    # A Parquet file copied into the Data Docs is not a Data Docs file either.
    (run.dir / docs / "copy.parquet").write_bytes(run.raw("portal").read_bytes())
    up = "../../../../.."
    prefix = f"/golden-record/runs/{RUN_KEY}"
    tried = [
        f"{prefix}/{docs}/{up}/raw/portal.parquet",
        f"{prefix}/{docs}/{up.replace('..', '%2e%2e')}/raw/portal.parquet",
        f"{prefix}/{docs}/{up.replace('/', '%2f')}%2fraw%2fportal.parquet",
        f"{prefix}/{docs}/{up.replace('..', '%252e%252e')}/raw/portal.parquet",
        f"{prefix}/{docs}/{up.replace('/', '%252f')}%252fraw%252fportal.parquet",
        f"{prefix}/{docs}/{up.replace('/', '%5c')}%5craw%5cportal.parquet",
        f"{prefix}/{docs}/..\\..\\..\\..\\..\\raw\\portal.parquet",
        f"{prefix}/{docs}/./../../../../../canonical/portal.parquet",
        f"{prefix}/{docs}//../../../../../golden/golden_records.parquet",
        f"{prefix}/{docs}/local_site/../../../../../../golden/golden_records.parquet",
        f"{prefix}/{docs}/planted.html",
        f"{prefix}/{docs}/planted_dir/portal.parquet",
        f"{prefix}/{docs}/copy.parquet",
        f"{prefix}/raw/portal.parquet",
        f"{prefix}/canonical/portal.parquet",
        f"{prefix}/golden/golden_records.parquet",
        f"{prefix}/quality/sources/result.json",
        f"{prefix}/quality/nosuchgate/gx/uncommitted/data_docs/{up}/raw/portal.parquet",
        f"{prefix}/%2e%2e/%2e%2e/golden_store.db",
        f"/golden-record/runs/{RUN_KEY}%2f..%2f..%2fgolden_store.db",
        f"/golden-record/static/data-docs/{up}/reports_app.py",
        "/golden-record/static/data-docs/%2e%2e%2f%2e%2e%2freports_app.py",
    ]
    token = airflow_api["tokens"]["admin"]
    for path in tried:
        status, body = _raw_get(airflow_api["base"], path, token)
        assert status in (400, 404), (path, status)
        assert b"PAR1" not in body and b"SQLite format" not in body, path
    # What is meant to be served still is.
    status, body = _raw_get(airflow_api["base"], f"{prefix}/{docs}/local_site/index.html", token)
    assert status == 200 and b"<html" in body.lower()
    os.unlink(planted)


# ----- forms posted from elsewhere --------------------------------------------------------


def _form_token(page: str) -> str:
    import re

    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found, "the page's form carries a token"
    return found.group(1)


def test_a_browser_form_needs_the_pages_token_with_or_without_origin(airflow_api, reported):
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.rights.requests import listed

    store = GoldenStore(default_store_url(reported))
    golden_id = store.golden_records()["golden_id"].iloc[0]
    base = airflow_api["base"] + "/golden-record"
    tokens = airflow_api["tokens"]
    form = {"golden_id": golden_id, "basis": "UK GDPR Art. 15, request of 3 Dec"}
    before = len(listed(store))
    # Signed in by the UI's cookie, as a browser is: another site's form sends the cookie
    # but cannot read the page's token.
    with httpx.Client(base_url=base, timeout=60, cookies={"_token": tokens["officer"]}) as ui:
        page = ui.get("/rights").text
        token = _form_token(page)
        assert ui.post("/rights/access", data=form).status_code == 403  # no Origin, no token
        forged = {**form, "form_token": token[:-4] + "0000"}
        assert ui.post("/rights/access", data=forged).status_code == 403
        elsewhere = ui.post(
            "/rights/access",
            data={**form, "form_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403
        assert len(listed(store)) == before
        assert any(e["refused"] == "form rights/access" for e in _refusals("officer"))
        answered = ui.post("/rights/access", data={**form, "form_token": token})
        assert answered.status_code == 200, answered.text
        assert "our response to your request" in answered.text  # the letter to send
        assert len(listed(store)) == before + 1
    # Another user's token does not pass for this user (the admin's page, the officer's
    # cookie).
    with httpx.Client(base_url=base, timeout=60, cookies={"_token": tokens["admin"]}) as admin:
        theirs = _form_token(admin.get("/rights").text)
    with httpx.Client(base_url=base, timeout=60, cookies={"_token": tokens["officer"]}) as ui:
        assert ui.post("/rights/access", data={**form, "form_token": theirs}).status_code == 403
    # An API client signs in by its header, which no other site's form can send.
    bearer = {"Authorization": f"Bearer {tokens['officer']}"}
    assert httpx.post(base + "/rights/access", data=form, headers=bearer, timeout=60).is_success
