"""Columns of a frame set aside, compressed in memory, while a step needs the room.

The scored pairs carry every compared value of both records: at a million records a
quiet night's 790,000 pairs are 606 MB, 394 MB of them values that only the night's
files and the stewards' pages show. The household guard and the clustering, the match's
peak, read the weights, the levels and a few values. The rest is parked as
Zstandard-compressed Arrow (78 MB; 0.44 s to pack, 0.2 s to unpack) and put back,
unchanged, when the match returns.

In memory rather than in a temporary file: residents' details are not written anywhere
the night does not keep them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc


@dataclass(frozen=True)
class Parked:
    """What :func:`park` set aside: the frame's column order, the parked columns' pandas
    types and their values, packed."""

    columns: list[str]
    dtypes: dict[str, Any]
    packed: pa.Buffer | None

    @property
    def size(self) -> int:
        """Bytes held while parked."""
        return self.packed.size if self.packed is not None else 0

    def restore(self, kept: pd.DataFrame) -> pd.DataFrame:
        """``kept`` (the frame :func:`park` returned, its rows unchanged) with the parked
        columns back in their places."""
        if self.packed is None:
            return kept
        table = ipc.open_file(self.packed).read_all()
        back = {name: pd.array(table.column(name), dtype=self.dtypes[name]) for name in self.dtypes}
        columns = {name: back[name] if name in back else kept[name] for name in self.columns}
        return pd.DataFrame(columns, index=kept.index)


NOTHING_PARKED = Parked([], {}, None)


def _in_arrow(series: pd.Series) -> bool:
    # Only columns Arrow already holds are parked: they go and come back without a
    # conversion (NumPy columns are the weights and levels the guard reads anyway).
    return hasattr(series.array, "__arrow_array__") and not isinstance(
        series.dtype, pd.CategoricalDtype
    )


def park(frame: pd.DataFrame, keep: Collection[str]) -> tuple[pd.DataFrame, Parked]:
    """``frame`` without its Arrow-held columns not named in ``keep``, and those columns
    packed. The caller drops its own name for ``frame``, or nothing is freed."""
    names = [c for c in frame.columns if c not in keep and _in_arrow(frame[c])]
    if not names:
        return frame, NOTHING_PARKED
    table = pa.table({name: frame[name].array.__arrow_array__() for name in names})
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    parked = Parked(list(frame.columns), {n: frame[n].dtype for n in names}, sink.getvalue())
    return frame.drop(columns=names), parked
