"""Source and CRM settings from Airflow connections (falling back to the environment).

Connection ids and what each holds:

* each ``sql`` source's declared connection (``golden_revenues``, ``golden_housing`` for the
  sample council: ``golden_record/extract/sources.toml``) and ``golden_crm``: ``extra.url``
  is a SQLAlchemy URL.
* ``golden_store`` (optional): ``extra.url``, the golden store; a SQLite file under the
  data root when it is not defined.
* the ``csv_drop`` source's (``golden_waste``): ``extra.path`` is the CSV drop folder;
  ``extra.complete_when`` (``stable``, the default, or ``marker``) and
  ``extra.stable_seconds`` (30) say when a drop file is whole.
* each ``http_json`` source's declared connection (``golden_portal``): ``host``,
  ``port``, ``schema`` (http or https), ``password`` is the bearer token,
  ``extra.base_path`` the API prefix (default ``/api/v1``), ``extra.page_size`` (500) and
  ``extra.timeout`` (30 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from golden_record.settings import ApiSettings, DropSettings, SettingsError, SourceSettings

CRM, STORE = (
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


def _base_url(conn: Any) -> str:
    scheme = conn.schema or "http"
    port = f":{conn.port}" if conn.port else ""
    base_path = (conn.extra_dejson or {}).get("base_path", "/api/v1")
    return f"{scheme}://{conn.host}{port}{base_path}"


def _api(conn_id: str) -> ApiSettings:
    api = _connection(conn_id)
    extra = api.extra_dejson or {}
    if not api.password:
        raise SettingsError(f"Airflow connection {conn_id!r} has no password (the bearer token)")
    return ApiSettings(
        base_url=_base_url(api),
        token=api.password,
        page_size=int(extra.get("page_size", 500)),
        timeout_seconds=float(extra.get("timeout", 30)),
    )


def _drop(conn_id: str) -> DropSettings:
    extra = _connection(conn_id).extra_dejson or {}
    return DropSettings(
        folder=Path(_extra(conn_id, "path")),
        complete_when=str(extra.get("complete_when", "stable")),
        stable_seconds=float(extra.get("stable_seconds", 30)),
    )


def source_settings() -> SourceSettings:
    """Where each declared source is, from the connection its declaration names."""
    from golden_record.extract.declaration import declared_sources

    declared = declared_sources().sources
    settings: dict[str, Any] = {
        "database_urls": {s.name: _extra(s.connection, "url") for s in declared if s.kind == "sql"},
        "apis": {s.name: _api(s.connection) for s in declared if s.kind == "http_json"},
        "drops": {s.name: _drop(s.connection) for s in declared if s.kind == "csv_drop"},
    }
    return SourceSettings(**settings)


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
