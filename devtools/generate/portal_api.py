"""A small stand-in for the customer portal's JSON API, serving generated data.

Speaks the same contract the portal extractor reads: bearer token, keyset paging (a
``cursor`` naming the last account of the page before, ``next_cursor`` in each answer),
an ``updated_since`` filter and a ``fields`` sparse fieldset; page numbers (``page``,
``total_pages``) for other clients. The demo and the tests run it on 127.0.0.1. It
serves its customers file as it is now (read again when it changes), so a test can edit
or delete accounts between nights, or between the pages of one walk (``after_page``), as
a real portal's users would.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

MAX_PAGE_SIZE = 5000


def load_customers(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# Sorts after any account id: ``(since, _LAST)`` is after every account updated at
# ``since``.
_LAST = "\U0010ffff"


class _Customers:
    """The customers file's records in feed order ``(updatedAt, id)``, re-read when the
    file changes; a page is found by bisecting the order (a walk of a county's accounts
    is hundreds of pages)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.stamp: tuple[int, int] | None = None
        self.rows: list[dict] = []
        self.keys: list[tuple[str, str]] = []

    def ordered(self) -> tuple[list[dict], list[tuple[str, str]]]:
        with self.lock:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self.stamp:
                rows = load_customers(self.path)
                self.rows = sorted(rows, key=lambda c: (c["updatedAt"], c["id"]))
                self.keys = [(c["updatedAt"], c["id"]) for c in self.rows]
                self.stamp = stamp
            return self.rows, self.keys

    def after(self, since: str | None, cursor: tuple[str, str] | None) -> list[dict]:
        """The accounts updated after ``since`` and after ``cursor``, in feed order."""
        rows, keys = self.ordered()
        start = bisect.bisect_right(keys, (since, _LAST)) if since is not None else 0
        if cursor is not None:
            start = max(start, bisect.bisect_right(keys, cursor))
        return rows[start:]


def encode_cursor(record: dict) -> str:
    """The cursor after ``record``: its place in the feed order, ``(updatedAt, id)``."""
    key = json.dumps([record["updatedAt"], record["id"]]).encode()
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    padded = cursor + "=" * (-len(cursor) % 4)
    updated, record_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    return str(updated), str(record_id)


def _handler(
    customers: _Customers, token: str, after_page: Callable[[dict], None] | None
) -> type[BaseHTTPRequestHandler]:

    class PortalHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:  # noqa: A002
            # Request lines carry no personal data, but keep test and demo output quiet.
            pass

        def _send(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            url = urlparse(self.path)
            if url.path.rstrip("/") != "/api/v1/customers":
                self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            if self.headers.get("Authorization") != f"Bearer {token}":
                self._send(HTTPStatus.UNAUTHORIZED, {"error": "invalid token"})
                return
            query = parse_qs(url.query)
            try:
                size = min(int(query.get("page_size", ["500"])[0]), MAX_PAGE_SIZE)
                page = int(query["page"][0]) if "page" in query else None
                after = decode_cursor(query["cursor"][0]) if "cursor" in query else None
            except (ValueError, TypeError, binascii.Error):
                self._send(HTTPStatus.BAD_REQUEST, {"error": "bad page, page_size or cursor"})
                return
            if size < 1 or (page is not None and page < 1):
                self._send(HTTPStatus.BAD_REQUEST, {"error": "page and page_size start at 1"})
                return
            since = query.get("updated_since", [None])[0]
            if page is not None:  # page numbers, for clients that know no better
                rows = customers.after(since, None)
                data = rows[(page - 1) * size : page * size]
                body: dict[str, object] = {
                    "page": page,
                    "total_pages": max(1, -(-len(rows) // size)),
                }
            else:
                rows = customers.after(since, after)
                data = rows[:size]
                more = len(rows) > size
                body = {"next_cursor": encode_cursor(data[-1]) if more else None}
            fields = query.get("fields", [None])[0]
            if fields:
                wanted = fields.split(",")
                data = [{k: c[k] for k in wanted if k in c} for c in data]
            if after_page is not None:
                # The page is read; what the hook changes happens before the next request.
                after_page(query)
            self._send(
                HTTPStatus.OK,
                {"data": data, "page_size": size, "total": len(rows), **body},
            )

    return PortalHandler


@dataclass
class RunningPortal:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/api/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_portal(
    customers_file: Path,
    token: str,
    host: str = "127.0.0.1",
    port: int = 0,
    after_page: Callable[[dict], None] | None = None,
) -> RunningPortal:
    """Serve ``customers_file``; ``after_page`` (tests) is called with each request's
    query once its page is read, before it is sent."""
    server = ThreadingHTTPServer(
        (host, port), _handler(_Customers(customers_file), token, after_page)
    )
    thread = threading.Thread(target=server.serve_forever, name="portal-api", daemon=True)
    thread.start()
    return RunningPortal(server, thread)


@contextmanager
def running_portal(customers_file: Path, token: str, port: int = 0) -> Iterator[RunningPortal]:
    portal = start_portal(customers_file, token, port=port)
    try:
        yield portal
    finally:
        portal.stop()
