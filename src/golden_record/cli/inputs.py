"""Reading a file of canonical person records given on the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer


def read_records(path: Path) -> pd.DataFrame:
    import pandas as pd

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
