"""The data stewards' review pages in the Airflow plugin: the queue, each pair side by
side with the model's weights, and the decision.

The same store and the same functions as ``golden-record review``
(:mod:`golden_record.golden.stewardship`), so a decision made here is honoured by the next
night exactly as one made on the command line; it is recorded under the signed-in
Airflow user's name (Airflow's auth manager, no login of our own). Reading the queue and
its pairs needs the review permission's GET, deciding its POST
(:mod:`golden_record.airflow.permissions`); a decision is a form posted from these pages
only, carrying its form token (:mod:`golden_record.airflow.web`).
"""

from __future__ import annotations

from math import ceil
from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from golden_record.airflow.permissions import DECIDE_REVIEW, READ_REVIEW, requires
from golden_record.airflow.web import FORM_TOKEN_FIELD, base, check_form, form_token, render, store

PAGE_SIZE = 25
DECIDE = "review/decide"
UNDO = "review/undo"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #ddd; }
th { background: #f0f0f0; }
td { overflow-wrap: anywhere; }
tr.total td { font-weight: 600; }
.bar { display: inline-block; height: 0.7rem; vertical-align: middle; }
.bar.for { background: #2e7d32; } .bar.against { background: #c62828; }
.filters, .pages, form#decide { margin: 1rem 0; display: flex; gap: 1rem; align-items: center;
  flex-wrap: wrap; }
input[type=text] { width: 28rem; max-width: 100%; }
kbd { border: 1px solid #aaa; border-radius: 3px; padding: 0 0.25rem; font-size: 0.8rem; }
.keys, .note { color: #555; font-size: 0.9rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, td.id { white-space: nowrap; overflow-wrap: normal; }
tr.third td { color: #505a5f; }
/* A table wider than the window (an item of many records and fields) scrolls within
   itself; the page never does (the Airflow UI shows it in an iframe). */
.wide { max-width: 100%; overflow-x: auto; }
form#apply-now { margin: 1rem 0; padding: 0.6rem 0.8rem; display: flex; gap: 1rem;
  align-items: center; background: #fff; border: 1px solid #ddd; }
form#apply-now button { white-space: nowrap; }
.badge { display: inline-block; padding: 0.1rem 0.5rem; color: #fff; font-weight: 600; }
.badge.published { background: #00703c; } .badge.stopped { background: #d4351c; }
.badge.unknown, .badge.superseded { background: #505a5f; }
"""


def filtered(pending: Any, reason: str, source: str) -> Any:
    """Review pairs of ``reason`` touching a record of ``source`` (either may be empty)."""
    if reason:
        pending = pending[pending["reason"] == reason]
    if source:
        systems_a = pending["record_a"].str.split(":").str[0]
        systems_b = pending["record_b"].str.split(":").str[0]
        pending = pending[(systems_a == source) | (systems_b == source)]
    return pending.reset_index(drop=True)


def router() -> APIRouter:
    """These pages' routes, for the plugin's app to include."""
    pages = APIRouter()

    @pages.get("/review/style.css")
    def style() -> Response:
        return Response(STYLE, media_type="text/css")

    @pages.get("/review", response_class=HTMLResponse)
    def review_queue(
        request: Request,
        page: int = 1,
        reason: str = "",
        source: str = "",
        user: Any = Depends(requires(READ_REVIEW)),  # noqa: B008
    ) -> str:
        from golden_record.airflow import apply_now
        from golden_record.golden.stewardship import queue

        pending = queue(store(), limit=None)
        reasons = sorted(pending["reason"].value_counts().items(), key=lambda kv: -kv[1])
        sources = sorted(
            set(pending["record_a"].str.split(":").str[0])
            | set(pending["record_b"].str.split(":").str[0])
        )
        shown = filtered(pending, reason, source)
        pages = max(1, ceil(len(shown) / PAGE_SIZE))
        page = min(max(page, 1), pages)
        rows = shown.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return render(
            "review_queue.html",
            base=base(request),
            apply=apply_now.panel(user),
            total=len(pending),
            shown_total=len(shown),
            reasons=reasons,
            sources=sources,
            reason=reason,
            source=source,
            rows=list(rows.itertuples(index=False)),
            page=page,
            pages=pages,
            first=(page - 1) * PAGE_SIZE + 1,
            last=(page - 1) * PAGE_SIZE + len(rows),
        )

    @pages.get("/review/pair", response_class=HTMLResponse)
    def review_pair(
        request: Request,
        a: str,
        b: str,
        reason: str = "",
        source: str = "",
        user: Any = Depends(requires(READ_REVIEW)),  # noqa: B008
    ) -> str:
        from golden_record.golden import StoreError
        from golden_record.golden.review_items import item_holding
        from golden_record.golden.stewardship import item, queue, side_by_side

        held = store()
        try:
            found = item(held, a, b)
        except StoreError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        table = side_by_side(found)
        # What the model compared, with its weight; the helper columns standardising
        # derives for blocking (sounds, digits, keys) weigh nothing here and are left out.
        table = table[table["match weight"].notna()]
        widest = max((abs(w) for w in table["match weight"].dropna()), default=1.0) or 1.0
        rows = []
        for record in table.to_dict("records"):
            weight = record["match weight"]
            total = record["field"] == "total match weight"
            rows.append(
                {
                    "field": record["field"],
                    "a": _shown(record[found["record_a"]]),
                    "b": _shown(record[found["record_b"]]),
                    "weight": None if weight is None or weight != weight else float(weight),
                    "width": 0
                    if weight is None or weight != weight
                    else round(120 * abs(weight) / widest),
                    "kind": "total" if total else "field",
                }
            )
        pending = filtered(queue(held, limit=None), reason, source)
        pairs = list(zip(pending["record_a"], pending["record_b"], strict=True))
        here = (found["record_a"], found["record_b"])
        after = [p for p in pairs if p != here]
        position = pairs.index(here) if here in pairs else -1
        following = pairs[position + 1] if 0 <= position < len(pairs) - 1 else None
        return render(
            "review_pair.html",
            base=base(request),
            item=found,
            held=_as_held(found["record_a"], found["record_b"]),
            rows=rows,
            reason=reason,
            source=source,
            remaining=len(pending),
            next_pair=following or (after[0] if after else None),
            review_item=item_holding(held, found["record_a"], found["record_b"]),
            in_words=in_words(found),
            form_token=form_token(user, DECIDE),
        )

    @pages.post("/review/decide")
    def review_decide(
        request: Request,
        record_a: str = Form(...),
        record_b: str = Form(...),
        decision: str = Form(...),
        reason: str = Form(...),
        reason_filter: str = Form(""),
        source_filter: str = Form(""),
        token: str = Form("", alias=FORM_TOKEN_FIELD),
        user: Any = Depends(requires(DECIDE_REVIEW)),  # noqa: B008
    ) -> Response:
        from golden_record.golden import StoreError
        from golden_record.golden.stewardship import decide, queue

        check_form(request, user, DECIDE, token)
        held = store()
        try:
            decide(held, record_a, record_b, decision, user.get_name(), reason)
        except StoreError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        pending = filtered(queue(held, limit=None), reason_filter, source_filter)
        filters = f"reason={quote(reason_filter)}&source={quote(source_filter)}"
        if pending.empty:
            target = f"{base(request)}review?{filters}"
        else:
            first = pending.iloc[0]
            target = (
                f"{base(request)}review/pair?a={quote(first['record_a'])}"
                f"&b={quote(first['record_b'])}&{filters}"
            )
        return RedirectResponse(url=target, status_code=303)

    @pages.post("/review/undo")
    def review_undo(
        request: Request,
        record_a: str = Form(...),
        record_b: str = Form(...),
        reason: str = Form(...),
        back_to: str = Form(""),
        token: str = Form("", alias=FORM_TOKEN_FIELD),
        user: Any = Depends(requires(DECIDE_REVIEW)),  # noqa: B008
    ) -> Response:
        from golden_record.golden import StoreError
        from golden_record.golden.stewardship import undo

        check_form(request, user, UNDO, token)
        try:
            undo(store(), record_a, record_b, user.get_name(), reason)
        except StoreError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        # Back to the golden record the steward undid it from (only a golden ID: never a
        # URL from the form, which would make this an open redirect).
        target = f"{base(request)}golden/{quote(back_to)}" if back_to.startswith("GR") else None
        return RedirectResponse(url=target or f"{base(request)}review", status_code=303)

    return pages


def in_words(found: dict) -> list[str]:
    """What weighed most for and against a review pair, in a steward's words, from the
    model of the night that scored it (nothing when that night's model is gone)."""
    import json

    from golden_record import paths
    from golden_record.matching.reasons import level_labels, reasons_in_words
    from golden_record.run import Run

    try:
        model_file = Run.of(found["run_key"], root=paths.data_root()).match.model
        model = json.loads(model_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return reasons_in_words(found["detail"], level_labels(model))


def _as_held(record_a: str, record_b: str) -> list[dict[str, str]]:
    """Both records as their systems hold them (the latest night's canonical records),
    field by field: what a steward checks against the systems themselves."""
    from golden_record import paths
    from golden_record.golden.held_records import field_values, latest_canonical

    held = latest_canonical(paths.data_root(), [record_a, record_b]).set_index("unique_id")
    sides = []
    for record in (record_a, record_b):
        row = {str(k): v for k, v in held.loc[record].items()} if record in held.index else {}
        # When the system last changed it, to the minute (2024-10-27 22:16).
        updated = _shown(row.get("source_updated_at"))[:16].replace("T", " ")
        sides.append(dict([*field_values(row), ("Updated in the system", updated)]))
    return [
        {"field": label, "a": sides[0][label], "b": sides[1][label]}
        for label in sides[0]
        if sides[0][label] or sides[1][label]
    ]


def _shown(value: Any) -> str:
    """A value as a steward reads it: nothing for a missing one (None, NaN, pandas' NA)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)
