"""Reading a file of canonical person records given on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    import pandas as pd


def read_records(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise typer.BadParameter(
            f"no such file: {path} (give --input a .csv or .parquet file of canonical records)"
            if not path.exists()
            else f"{path} is a folder: give --input a .csv or .parquet file of canonical records"
        )
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype("string")
    if path.suffix == ".csv":
        try:
            return pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start : exc.start + 1]
            raise typer.BadParameter(
                f"{path}: not UTF-8 text (byte {exc.start} is {bad!r}); save it as UTF-8"
            ) from exc
    raise typer.BadParameter(f"{path}: expected a .csv or .parquet file of canonical records")
