"""The ``http_json`` kind: a source system read from a JSON HTTP API, cursor-paged, as its
declaration says (the sample council's portal, a library system's borrowers).

``GET {base}{endpoint}?{page_size}=M[&{since}=ISO][&{cursor}=C]`` with a bearer token;
each page answers ``{"<records>": [...], "<next_cursor>": C | null}`` (the declaration
names each of these), the records in watermark order. Paging is by a cursor naming the
last record read (keyset paging), never by page number: a page number counts places, so
a record deleted or edited while the walk is under way shifts every later record up one
place and the one on the page boundary is never read, while a cursor names the last
record read and the walk resumes after it whatever happened before it. A record edited
during the walk moves to the end and is read twice; the later reading is kept.
Incremental by the declared watermark. An API with no feed of deleted records has its
deletions seen by walking the whole list for keys each night (``keys``), asking for the
key alone where the API allows (the declaration's ``keys_params``, a sparse fieldset; an
API that ignores it sends whole records, of which only the key is kept).

Nested fields land flattened with ``_`` between levels (``name.given`` as
``name_given``), and only the fields the declaration reads (its key, watermark and
mapped columns): what the council does not use is not kept. A field no record carries
lands empty, a JSON API leaving out what it does not hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pandas as pd

from golden_record.extract.sources.declared import DeclaredSource
from golden_record.extract.sources.errors import SourceDataError, SourceUnavailableError
from golden_record.settings import ApiSettings, SourceSettings

KEY_PAGE_SIZE = 5000
MAX_PAGES = 100_000


@dataclass(frozen=True)
class HttpJsonSource(DeclaredSource):
    def _api(self, settings: SourceSettings) -> ApiSettings:
        api = settings.apis.get(self.SOURCE)
        if api is None or not api.base_url:
            raise SourceUnavailableError(
                self.SOURCE,
                f"no API address given (the Airflow connection {self.declaration.connection!r})",
            )
        return api

    def extract(
        self, settings: SourceSettings, watermark: str | None, run_date: date
    ) -> pd.DataFrame:
        api, http = self._api(settings), self.declaration.http
        params: dict[str, str | int] = {http.page_size_param: api.page_size}
        if watermark:
            params[http.since_param] = watermark
        records = self._walk(api, params)
        frame = pd.json_normalize(records, sep="_") if records else pd.DataFrame()
        return frame.reindex(columns=self.landed_columns).astype("string")

    def keys(self, settings: SourceSettings) -> pd.Series:
        http = self.declaration.http
        params = {http.page_size_param: KEY_PAGE_SIZE, **http.keys_params}
        records = self._walk(self._api(settings), params)
        return pd.Series(
            [str(r[self.KEY_COLUMN]) for r in records], name=self.KEY_COLUMN, dtype="string"
        )

    def _walk(self, api: ApiSettings, params: dict) -> list[dict]:
        """Every record the API lists for ``params``, page by page after each cursor; where
        a record was read twice (edited during the walk), its later reading."""
        http, key = self.declaration.http, self.KEY_COLUMN
        url = api.base_url.rstrip("/") + http.endpoint
        headers = {"Authorization": f"Bearer {api.token}", "Accept": "application/json"}
        records: dict[str, dict] = {}
        seen_cursors: set[str] = set()
        cursor: str | None = None
        with httpx.Client(headers=headers, timeout=api.timeout_seconds) as client:
            for page in range(1, MAX_PAGES + 1):
                asked = {**params, **({http.cursor_param: cursor} if cursor else {})}
                body = self._fetch_page(client, url, asked, page)
                for record in body[http.records_field]:
                    records.pop(str(record[key]), None)  # the later reading, at its place
                    records[str(record[key])] = record
                cursor = body[http.cursor_field]
                if cursor is None:
                    return list(records.values())
                if cursor in seen_cursors:
                    raise SourceDataError(
                        self.SOURCE,
                        f"'{http.cursor_field}' repeats an earlier page's; expected each page "
                        "to move on",
                        f"page {page}",
                    )
                seen_cursors.add(cursor)
        raise SourceDataError(self.SOURCE, f"more than {MAX_PAGES} pages", f"page {MAX_PAGES}")

    def _fetch_page(self, client: httpx.Client, url: str, params: dict, page: int) -> Any:
        source, http, where = self.SOURCE, self.declaration.http, f"page {page}"
        try:
            response = client.get(url, params=params)
        except httpx.TimeoutException as exc:
            raise SourceUnavailableError(source, f"timed out: {exc}", where) from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailableError(source, f"unreachable at {url}: {exc}", where) from exc
        if response.status_code in (401, 403):
            raise SourceUnavailableError(
                source, f"token refused (HTTP {response.status_code})", where
            )
        if response.status_code >= 500:
            raise SourceUnavailableError(source, f"server error HTTP {response.status_code}", where)
        if response.status_code != 200:
            raise SourceDataError(source, f"unexpected HTTP {response.status_code}", where)
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceDataError(source, f"malformed JSON: {exc}", where) from exc
        if not isinstance(body, dict) or not isinstance(body.get(http.records_field), list):
            raise SourceDataError(source, f"response has no '{http.records_field}' list", where)
        for index, record in enumerate(body[http.records_field]):
            if not isinstance(record, dict) or not record.get(self.KEY_COLUMN):
                raise SourceDataError(source, f"record {index} has no {self.KEY_COLUMN}", where)
        if http.cursor_field not in body:
            raise SourceDataError(
                source,
                f"response has no '{http.cursor_field}'; expected the next page's cursor, or "
                "null on the last page",
                where,
            )
        cursor = body[http.cursor_field]
        if cursor is not None and (not isinstance(cursor, str) or not cursor):
            raise SourceDataError(
                source,
                f"'{http.cursor_field}' is {json.dumps(cursor)[:40]}; expected a non-empty "
                "string, or null on the last page",
                where,
            )
        return body
