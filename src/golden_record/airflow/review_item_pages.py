"""The review queue by the people it affects (:mod:`golden_record.golden.review_items`):
the items, an item's page with every source record of its golden records as the
systems hold them and each doubtful link, claiming an item, and deciding every pair of a
filtered queue at once.

Reading needs the review permission's GET, every post its POST
(:mod:`golden_record.airflow.permissions`); each form carries its token
(:mod:`golden_record.airflow.web`). Claims and decisions are recorded under the
signed-in Airflow user's name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from golden_record.airflow.permissions import DECIDE_REVIEW, READ_REVIEW, requires
from golden_record.airflow.web import FORM_TOKEN_FIELD, base, check_form, form_token, render, store

CLAIM = "review/claim"
DECIDE_ALL = "review/decide-all"


def _shown(items: list, reason: str, source: str) -> list:
    return [
        item
        for item in items
        if (not reason or reason in set(item.pairs["reason"]))
        and (not source or source in item.sources())
    ]


def filtered_pairs(items: list, reason: str, source: str) -> pd.DataFrame:
    """The undecided pairs the queue shows with these filters (the pair-by-pair queue's
    own filter: those of the reason, and touching a record of the source)."""
    from golden_record.airflow.review_pages import filtered

    frames = [item.pairs for item in items]
    return (
        filtered(pd.concat(frames, ignore_index=True), reason, source)
        if frames
        else (pd.DataFrame())
    )


def _held_rows(item: Any) -> list[dict[str, Any]]:
    """Every source record of the item as its system holds it, by golden record."""
    from golden_record import paths
    from golden_record.golden.held_records import field_values, latest_canonical

    held = latest_canonical(paths.data_root(), list(item.records)).set_index("unique_id")
    in_links = set(item.pairs["record_a"]) | set(item.pairs["record_b"])
    rows = []
    for record in sorted(item.records, key=lambda r: (item.golden_of[r], r)):
        values = {str(k): v for k, v in held.loc[record].items()} if record in held.index else {}
        rows.append(
            {
                "golden_id": item.golden_of[record],
                "record": record,
                "in_link": record in in_links,
                "fields": dict(field_values(values)),
            }
        )
    return rows


def router() -> APIRouter:
    """These pages' routes, for the plugin's app to include."""
    pages = APIRouter()

    @pages.get("/review/items", response_class=HTMLResponse)
    def review_items_page(
        request: Request,
        reason: str = "",
        source: str = "",
        user: Any = Depends(requires(READ_REVIEW)),  # noqa: B008
    ) -> str:
        from golden_record.airflow import apply_now
        from golden_record.golden.review_items import review_items

        items = review_items(store())
        shown = _shown(items, reason, source)
        pairs = filtered_pairs(items, reason, source)
        reasons = pd.concat([i.pairs["reason"] for i in items]).value_counts() if items else None
        return render(
            "review_items.html",
            base=base(request),
            apply=apply_now.panel(user),
            items=shown,
            total=len(items),
            me=user.get_name(),
            reasons=[] if reasons is None else list(reasons.items()),
            sources=sorted({s for i in items for s in i.sources()}),
            reason=reason,
            source=source,
            filtered=bool(reason or source),
            pairs_shown=len(pairs),
            decide_all_token=form_token(user, DECIDE_ALL),
        )

    @pages.get("/review/item/{item_id}", response_class=HTMLResponse)
    def review_item_page(
        request: Request,
        item_id: str,
        user: Any = Depends(requires(READ_REVIEW)),  # noqa: B008
    ) -> str:
        from golden_record.airflow.review_pages import in_words
        from golden_record.golden import StoreError
        from golden_record.golden.review_items import find_item
        from golden_record.golden.stewardship import item as detail

        held = store()
        try:
            item = find_item(held, item_id)
        except StoreError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        rows = _held_rows(item)
        said = {
            (a, b): in_words(detail(held, a, b))
            for a, b in zip(
                item.pairs["record_a"].astype(str), item.pairs["record_b"].astype(str), strict=True
            )
        }
        labels = list(dict.fromkeys(label for row in rows for label in row["fields"]))
        labels = [label for label in labels if any(row["fields"].get(label) for row in rows)]
        return render(
            "review_item.html",
            base=base(request),
            item=item,
            rows=rows,
            labels=labels,
            pairs=list(item.pairs.itertuples(index=False)),
            said=said,
            me=user.get_name(),
            claim_token=form_token(user, CLAIM),
        )

    @pages.post("/review/claim")
    def review_claim(
        request: Request,
        item_id: str = Form(...),
        action: str = Form("claim"),
        token: str = Form("", alias=FORM_TOKEN_FIELD),
        user: Any = Depends(requires(DECIDE_REVIEW)),  # noqa: B008
    ) -> Response:
        from golden_record.golden import StoreError
        from golden_record.golden.review_items import claim, release

        check_form(request, user, CLAIM, token)
        if action not in ("claim", "take over", "release"):
            raise HTTPException(status_code=400, detail=f"no such action {action!r}")
        try:
            if action == "release":
                release(store(), item_id, user.get_name())
            else:
                claim(store(), item_id, user.get_name(), take_over=action == "take over")
        except StoreError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        return RedirectResponse(url=f"{base(request)}review/item/{quote(item_id)}", status_code=303)

    @pages.post("/review/decide-all")
    def review_decide_all(
        request: Request,
        decision: str = Form(...),
        reason: str = Form(...),
        pairs_seen: int = Form(...),
        reason_filter: str = Form(""),
        source_filter: str = Form(""),
        token: str = Form("", alias=FORM_TOKEN_FIELD),
        user: Any = Depends(requires(DECIDE_REVIEW)),  # noqa: B008
    ) -> Response:
        from golden_record.golden import StoreError
        from golden_record.golden.review_items import review_items
        from golden_record.golden.stewardship import decide_many

        check_form(request, user, DECIDE_ALL, token)
        if not (reason_filter or source_filter):
            raise HTTPException(
                status_code=400,
                detail="a decision for many pairs needs a filter (a reason or a source): "
                "the whole queue is never decided at once",
            )
        held = store()
        pairs = filtered_pairs(review_items(held), reason_filter, source_filter)
        if len(pairs) != pairs_seen:
            raise HTTPException(
                status_code=409,
                detail=f"the queue changed since the page was shown: {len(pairs)} pairs match "
                f"these filters now, not {pairs_seen}; nothing was decided, look again",
            )
        try:
            decide_many(
                held,
                list(zip(pairs["record_a"], pairs["record_b"], strict=True)),
                decision,
                user.get_name(),
                reason,
            )
        except StoreError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        return RedirectResponse(url=f"{base(request)}review/items", status_code=303)

    return pages
