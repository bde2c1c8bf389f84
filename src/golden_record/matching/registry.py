"""Versioned matching models: trained rarely, promoted deliberately, loaded nightly.

``data/models/`` holds one JSON per trained model, named by training date and data
fingerprint, with its metadata sidecar and parameter charts. ``data/models/current``
names the promoted model; the nightly run loads it. With none promoted, the first night
trains on its own records and promotes that model. An explicit ``GOLDEN_RECORD_MODEL``
wins over both (the demo points it at the packaged model).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record import paths
from golden_record.atomic import write_text
from golden_record.matching.choosing import train_checked
from golden_record.matching.inference import ModelError, load_model
from golden_record.matching.model import DEFAULT_MODEL_PATH
from golden_record.matching.training import fingerprint, metadata_path


def models_dir(root: Path | None = None) -> Path:
    return (root or paths.data_root()) / "models"


def train_version(
    records: pd.DataFrame,
    trained_on: str,
    run_date: date,
    root: Path | None = None,
    seed: int = 42,
    db_api: Any = None,
) -> dict:
    """Train on standardised records and write a new model version (not yet promoted)."""
    name = f"golden_model_{run_date:%Y%m%d}_{fingerprint(records)[:10]}"
    model_path = models_dir(root) / f"{name}.json"
    # Checked against the packaged model: one that learnt households is not used.
    meta = train_checked(records, model_path, seed=seed, db_api=db_api, charts=True)
    meta |= {"trained_on": trained_on, "model_file": model_path.name}
    write_text(json.dumps(meta, indent=2) + "\n", metadata_path(model_path))
    return meta


def promote(model_file: str, root: Path | None = None) -> Path:
    """Make a trained model the one nightly runs load, after checking it loads."""
    model_path = models_dir(root) / model_file
    load_model(model_path)
    write_text(model_file + "\n", models_dir(root) / "current")
    return model_path


def resolve(explicit: Path | None = None, root: Path | None = None) -> Path | None:
    """The model a nightly run should load: the explicit one, else the promoted one, else
    None (the run then trains on its own records and promotes that model)."""
    if explicit is not None:
        return Path(explicit)
    pointer = models_dir(root) / "current"
    if pointer.is_file():
        model_path = models_dir(root) / pointer.read_text().strip()
        if not model_path.is_file():
            raise ModelError(f"{pointer} names {model_path.name}, which does not exist")
        return model_path
    return None


def packaged() -> Path:
    """The model shipped with the package, trained on a generated council (the demo's)."""
    return DEFAULT_MODEL_PATH
