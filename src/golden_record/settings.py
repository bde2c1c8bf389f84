"""Where the source systems are, read from configuration, never from code.

Outside Airflow the settings come from environment variables (``GOLDEN_RECORD_*``); inside
Airflow the plugin builds the same object from Airflow connections.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class SourceSettings:
    revenues_url: str
    housing_url: str
    waste_drop_dir: Path
    portal_base_url: str
    portal_token: str
    portal_page_size: int = 500
    portal_timeout_seconds: float = 30.0


def _require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is not set")
    return value


def source_settings_from_env() -> SourceSettings:
    return SourceSettings(
        revenues_url=_require("GOLDEN_RECORD_REVENUES_URL"),
        housing_url=_require("GOLDEN_RECORD_HOUSING_URL"),
        waste_drop_dir=Path(_require("GOLDEN_RECORD_WASTE_DROP")),
        portal_base_url=_require("GOLDEN_RECORD_PORTAL_URL"),
        portal_token=_require("GOLDEN_RECORD_PORTAL_TOKEN"),
        portal_page_size=int(os.environ.get("GOLDEN_RECORD_PORTAL_PAGE_SIZE", "500")),
        portal_timeout_seconds=float(os.environ.get("GOLDEN_RECORD_PORTAL_TIMEOUT", "30")),
    )
