"""Customer portal: resident accounts read from its JSON HTTP API.

``GET {base}/customers?page_size=M[&updated_since=ISO][&cursor=C]`` with a bearer token;
each page answers ``{"data": [...], "next_cursor": C | null}``, the accounts in
``(updatedAt, id)`` order. Paging is by that key (keyset paging), never by page number: a
page number counts places, so an account deleted or edited while the walk is under way
shifts every later account up one place and the one on the page boundary is never read,
while a cursor names the last account read and the walk resumes after it whatever
happened before it. An account edited during the walk moves to the end and is read
twice; the later reading is kept. Incremental by the ``updatedAt`` watermark. The API
has no feed of deleted accounts, so deletions are seen by walking the whole customer list
for ids each night (``keys``), asking for the id alone (``fields=id``, a sparse fieldset;
an API that ignores it sends whole records, of which only the id is kept).
"""

from __future__ import annotations

import json
from datetime import date

import httpx
import pandas as pd

from golden_record.extract.sources.errors import SourceDataError, SourceUnavailableError
from golden_record.extract.sources.text import iso_timestamp
from golden_record.settings import SourceSettings

SOURCE = "portal"
KEY_COLUMN = "id"
WATERMARK_COLUMN = "updatedAt"
KEY_PAGE_SIZE = 5000
MAX_PAGES = 100_000
_RAW_COLUMNS = {
    "id": "id",
    "email": "email",
    "name.given": "name_given",
    "name.family": "name_family",
    "dateOfBirth": "dateOfBirth",
    "phone": "phone",
    "address.line1": "address_line1",
    "address.line2": "address_line2",
    "address.city": "address_city",
    "address.postcode": "address_postcode",
    "address.uprn": "address_uprn",
    "updatedAt": "updatedAt",
}


def _fetch_page(client: httpx.Client, url: str, params: dict, page: int) -> dict:
    where = f"page {page}"
    try:
        response = client.get(url, params=params)
    except httpx.TimeoutException as exc:
        raise SourceUnavailableError(SOURCE, f"timed out: {exc}", where) from exc
    except httpx.HTTPError as exc:
        raise SourceUnavailableError(SOURCE, f"unreachable at {url}: {exc}", where) from exc
    if response.status_code in (401, 403):
        raise SourceUnavailableError(SOURCE, f"token refused (HTTP {response.status_code})", where)
    if response.status_code >= 500:
        raise SourceUnavailableError(SOURCE, f"server error HTTP {response.status_code}", where)
    if response.status_code != 200:
        raise SourceDataError(SOURCE, f"unexpected HTTP {response.status_code}", where)
    try:
        body = response.json()
    except ValueError as exc:
        raise SourceDataError(SOURCE, f"malformed JSON: {exc}", where) from exc
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceDataError(SOURCE, "response has no 'data' list", where)
    for index, record in enumerate(body["data"]):
        if not isinstance(record, dict) or not record.get("id"):
            raise SourceDataError(SOURCE, f"record {index} has no id", where)
    if "next_cursor" not in body:
        raise SourceDataError(
            SOURCE,
            "response has no 'next_cursor'; expected the next page's cursor, or null on the "
            "last page",
            where,
        )
    cursor = body["next_cursor"]
    if cursor is not None and (not isinstance(cursor, str) or not cursor):
        raise SourceDataError(
            SOURCE,
            f"'next_cursor' is {json.dumps(cursor)[:40]}; expected a non-empty string, or null "
            "on the last page",
            where,
        )
    return body


def _walk(settings: SourceSettings, params: dict) -> list[dict]:
    """Every account the API lists for ``params``, page by page after each cursor; where
    an account was read twice (edited during the walk), its later reading."""
    if not settings.portal_base_url:
        raise SourceUnavailableError(SOURCE, "no API address given (its connection's host)")
    url = settings.portal_base_url.rstrip("/") + "/customers"
    headers = {"Authorization": f"Bearer {settings.portal_token}", "Accept": "application/json"}
    records: dict[str, dict] = {}
    seen_cursors: set[str] = set()
    cursor: str | None = None
    with httpx.Client(headers=headers, timeout=settings.portal_timeout_seconds) as client:
        for page in range(1, MAX_PAGES + 1):
            body = _fetch_page(
                client, url, {**params, **({"cursor": cursor} if cursor else {})}, page
            )
            for record in body["data"]:
                records.pop(str(record["id"]), None)  # keep the later reading, at its place
                records[str(record["id"])] = record
            cursor = body["next_cursor"]
            if cursor is None:
                return list(records.values())
            if cursor in seen_cursors:
                raise SourceDataError(
                    SOURCE,
                    "'next_cursor' repeats an earlier page's; expected each page to move on",
                    f"page {page}",
                )
            seen_cursors.add(cursor)
    raise SourceDataError(SOURCE, f"more than {MAX_PAGES} pages", f"page {MAX_PAGES}")


def extract(settings: SourceSettings, watermark: str | None, run_date: date) -> pd.DataFrame:
    params: dict[str, str | int] = {"page_size": settings.portal_page_size}
    if watermark:
        params["updated_since"] = watermark
    records = _walk(settings, params)
    frame = pd.json_normalize(records) if records else pd.DataFrame()
    frame = frame.reindex(columns=list(_RAW_COLUMNS)).rename(columns=_RAW_COLUMNS)
    return frame.astype("string")


def keys(settings: SourceSettings) -> pd.Series:
    records = _walk(settings, {"page_size": KEY_PAGE_SIZE, "fields": "id"})
    return pd.Series([str(r["id"]) for r in records], name="id", dtype="string")


def to_canonical(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_system": SOURCE,
            "source_record_id": raw["id"],
            "title": pd.NA,
            "first_name": raw["name_given"],
            "middle_names": pd.NA,
            "surname": raw["name_family"],
            "date_of_birth": raw["dateOfBirth"],
            "email": raw["email"],
            "phone": raw["phone"],
            "address_line_1": raw["address_line1"],
            "address_line_2": raw["address_line2"],
            "address_line_3": pd.NA,
            "town": raw["address_city"],
            "postcode": raw["address_postcode"],
            "uprn": raw["address_uprn"],
            "ni_number": pd.NA,
            "source_updated_at": iso_timestamp(SOURCE, raw[WATERMARK_COLUMN], raw["id"]),
        }
    )
