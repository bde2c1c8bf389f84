"""The data stewards' person pages in the Airflow plugin: search for a resident, and a
golden record's page (its values with the source and date of each, its source records
as the systems hold them, its history).

Search asks the last accepted night's lookup (:mod:`golden_record.airflow.night_lookup`)
with the search keys, best first however unsure, with the reasons in a steward's words.
The details are posted, never put in a URL (an address bar, a proxy's log or the API
server's access log would keep them). Both pages need the review permission's GET, as
the review queue does (:mod:`golden_record.airflow.permissions`); nothing here writes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from golden_record.airflow.permissions import READ_REVIEW, requires
from golden_record.airflow.review_pages import UNDO
from golden_record.airflow.web import base, form_token, render, store

SEARCHED = ("first_name", "surname", "date_of_birth", "postcode", "email", "phone", "ni_number")
FIELD_LABELS = {
    "first_name": "First name",
    "surname": "Surname",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode",
    "email": "Email",
    "phone": "Phone",
    "ni_number": "NI number",
}
SHOWN = ("first_name", "surname", "date_of_birth", "postcode")


def _attributes() -> list[tuple[str, tuple[str, ...]]]:
    from golden_record.golden import survivorship

    return [(a.name, tuple(a.columns)) for a in survivorship.load().attributes]


def router() -> APIRouter:
    """These pages' routes, for the plugin's app to include."""
    pages = APIRouter()

    def search_page(request: Request, asked: dict[str, str], **answer: Any) -> str:
        return render(
            "search.html",
            base=base(request),
            fields=[(name, FIELD_LABELS[name], asked.get(name, "")) for name in SEARCHED],
            **answer,
        )

    @pages.get("/search", response_class=HTMLResponse)
    def search_form(
        request: Request,
        user: Any = Depends(requires(READ_REVIEW)),  # noqa: B008
    ) -> str:
        return search_page(request, {})

    @pages.post("/search", response_class=HTMLResponse)
    def search(
        request: Request,
        first_name: str = Form(""),
        surname: str = Form(""),
        date_of_birth: str = Form(""),
        postcode: str = Form(""),
        email: str = Form(""),
        phone: str = Form(""),
        ni_number: str = Form(""),
        user: Any = Depends(requires(READ_REVIEW)),  # noqa: B008
    ) -> str:
        from golden_record.airflow import night_lookup

        given = {
            "first_name": first_name,
            "surname": surname,
            "date_of_birth": date_of_birth,
            "postcode": postcode,
            "email": email,
            "phone": phone,
            "ni_number": ni_number,
        }
        asked = {k: v.strip() for k, v in given.items() if v.strip()}
        try:
            run_key, found = night_lookup.ask(lambda lookup: lookup.search(asked, limit=10))
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            return search_page(request, asked, refused=str(exc.detail), searched=True)
        held = store()
        results = []
        for candidate in found:
            record = held.golden_record(candidate.golden_id) or {}
            results.append(
                {
                    "golden_id": candidate.golden_id,
                    "shown": [str(record[c]) for c in SHOWN if record.get(c)],
                    "weight": candidate.match_weight,
                    "reasons": candidate.reasons,
                }
            )
        return search_page(request, asked, results=results, run_key=run_key, searched=True)

    @pages.get("/golden/{golden_id}", response_class=HTMLResponse)
    def golden_record_page(
        request: Request,
        golden_id: str,
        user: Any = Depends(requires(READ_REVIEW)),  # noqa: B008
    ) -> str:
        from golden_record import paths
        from golden_record.golden import StoreError
        from golden_record.golden.record_story import story

        try:
            told = story(store(), golden_id, paths.data_root(), _attributes())
        except StoreError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        columns = [
            c
            for c in (
                "title", "first_name", "middle_names", "surname", "date_of_birth", "email",
                "phone", "address_line_1", "address_line_2", "town", "postcode", "uprn",
                "ni_number", "source_updated_at",
            )
            if any(r.get(c) for r in told.source_records)
        ]  # fmt: skip
        return render(
            "golden_record.html",
            base=base(request),
            story=told,
            columns=columns,
            undo_token=form_token(user, UNDO),
        )

    return pages
