"""Link components a night clusters as the night before, known by a signature.

The guarded clustering (:mod:`golden_record.matching.clustering`) decides each link
component on its own (clustering on Spark slices the work by component for the same
reason): whether it holds a conflict, and which of its links to take, depend only on its
records' ids and identities (forename, surname, date of birth, NI number; a forename's
variants follow from it), its links (both ids, the probability, whether a personal detail
agrees), which order those give, and the stewards' cannot-link pairs inside it. A
component's *signature* hashes all of these, so a component whose signature the earlier
night checked is given that night's answer instead of being checked pair by pair again.
On a quiet night at a million records nearly every component is one the night before
checked: the conflict checks (400,000 pairs of identities) and the link-by-link
clustering of households were most of the clustering's 7 s.

A night keeps, for the next: each checked component's signature (components with several
identities or a cannot-link pair) and whether it held a conflict; for each that did, its
records' clusters and best links and the links it refused. Only a night scored
incrementally builds on them, with the same model weights, guard and state version; a
full night (the monthly re-match) checks every component again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from golden_record.hashing import duckdb_row_hashes

# Bumped when what a component's answer depends on, or how the state is kept, changes.
STATE_VERSION = 1
IDENTITY = ["unique_id", "first_name", "surname", "date_of_birth", "ni_number"]
CHECKED_COLUMNS = ["signature", "contested"]
MEMBER_COLUMNS = ["unique_id", "signature", "cluster_id", "best"]
REFUSED_COLUMNS = ["signature", "unique_id_l", "unique_id_r", "match_probability", "reason"]
# Each kind of part's hashes are multiplied by its own odd factor (a bijection modulo
# 2^64) before summing, so a link's hash does not stand in for a record's.
_LINK_FACTOR = np.uint64(0x9E3779B97F4A7C15)
_CANNOT_FACTOR = np.uint64(0xC2B2AE3D27D4EB4F)


def signatures(
    component: np.ndarray,
    records: pd.DataFrame,
    links: pd.DataFrame,
    cannot_positions: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """One signature per component label (``component``: each record's label, by
    position; ``links``: unique_id_l, unique_id_r, match_probability, agrees of the links
    left after undated namesakes lost theirs, with ``left``, the first record's position;
    ``cannot_positions``: both records' positions of each cannot-link pair)."""
    labels = int(component.max()) + 1 if len(component) else 0
    total = np.zeros(labels, dtype=np.uint64)
    identity = records[IDENTITY].astype("string")
    np.add.at(total, component, duckdb_row_hashes(identity))
    if len(links):
        parts = links[["unique_id_l", "unique_id_r", "match_probability", "agrees"]]
        link_hashes = duckdb_row_hashes(
            parts.astype({"unique_id_l": "string", "unique_id_r": "string"})
        )
        np.add.at(total, component[links["left"].to_numpy()], link_hashes * _LINK_FACTOR)
    a, b = cannot_positions
    inside = component[a] == component[b]
    if inside.any():
        ids = records["unique_id"].to_numpy(dtype=object)
        low = np.where(ids[a[inside]] <= ids[b[inside]], ids[a[inside]], ids[b[inside]])
        high = np.where(ids[a[inside]] <= ids[b[inside]], ids[b[inside]], ids[a[inside]])
        pairs = pd.DataFrame({"a": low, "b": high}).astype("string")
        np.add.at(total, component[a[inside]], duckdb_row_hashes(pairs) * _CANNOT_FACTOR)
    return total


def weights_digest(by_comparison: dict, household_guard: bool) -> str:
    """What else a component's answer depends on: the model's level weights and the guard."""
    text = json.dumps([sorted(by_comparison.items()), household_guard, STATE_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class KeptComponents:
    """What a night's clustering keeps for the next (see the module's docstring)."""

    digest: str  # weights_digest() of the night that kept them
    checked: pd.DataFrame  # CHECKED_COLUMNS
    members: pd.DataFrame  # MEMBER_COLUMNS: records of the components that held a conflict
    refused: pd.DataFrame  # REFUSED_COLUMNS: links those components refused

    def write(self, path: Path) -> None:
        from golden_record.atomic import write_parquet

        parts = [
            self.checked.assign(part="checked"),
            self.members.assign(part="member"),
            self.refused.assign(part="refused"),
        ]
        kept = [p for p in parts if len(p)]
        frame = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
        frame = frame.reindex(
            columns=["part", *dict.fromkeys(CHECKED_COLUMNS + MEMBER_COLUMNS + REFUSED_COLUMNS)]
        ).assign(digest=self.digest)
        write_parquet(frame, path)

    @classmethod
    def read(cls, path: Path) -> KeptComponents | None:
        """The kept components at ``path`` (None when there is no such file)."""
        if not path.is_file():
            return None
        frame = pd.read_parquet(path)
        digest = str(frame["digest"].iloc[0]) if len(frame) else ""

        def part(name: str, columns: list[str]) -> pd.DataFrame:
            return frame.loc[frame["part"] == name, columns].reset_index(drop=True)

        checked = part("checked", CHECKED_COLUMNS).astype({"contested": bool})
        return cls(
            digest=digest,
            checked=checked.astype({"signature": np.uint64}),
            members=part("member", MEMBER_COLUMNS).astype({"signature": np.uint64}),
            refused=part("refused", REFUSED_COLUMNS).astype({"signature": np.uint64}),
        )
