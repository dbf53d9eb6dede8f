"""Flagger's analysis loop (fluxcd/flagger v1.44.0 pkg/controller/scheduler.go), table-driven."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.control.progressive.flagger import (
    ADVANCE,
    CHECK_FAILED,
    COPY_TO_PRIMARY,
    FAILED,
    ROLLBACK,
    SUCCEEDED,
    FlaggerObservation,
    FlaggerSpec,
    FlaggerState,
    flagger_tick,
    max_weight,
    next_step_weight,
    primary_rolling_counts,
)

READY = FlaggerObservation(canary_ready=True, primary_updated=True, check_ok=True)


def _run(spec: FlaggerSpec, obs: FlaggerObservation = READY, limit: int = 500) -> tuple[float, FlaggerState]:
    """Ticks every interval from t = 0 until Succeeded/Failed: (time it ended, final state)."""
    state, now = FlaggerState(), 0.0
    for _ in range(limit):
        state = flagger_tick(spec, state, obs, now).state
        if state.phase in (SUCCEEDED, FAILED):
            return now, state
        now += spec.interval
    raise AssertionError("did not finish")


def test_issue_closed_form_interval_1m_max_50_step_2_takes_at_least_25_minutes() -> None:
    """Issue 12: interval 1m, maxWeight 50, stepWeight 2 -> at least 25 min (25 weight steps)."""
    end, state = _run(FlaggerSpec(interval_s=60, max_weight=50, step_weight=2))
    assert state.phase == SUCCEEDED
    assert end >= 25 * 60
    # 25 advances (2..50), then Promote, route to primary, finalise: 28 ticks from t = 0
    assert end == 27 * 60


@pytest.mark.parametrize(
    ("spec", "weights"),
    [
        (FlaggerSpec(step_weight=10, max_weight=30), [10, 20, 30]),
        (FlaggerSpec(step_weight=20), [20, 40, 60, 80, 100]),
        (FlaggerSpec(step_weight=30), [30, 60, 90, 100]),  # capped at totalWeight
        (FlaggerSpec(step_weights=(1, 2, 10, 80)), [1, 2, 10, 80]),
        (FlaggerSpec(step_weights=(5, 150)), [5, 100]),  # maxWeight min(100, last)
    ],
)
def test_weight_sequence(spec: FlaggerSpec, weights: list[int]) -> None:
    state, seen = FlaggerState(), []
    for i in range(40):
        d = flagger_tick(spec, state, READY, 60.0 * i)
        if d.reason == ADVANCE:
            seen.append(d.state.weight)
        if d.reason == COPY_TO_PRIMARY:
            break
        state = d.state
    assert seen == weights


def test_defaults_as_upstream() -> None:
    spec = FlaggerSpec()
    assert spec.interval == 60.0 and spec.threshold == 1 and max_weight(spec) == 100
    assert FlaggerSpec(interval_s=5).interval == 10.0  # GetAnalysisInterval floor
    assert next_step_weight(FlaggerSpec(step_weights=(10, 50)), 10) == 40
    assert next_step_weight(FlaggerSpec(step_weights=(10, 50)), 100) == 1


def test_threshold_failed_checks_roll_back() -> None:
    """threshold 2: two failed checks, then the next tick rolls back (weight 0, canary down)."""
    spec = FlaggerSpec(step_weight=10, threshold=2)
    bad = FlaggerObservation(True, True, False)
    state = flagger_tick(spec, FlaggerState(), READY, 0).state
    reasons = []
    for i in range(1, 4):
        d = flagger_tick(spec, state, bad, 60.0 * i)
        reasons.append(d.reason)
        state = d.state
    assert reasons == [CHECK_FAILED, CHECK_FAILED, ROLLBACK]
    assert state.phase == FAILED and state.weight == 0 and not state.canary_up


def test_canary_never_ready_rolls_back_after_deadline() -> None:
    end, state = _run(FlaggerSpec(step_weight=10), FlaggerObservation(False, True, True))
    assert state.phase == FAILED and end == 600.0


def test_blue_green_iterations() -> None:
    """iterations 3: three analysis ticks with no traffic, one tick with all traffic, then promote."""
    spec = FlaggerSpec(iterations=3)
    state, weights = FlaggerState(), []
    for i in range(10):
        state = flagger_tick(spec, state, READY, 60.0 * i).state
        weights.append(state.weight)
        if state.phase == SUCCEEDED:
            break
    assert weights[:5] == [0, 0, 0, 100, 100]
    assert state.phase == SUCCEEDED


@given(n=st.integers(1, 40), ready_lag=st.integers(0, 3))
def test_primary_rolling_update_bounds(n: int, ready_lag: int) -> None:
    """The primary's update: total <= n + 25 % (up), available >= n - 25 % (down, 1 if both 0)."""
    surge, unav = -(-n // 4), n // 4
    if surge == 0 and unav == 0:
        unav = 1
    old, new, avail_new = n, 0, 0
    history: list[int] = []
    for _ in range(200):
        old, new = primary_rolling_counts(n, old, new, avail_new)
        assert old + new <= n + surge
        assert old + avail_new >= n - unav
        history.append(new)
        avail_new = new if len(history) > ready_lag else avail_new
        if old == 0 and avail_new == n:
            break
    assert old == 0 and new == n
