"""A small stand-in for the customer portal's JSON API, serving generated data.

Speaks the same contract the portal extractor reads: bearer token, paging, an
``updated_since`` filter and a ``fields`` sparse fieldset. The demo and the tests run it
on 127.0.0.1. It serves its customers file as it is now (read again when it changes), so
a test can edit or delete accounts between nights as a real portal's users would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
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


class _Customers:
    """The customers file's records in feed order, re-read when the file changes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.stamp: tuple[int, int] | None = None
        self.rows: list[dict] = []

    def ordered(self) -> list[dict]:
        with self.lock:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self.stamp:
                rows = load_customers(self.path)
                self.rows = sorted(rows, key=lambda c: (c["updatedAt"], c["id"]))
                self.stamp = stamp
            return self.rows


def _handler(customers: _Customers, token: str) -> type[BaseHTTPRequestHandler]:

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
                page = int(query.get("page", ["1"])[0])
                size = min(int(query.get("page_size", ["500"])[0]), MAX_PAGE_SIZE)
            except ValueError:
                self._send(HTTPStatus.BAD_REQUEST, {"error": "page and page_size are integers"})
                return
            if page < 1 or size < 1:
                self._send(HTTPStatus.BAD_REQUEST, {"error": "page and page_size start at 1"})
                return
            since = query.get("updated_since", [None])[0]
            rows = [c for c in customers.ordered() if since is None or c["updatedAt"] > since]
            total_pages = max(1, -(-len(rows) // size))
            data = rows[(page - 1) * size : page * size]
            fields = query.get("fields", [None])[0]
            if fields:
                wanted = fields.split(",")
                data = [{k: c[k] for k in wanted if k in c} for c in data]
            self._send(
                HTTPStatus.OK,
                {
                    "data": data,
                    "page": page,
                    "page_size": size,
                    "total_pages": total_pages,
                    "total": len(rows),
                },
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
    customers_file: Path, token: str, host: str = "127.0.0.1", port: int = 0
) -> RunningPortal:
    server = ThreadingHTTPServer((host, port), _handler(_Customers(customers_file), token))
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
