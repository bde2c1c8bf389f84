"""Golden records for the CRM: presentable values, survivorship and the cross-reference.

The attribute choice itself is :mod:`golden_record.golden.survivorship` (rules in a TOML
file); golden IDs come from the golden store (:mod:`golden_record.golden`), which keeps
them across runs.
"""

from __future__ import annotations

import pandas as pd

from golden_record.extract.canonical import split_unique_ids, unique_ids
from golden_record.golden.survivorship import Survivorship, choose
from golden_record.keys import positions_in

# The standardised columns a golden record shows (validated forms) or is keyed by.
PRESENTED_FROM_STANDARDISED = (
    "unique_id",
    "date_of_birth",
    "email",
    "phone",
    "postcode",
    "uprn",
    "ni_number",
    "postcode_valid",
)


def presentable(canonical: pd.DataFrame, standardised: pd.DataFrame) -> pd.DataFrame:
    """Values as the CRM should show them: validated forms where we have them. The two
    frames are joined by ``unique_id``, whatever their order; every canonical record
    must have been standardised."""
    out = canonical.copy()
    out["unique_id"] = unique_ids(canonical).to_numpy()
    if standardised["unique_id"].duplicated().any():
        raise ValueError("standardised records hold a unique_id twice; standardise again")
    # By position in Arrow: reindexing by the Arrow-held ids, and each column through
    # NumPy objects and back, took a second of a quiet night's golden task at a million.
    position = positions_in(out["unique_id"], standardised["unique_id"])
    missing = position < 0
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} canonical record(s) were not standardised (first: "
            f"{out.loc[missing, 'unique_id'].iloc[0]}); standardise the same records"
        )
    matched = standardised.iloc[position]
    for column in ("title", "first_name", "middle_names", "surname", "town"):
        out[column] = canonical[column].str.strip().str.title()
    for column in PRESENTED_FROM_STANDARDISED[1:-1]:
        values = matched[column]
        # Text as pandas' default text type (what going through NumPy made of it).
        text = pd.api.types.is_string_dtype(values.dtype)
        out[column] = values.astype("str").array if text else values.to_numpy()
    # An invalid postcode is kept (flagged), never silently dropped; survivorship prefers
    # a valid one.
    out["postcode_valid"] = matched["postcode_valid"].to_numpy(dtype=bool)
    return out


def build_golden_records(
    records: pd.DataFrame, membership: pd.DataFrame, config: Survivorship | None = None
) -> pd.DataFrame:
    """``records``: presentable records; ``membership``: unique_id → golden_id."""
    # The golden ID added by position, not by a merge: a merge copies every column of
    # every record (a first night's), where this shares them.
    position = positions_in(records["unique_id"], membership["unique_id"])
    member = position >= 0
    data = (records if member.all() else records[member]).reset_index(drop=True)
    data = data.assign(golden_id=membership["golden_id"].to_numpy()[position[member]])
    if data["unique_id"].dtype != membership["unique_id"].dtype:
        # As a merge on ids held two ways gives them: as objects.
        data["unique_id"] = data["unique_id"].astype(object)
    golden = choose(data, config)
    systems = (
        data[["golden_id", "source_system"]]
        .drop_duplicates()
        .sort_values(["golden_id", "source_system"])
    )
    listed = (systems["source_system"].astype(object) + ",").groupby(systems["golden_id"]).sum()
    extra = pd.DataFrame(
        {
            "source_record_count": data.groupby("golden_id").size().astype("int64"),
            "source_systems": listed.str[:-1],
        }
    )
    return golden.merge(extra, left_on="golden_id", right_index=True)


def cross_reference(membership: pd.DataFrame) -> pd.DataFrame:
    """Every source record with its golden ID and the probability that put it there."""
    xref = membership.copy()
    xref["source_system"], xref["source_record_id"] = split_unique_ids(xref["unique_id"])
    return (
        xref[["source_system", "source_record_id", "golden_id", "cluster_match_probability"]]
        .sort_values(["source_system", "source_record_id"])
        .reset_index(drop=True)
    )
