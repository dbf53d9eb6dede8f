"""Monte Carlo speed-ups change no row: `simkit.replicate` with everything on (light CA scans, the
fast credit model, memoised results shared across the runs of a worker) against the reference path,
for several scenarios; and the shared store is exercised, bounded and exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simkit
import simkit.analysis.burstable as burstable
import simkit.engine.ca_loop as ca_loop
import simkit.engine.content_memo as content_memo
from simkit.engine.content_memo import ContentMemo, shared_across_runs

SCENARIOS = Path(__file__).parents[1] / "scenarios"
DAY_S = 86400.0


def _reference(m: pytest.MonkeyPatch) -> None:
    m.setattr(ca_loop, "LIGHT_SCANS", False)
    m.setattr(ca_loop, "SKIP_QUIET_SCANS", False)
    m.setattr(burstable, "FAST_CREDITS", False)
    m.setattr(content_memo, "SHARE_ACROSS_RUNS", False)


@pytest.mark.parametrize("name", ["platform-baseline", "spot-storm", "node-upgrade-eks"])
def test_replicate_rows_identical_to_the_reference_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sc = simkit.load_scenario(SCENARIOS / f"{name}.yaml")
    monkeypatch.setattr(content_memo, "_SHARED", content_memo._SharedStore())
    fast = simkit.replicate(sc, seeds=[2, 3, 1], duration=DAY_S, n_jobs=1, progress=False)
    with monkeypatch.context() as m:
        _reference(m)
        reference = simkit.replicate(sc, seeds=[2, 3, 1], duration=DAY_S, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(fast, reference, check_exact=True)
    assert len(fast) == 3
    shared = {fn.__name__ for fn in content_memo._SHARED.by_fn}
    assert {"route_windows", "simulate_credits"} <= shared or {"route_windows"} <= shared


def test_the_shared_store_hits_across_runs_and_only_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_memo, "_SHARED", content_memo._SharedStore())
    calls: list[int] = []

    def double(a: np.ndarray) -> np.ndarray:
        calls.append(1)
        return a * 2

    a = np.arange(5.0)
    ContentMemo(double, enabled=True)(a)  # outside: nothing shared
    with shared_across_runs():
        first = ContentMemo(double, enabled=True)(a)
        memo = ContentMemo(double, enabled=True)  # a later run's memo
        again = memo(a.copy())
    assert len(calls) == 2 and memo.hits == 1
    np.testing.assert_array_equal(again, first)
    a[:] = -1.0  # the caller mutates its argument after the run: the store kept a copy
    with shared_across_runs():
        memo = ContentMemo(double, enabled=True)
        np.testing.assert_array_equal(memo(np.arange(5.0)), np.arange(5.0) * 2)
        memo(a)  # new content: computed
    assert memo.hits == 1 and len(calls) == 3


def test_the_shared_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_memo, "_SHARED", content_memo._SharedStore())
    monkeypatch.setattr(content_memo, "SHARED_ENTRIES", 4)
    with shared_across_runs():
        for i in range(10):
            ContentMemo(lambda x: x + 1, enabled=True)(np.full(3, float(i)))
    assert all(len(t) <= 4 for t in content_memo._SHARED.by_fn.values())


def test_the_shared_store_is_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its byte budget it keeps what it has (the first runs') and adds nothing."""
    monkeypatch.setattr(content_memo, "_SHARED", content_memo._SharedStore())
    monkeypatch.setattr(content_memo, "SHARED_BYTES", 10 * 800)  # ten arrays of 100 float64 in all

    def plus_one(x: np.ndarray) -> np.ndarray:
        return x + 1

    with shared_across_runs():
        for i in range(10):
            ContentMemo(plus_one, enabled=True)(np.full(100, float(i)))  # args + result: 1,600 B each
        later = ContentMemo(plus_one, enabled=True)
        later(np.full(100, 0.0))
        later(np.full(100, 9.0))
    store = content_memo._SHARED
    assert store.nbytes == sum(store.sizes.values()) == 5 * 1600
    assert later.hits == 1 and later.misses == 1  # the first five inputs are kept, not the last five
