"""A finished stage's freed memory goes back to the operating system (``dag.test()`` runs
every task in one process)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from golden_record.memory import give_back

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and glibc")
def test_memory_a_stage_freed_is_handed_back():
    # In a fresh process, so other tests' allocations do not blur the figures: 300 MB in
    # 100 KB blocks, each followed by a small block that stays, so freeing the large
    # ones leaves holes glibc keeps until it is asked to trim.
    script = textwrap.dedent(
        """
        import os
        from golden_record.memory import give_back
        def resident_mb():
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        large, kept = [], []
        for _ in range(3000):
            large.append(bytearray(100_000))
            kept.append(bytearray(2_000))
        held = resident_mb()
        del large
        freed = resident_mb()
        give_back()
        print(round(held), round(freed), round(resident_mb()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    held, freed, after = (float(x) for x in out.split())
    assert freed > held - 100, "glibc gave the holes back by itself: the test proves nothing"
    assert after < freed - 200


def test_what_a_later_stage_leaves_in_cycles_is_still_collected():
    # give_back freezes what survives it out of later collections; a stage after it
    # still has its cyclic garbage collected.
    import gc
    import weakref

    give_back()
    frozen = gc.get_freeze_count()
    assert frozen > 0

    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first
    first.payload = bytearray(10_000_000)
    gone = weakref.ref(first)
    del first, second
    give_back()
    assert gone() is None
    assert gc.get_freeze_count() >= frozen


def test_the_airflow_stages_hand_memory_back_even_when_they_fail(monkeypatch):
    from golden_record.airflow import stages

    calls = []
    monkeypatch.setattr(stages, "give_back", lambda: calls.append("given back"))

    @stages.giving_back_memory
    def failing() -> None:
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        failing()
    assert calls == ["given back"]
    give_back()  # and the real one runs anywhere
