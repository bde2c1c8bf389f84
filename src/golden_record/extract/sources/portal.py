"""Customer portal: resident accounts read from its JSON HTTP API.

``GET {base}/customers?page=N&page_size=M[&updated_since=ISO]`` with a bearer token;
each page answers ``{"data": [...], "page": N, "total_pages": T}``. Incremental by the
``updatedAt`` watermark. The API has no feed of deleted accounts, so deletions are seen
by walking the whole customer list for ids each night (``keys``), asking for the id
alone (``fields=id``, a sparse fieldset; an API that ignores it sends whole records, of
which only the id is kept).
"""

from __future__ import annotations

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
        response = client.get(url, params={**params, "page": page})
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
    return body


def _walk(settings: SourceSettings, params: dict) -> list[dict]:
    url = settings.portal_base_url.rstrip("/") + "/customers"
    headers = {"Authorization": f"Bearer {settings.portal_token}", "Accept": "application/json"}
    records: list[dict] = []
    with httpx.Client(headers=headers, timeout=settings.portal_timeout_seconds) as client:
        page, total_pages = 1, 1
        while page <= total_pages:
            body = _fetch_page(client, url, params, page)
            records.extend(body["data"])
            total_pages = int(body.get("total_pages") or page)
            if page >= MAX_PAGES:
                raise SourceDataError(SOURCE, f"more than {MAX_PAGES} pages", f"page {page}")
            page += 1
    return records


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
