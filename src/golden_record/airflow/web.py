"""What the plugin's pages share: their prefix, templates, the golden store, and the
token each form carries against cross-site posts.

A browser sends the Airflow sign-in cookie with any request to the API server, including
a form another site posts; checking ``Origin`` alone fails open when a browser or proxy
leaves it out. So every form carries a token bound to the signed-in user and to what the
form does (an HMAC keyed by the API server's own JWT secret, valid for
``FORM_TOKEN_HOURS``), and a post signed in by the cookie must return it. A request
signed in by an ``Authorization`` header (an API client) needs none: no browser adds
that header to another site's form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

# Where Airflow's API server mounts the plugin's app (golden_record.airflow.plugin).
URL_PREFIX = "/golden-record"
TEMPLATES = Path(__file__).with_name("templates")
FORM_TOKEN_HOURS = 12
FORM_TOKEN_FIELD = "form_token"
FORM_TOKEN_HEADER = "X-Golden-Record-Form-Token"
# Where the API server has no JWT secret configured (it then makes one per process), the
# tokens are signed with one of our own per process too: a restart asks for a reload.
_FALLBACK_KEY = secrets.token_bytes(32)


def base(request: Request) -> str:
    """The app's own prefix as the browser sees it (``/golden-record/``)."""
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{root}/"


def render(name: str, **values: Any) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template(name).render(**values)


def store() -> Any:
    """The golden store the nights write (503 while there is none yet)."""
    from golden_record import paths
    from golden_record.airflow import connections
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.golden.store import StoreError

    url = connections.store_url() or default_store_url(paths.data_root())
    try:
        return GoldenStore(url, must_exist=True)
    except StoreError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


def _key() -> bytes:
    from airflow.configuration import conf

    secret = conf.get("api_auth", "jwt_secret", fallback="") or ""
    material = secret.encode() if secret else _FALLBACK_KEY
    return hashlib.sha256(b"golden-record form token\x00" + material).digest()


def _signature(user_name: str, purpose: str, expires: int) -> str:
    message = f"{user_name}\x00{purpose}\x00{expires}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def form_token(user: Any, purpose: str, now: float | None = None) -> str:
    """A token for one form (``purpose``, e.g. ``review/decide``) of this user."""
    expires = int((now or time.time()) + FORM_TOKEN_HOURS * 3600)
    return f"{expires}.{_signature(user.get_name(), purpose, expires)}"


def _token_holds(token: str, user: Any, purpose: str) -> bool:
    expires_text, dot, signature = token.partition(".")
    if not dot or not expires_text.isdigit() or int(expires_text) < time.time():
        return False
    expected = _signature(user.get_name(), purpose, int(expires_text))
    return hmac.compare_digest(signature, expected)


def signed_in_by_header(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def check_form(request: Request, user: Any, purpose: str, token: str | None) -> None:
    """Refuse (403, audited) a post from another site: a cookie-signed post without this
    user's token for this form, or one whose ``Origin`` or ``Referer`` names another host."""
    from golden_record.airflow.permissions import audit_refusal

    origin = request.headers.get("origin") or request.headers.get("referer")
    elsewhere = bool(origin) and urlsplit(origin).netloc != request.headers.get("host")
    needs_token = not signed_in_by_header(request)
    if elsewhere or (needs_token and not _token_holds(token or "", user, purpose)):
        detail = (
            "this form is posted from the plugin's own page (its form token was missing, "
            "expired or not yours, or the request came from another site); reload the page "
            "and try again"
        )
        audit_refusal(request, user, f"form {purpose}", detail)
        raise HTTPException(status_code=403, detail=detail)
