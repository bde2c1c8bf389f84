"""The information-governance officers' page in the Airflow plugin: the rights requests
answered, what stands now (restrictions, corrections, suppressed records), and a subject
access request made from the page.

The same functions as the ``golden-record`` commands (:mod:`golden_record.rights`); a
request made here is recorded under the signed-in Airflow user's name. The page needs
the rights permission's GET and a request its POST
(:mod:`golden_record.airflow.permissions`); a request is a form posted from this page
only, carrying its form token (:mod:`golden_record.airflow.web`).
Correcting, restricting and erasing stay on the command line, where the officer gives
the CRM and data folder they act on and sees each step's outcome.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from golden_record.airflow.permissions import ANSWER_RIGHTS, READ_RIGHTS, requires
from golden_record.airflow.web import FORM_TOKEN_FIELD, base, check_form, form_token, render, store

ACCESS = "rights/access"


def router() -> APIRouter:
    """These pages' routes, for the plugin's app to include."""
    pages = APIRouter()

    @pages.get("/rights", response_class=HTMLResponse)
    def rights(
        request: Request,
        user: Any = Depends(requires(READ_RIGHTS)),  # noqa: B008
    ) -> str:
        from golden_record.rights.requests import listed, standing

        held = store()
        made = listed(held).sort_values("request_id", ascending=False)
        rows = [{**row, "produced": _summary(row["produced"])} for row in made.to_dict("records")]
        return render(
            "rights.html",
            base=base(request),
            standing=standing(held),
            requests=rows,
            form_token=form_token(user, ACCESS),
        )

    @pages.post("/rights/access", response_class=HTMLResponse)
    def access(
        request: Request,
        golden_id: str = Form(...),
        basis: str = Form(...),
        token: str = Form("", alias=FORM_TOKEN_FIELD),
        user: Any = Depends(requires(ANSWER_RIGHTS)),  # noqa: B008
    ) -> str:
        from golden_record import paths
        from golden_record.airflow import connections
        from golden_record.golden import StoreError
        from golden_record.publish import exports_root
        from golden_record.rights import requests
        from golden_record.rights.subject_access import LETTER, gather, write

        check_form(request, user, ACCESS, token)
        held = store()
        root = paths.data_root()
        try:
            requests.check(user.get_name(), basis)
            found = gather(
                held, golden_id.strip(), root, connections.crm_url_or_none(), exports_root(root)
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
        requests.record(held, "access", found["golden_id"], user.get_name(), basis, produced)
        # The letter to send; the technical annex is in the same folder for the officer.
        return (folder / LETTER).read_text(encoding="utf-8")

    return pages


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
