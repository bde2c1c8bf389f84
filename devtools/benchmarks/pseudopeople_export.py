"""Export pseudopeople's simulated town as Parquet files, for ``make bench-accuracy``.

pseudopeople (IHME, on PyPI) simulates a fictional US population and the records that
agencies hold of it, each with its own noise model: the decennial census, two surveys
(ACS, CPS), a benefits programme (WIC), Social Security and W-2/1099 tax forms, with
typos, OCR and phonetic errors, nicknames and fake names, values copied from a household
member, swapped dates and missing values. Nobody in this project wrote it or tuned on it.

It pins versions this project's lock does not hold (an older SciPy and pandas-stubs), so
it runs in a separate environment of its own and this script imports nothing of the
project (the Makefile's ``pseudopeople-data`` target):

    uv run --isolated --no-project --with pseudopeople==1.3.1 --with pandas==3.1.1 \\
        python devtools/benchmarks/pseudopeople_export.py data/pseudopeople

Each noise scale (1: pseudopeople's defaults; 5: five times every row and cell
probability, capped) is written to ``OUT/noise-<scale>/<dataset>.parquet`` with a
``manifest.json``. :mod:`devtools.benchmarks.pseudopeople_town` reads them.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

DATASETS = (
    "decennial_census",
    "american_community_survey",
    "current_population_survey",
    "women_infants_and_children",
    "social_security",
    "taxes_w2_and_1099",
)
# pseudopeople refuses probabilities above its own limits; five times its defaults stays
# well within them but for a few, held here.
MAX_PROBABILITY = 0.5


def scaled(config: dict, scale: float) -> dict:
    """``config`` with every row and cell probability multiplied by ``scale``."""

    def walk(node: object) -> object:
        if isinstance(node, dict):
            return {
                key: (
                    min(value * scale, MAX_PROBABILITY)
                    if key in ("row_probability", "cell_probability")
                    and isinstance(value, int | float)
                    else walk(value)
                )
                for key, value in node.items()
            }
        return node

    return walk(config)  # type: ignore[return-value]


def export(out: Path, scales: list[float], seed: int) -> None:
    import pseudopeople

    warnings.filterwarnings("ignore")
    for scale in scales:
        folder = out / f"noise-{scale:g}"
        folder.mkdir(parents=True, exist_ok=True)
        rows = {}
        for dataset in DATASETS:
            config = scaled(pseudopeople.get_config(), scale)
            config = {dataset: config[dataset]}
            frame = getattr(pseudopeople, f"generate_{dataset}")(seed=seed, config=config)
            frame.astype("string").to_parquet(folder / f"{dataset}.parquet", index=False)
            rows[dataset] = len(frame)
        manifest = {
            "pseudopeople": pseudopeople.__version__,
            "seed": seed,
            "noise_scale": scale,
            "year": 2020,
            "rows": rows,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"{folder}: {sum(rows.values()):,} records ({manifest['pseudopeople']})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, action="append", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    export(args.out, args.scale or [1.0, 5.0], args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
