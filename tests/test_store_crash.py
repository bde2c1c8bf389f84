"""A run killed mid-write leaves the golden store exactly as it was before the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd

from golden_record.golden import GoldenStore
from tests.test_golden_store import night

PROJECT = Path(__file__).resolve().parents[1]

APPLY_BIG_RUN = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from golden_record.golden import GoldenStore
    from tests.test_golden_store import COLUMNS, person

    store = GoldenStore(sys.argv[1])
    n = 60_000
    ids = [f"revenues:{i}" for i in range(n)]
    clusters = pd.DataFrame(
        {"unique_id": ids, "cluster_id": ids, "cluster_match_probability": 0.999}
    )
    records = pd.DataFrame([person(uid) for uid in ids], columns=COLUMNS)
    print("ready", flush=True)
    store.apply_run("2026-01-02", "2026-01-02", clusters, records)
    print("committed", flush=True)
    """
)


def _state(store: GoldenStore) -> dict[str, pd.DataFrame]:
    return {
        "xref": store.current_xref().sort_values("unique_id").reset_index(drop=True),
        "golden": store.golden_records(include_inactive=True),
        "events": store.events(limit=10**6),
        "runs": store.runs(),
    }


def test_killing_a_run_during_its_write_leaves_the_store_as_before(tmp_path):
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    store = GoldenStore(url)
    night(store, "2026-01-01", [["a:1", "b:1"], ["a:2"]])
    before = _state(store)
    store.engine.dispose()

    journal = Path(f"{path}-journal")
    child = subprocess.Popen(
        [sys.executable, "-c", APPLY_BIG_RUN, url],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # SQLite keeps a rollback journal only while a write transaction is open: kill then.
    deadline = time.monotonic() + 120
    while not journal.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert journal.exists(), f"the run never started writing: {child.communicate()}"
    time.sleep(1.0)  # well into the run's writes, which take several seconds at this size
    assert child.poll() is None, "the run finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    output, _ = child.communicate()
    assert "committed" not in output

    after = GoldenStore(url)
    state = _state(after)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(state[name], frame, check_dtype=False)
    # And the next run applies normally.
    summary = night(after, "2026-01-02", [["a:1", "b:1"], ["a:2"]])
    assert summary.golden_records == 2
