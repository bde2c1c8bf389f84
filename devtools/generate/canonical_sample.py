"""Canonical person records for a generated council, read through the real extractors.

Used to train the packaged model reproducibly and to feed the benchmarks: the declared
sources are read exactly as the nightly DAG reads them (the portal over HTTP from a
local server), then mapped to the canonical contract.
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from pathlib import Path

import pandas as pd

from devtools.generate.portal_api import running_portal
from devtools.generate.sample_sources import sample_source_settings
from golden_record.extract.canonical import conform
from golden_record.extract.declaration import source_systems
from golden_record.extract.sources import extractor
from golden_record.settings import ApiSettings


def canonical_records(sample_dir: Path) -> pd.DataFrame:
    sample_dir = Path(sample_dir)
    as_of = date.fromisoformat(json.loads((sample_dir / "manifest.json").read_text())["as_of"])
    token = secrets.token_urlsafe(16)
    frames = []
    with running_portal(sample_dir / "portal" / "customers.jsonl", token) as portal:
        settings = sample_source_settings(
            sample_dir, ApiSettings(base_url=portal.base_url, token=token, page_size=5000)
        )
        for source in source_systems():
            module = extractor(source)
            raw = module.extract(settings, None, as_of)
            frames.append(conform(module.to_canonical(raw), source))
    return pd.concat(frames, ignore_index=True)
