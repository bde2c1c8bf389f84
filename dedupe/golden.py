"""Build one golden record per cluster, choosing each attribute by source trust and recency.

Each attribute group (name, date of birth, address, email, phone, NI number) is taken
whole from one source record, and the record that supplied it is kept beside it, so that
every golden value can be traced to its source (UK GDPR accuracy principle).
"""

from __future__ import annotations

import hashlib

import pandas as pd

# Lower rank = more trusted for that attribute. Housing verifies identity at sign-up;
# the portal is typed by residents themselves and is best for their own contact details.
TRUST: dict[str, dict[str, int]] = {
    "name": {"housing": 0, "revenues": 1, "portal": 2, "waste": 3},
    "date_of_birth": {"housing": 0, "revenues": 1, "portal": 2, "waste": 3},
    "address": {"revenues": 0, "housing": 1, "waste": 2, "portal": 3},
    "email": {"portal": 0, "housing": 1, "revenues": 2, "waste": 3},
    "phone": {"portal": 0, "housing": 1, "revenues": 2, "waste": 3},
    "ni_number": {"housing": 0, "revenues": 1, "portal": 2, "waste": 3},
}

ATTRIBUTE_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("title", "first_name", "middle_names", "surname"),
    "date_of_birth": ("date_of_birth",),
    "address": ("address_line_1", "address_line_2", "address_line_3", "town", "postcode", "uprn"),
    "email": ("email",),
    "phone": ("phone",),
    "ni_number": ("ni_number",),
}
# The column whose presence makes a record a candidate to supply the attribute.
KEY_COLUMN = {
    "name": "surname",
    "date_of_birth": "date_of_birth",
    "address": "address_line_1",
    "email": "email",
    "phone": "phone",
    "ni_number": "ni_number",
}

GOLDEN_COLUMNS = (
    "golden_id",
    *[c for columns in ATTRIBUTE_COLUMNS.values() for c in columns],
    *[f"{attribute}_source" for attribute in ATTRIBUTE_COLUMNS],
    "source_record_count",
    "source_systems",
)


def golden_id_for(member_ids: pd.Series) -> str:
    """An opaque ID derived from the cluster's lowest member (persistent IDs: issue 4)."""
    return "GR" + hashlib.sha256(min(member_ids).encode()).hexdigest()[:14].upper()


def presentable(canonical: pd.DataFrame, standardised: pd.DataFrame) -> pd.DataFrame:
    """Values as the CRM should show them: validated forms where we have them."""
    out = canonical.copy()
    out["unique_id"] = standardised["unique_id"].to_numpy()
    for column in ("title", "first_name", "middle_names", "surname", "town"):
        out[column] = canonical[column].str.strip().str.title()
    for column in ("date_of_birth", "email", "phone", "postcode", "uprn", "ni_number"):
        out[column] = standardised[column].to_numpy()
    return out


def assign_golden_ids(clusters: pd.DataFrame) -> pd.DataFrame:
    """``clusters`` (unique_id, cluster_id, ...) with a ``golden_id`` column added."""
    ids = clusters.groupby("cluster_id")["unique_id"].agg(golden_id_for).rename("golden_id")
    return clusters.merge(ids, left_on="cluster_id", right_index=True)


def build_golden_records(records: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """``records``: presentable records; ``membership``: unique_id → golden_id."""
    data = records.merge(membership[["unique_id", "golden_id"]], on="unique_id", how="inner")
    grouped = data.groupby("golden_id")
    golden = pd.DataFrame(index=pd.Index(sorted(grouped.groups), name="golden_id"))
    for attribute, columns in ATTRIBUTE_COLUMNS.items():
        candidates = data[data[KEY_COLUMN[attribute]].notna()].copy()
        candidates["_rank"] = candidates["source_system"].map(TRUST[attribute]).fillna(99)
        chosen = (
            candidates.sort_values(
                ["golden_id", "_rank", "source_updated_at", "unique_id"],
                ascending=[True, True, False, True],
            )
            .drop_duplicates("golden_id")
            .set_index("golden_id")
        )
        for column in columns:
            golden[column] = chosen[column]
        golden[f"{attribute}_source"] = chosen["unique_id"]
    golden["source_record_count"] = grouped.size()
    golden["source_systems"] = grouped["source_system"].agg(lambda s: ",".join(sorted(set(s))))
    return golden.reset_index()[list(GOLDEN_COLUMNS)].astype({"source_record_count": "int64"})


def cross_reference(membership: pd.DataFrame) -> pd.DataFrame:
    """Every source record with its golden ID and the probability that put it there."""
    xref = membership.copy()
    split = xref["unique_id"].str.split(":", n=1, expand=True)
    xref["source_system"], xref["source_record_id"] = split[0], split[1]
    return (
        xref[["source_system", "source_record_id", "golden_id", "cluster_match_probability"]]
        .sort_values(["source_system", "source_record_id"])
        .reset_index(drop=True)
    )
