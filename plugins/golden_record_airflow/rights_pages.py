"""The information-governance officers' page in the Airflow plugin: the rights requests
answered, what stands now (restrictions, corrections, suppressed records), and a subject
access request made from the page.

The same functions as the ``golden-record`` commands (:mod:`golden_record.rights`); a
request made here is recorded under the signed-in Airflow user's name. A request is a
form posted from this page only: a post whose ``Origin`` is another site is refused.
Correcting, restricting and erasing stay on the command line, where the officer gives
the CRM and data folder they act on and sees each step's outcome.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse


def add_routes(app: FastAPI) -> None:
    from airflow.api_fastapi.core_api.security import get_user

    from golden_record_airflow.review_pages import _base, _render, _same_site, _store

    @app.get("/rights", response_class=HTMLResponse)
    def rights(request: Request) -> str:
        from golden_record.rights.requests import listed, standing

        store = _store()
        made = listed(store).sort_values("request_id", ascending=False)
        rows = [{**row, "produced": _summary(row["produced"])} for row in made.to_dict("records")]
        return _render("rights.html", base=_base(request), standing=standing(store), requests=rows)

    @app.post("/rights/access", response_class=HTMLResponse)
    def access(
        request: Request,
        golden_id: str = Form(...),
        basis: str = Form(...),
        user: Any = Depends(get_user),  # noqa: B008
    ) -> str:
        from golden_record import paths
        from golden_record.golden import StoreError
        from golden_record.publish import exports_root
        from golden_record.rights import requests
        from golden_record.rights.subject_access import gather, write
        from golden_record_airflow import connections

        if not _same_site(request):
            raise HTTPException(status_code=403, detail="a request is posted from this page")
        store = _store()
        root = paths.data_root()
        try:
            requests.check(user.get_name(), basis)
            found = gather(
                store, golden_id.strip(), root, connections.crm_url_or_none(), exports_root(root)
            )
        except StoreError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        folder = write(found, root / "rights")
        produced = {
            "folder": str(folder),
            "source_records": len(found["source_records"]),
            "versions": len(found["history"]),
            "change_events": len(found["change_events"]),
            "made_from": "the Airflow plugin",
        }
        requests.record(store, "access", found["golden_id"], user.get_name(), basis, produced)
        return (folder / "subject_access.html").read_text(encoding="utf-8")


def _summary(produced: str) -> str:
    """What a request produced, in a line (counts, never values)."""
    try:
        found = json.loads(produced or "{}")
    except json.JSONDecodeError:
        return ""
    shown = []
    for key, value in sorted(found.items()):
        if isinstance(value, int | str) and key not in ("folder", "deletion_list"):
            shown.append(f"{key.replace('_', ' ')}: {value}")
        elif isinstance(value, dict) and "published" in value:
            shown.append("CRM changed" if value["published"] else "CRM not changed")
    return "; ".join(shown)
