"""Source and CRM settings from Airflow connections (falling back to the environment).

Connection ids and what each holds:

* ``golden_revenues``, ``golden_housing``, ``golden_crm``: ``extra.url`` is a SQLAlchemy URL.
* ``golden_store`` (optional): ``extra.url``, the golden store; a SQLite file under the
  data root when it is not defined.
* ``golden_waste``: ``extra.path`` is the CSV drop folder; ``extra.complete_when``
  (``stable``, the default, or ``marker``) and ``extra.stable_seconds`` (30) say when a
  drop file is whole.
* ``golden_portal``: ``host``, ``port``, ``schema`` (http or https), ``password`` is the
  bearer token, ``extra.base_path`` the API prefix (default ``/api/v1``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from golden_record.settings import SettingsError, SourceSettings

REVENUES, HOUSING, WASTE, PORTAL, CRM, STORE = (
    "golden_revenues",
    "golden_housing",
    "golden_waste",
    "golden_portal",
    "golden_crm",
    "golden_store",
)


def _connection(conn_id: str) -> Any:
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception as exc:  # Airflow raises its own not-found type per backend
        raise SettingsError(f"Airflow connection {conn_id!r} is not defined: {exc}") from exc


def _extra(conn_id: str, key: str) -> str:
    value = (_connection(conn_id).extra_dejson or {}).get(key)
    if not value:
        raise SettingsError(f"Airflow connection {conn_id!r} has no extra {key!r}")
    return str(value)


def portal_base_url() -> str:
    conn = _connection(PORTAL)
    scheme = conn.schema or "http"
    port = f":{conn.port}" if conn.port else ""
    base_path = (conn.extra_dejson or {}).get("base_path", "/api/v1")
    return f"{scheme}://{conn.host}{port}{base_path}"


def source_settings() -> SourceSettings:
    portal = _connection(PORTAL)
    extra = portal.extra_dejson or {}
    if not portal.password:
        raise SettingsError(f"Airflow connection {PORTAL!r} has no password (the bearer token)")
    waste = _connection(WASTE).extra_dejson or {}
    return SourceSettings(
        revenues_url=_extra(REVENUES, "url"),
        housing_url=_extra(HOUSING, "url"),
        waste_drop_dir=Path(_extra(WASTE, "path")),
        waste_complete_when=str(waste.get("complete_when", "stable")),
        waste_stable_seconds=float(waste.get("stable_seconds", 30)),
        portal_base_url=portal_base_url(),
        portal_token=portal.password,
        portal_page_size=int(extra.get("page_size", 500)),
        portal_timeout_seconds=float(extra.get("timeout", 30)),
    )


def crm_url() -> str:
    return _extra(CRM, "url")


def crm_url_or_none() -> str | None:
    """The CRM's URL, or None where no CRM connection is defined (a page can still answer
    from the golden store alone)."""
    try:
        return crm_url()
    except SettingsError:
        return None


def store_url() -> str | None:
    """The golden store's URL, or None for the embedded default (a SQLite file in data/)."""
    try:
        return _extra(STORE, "url")
    except SettingsError:
        return None
