"""The fluid backlog as a ramp within a tick: per-minute percentiles in and after an overload."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.traffic.queueing import Component, fluid_backlog, latency_quantiles, service_ticks, sojourn_cdf
from tests.backlog_reference import simulate_ticks

C, MEAN_S, DT = 4, 0.1, 60.0


def test_per_minute_p95_in_and_after_an_overload_matches_an_exact_simulation() -> None:
    """ρ 0.7 → 1.3 for two minutes → 0.7 (4 servers of 100 ms): the backlog builds to ~36 s of work
    and drains over two minutes. Per-minute P95 within 15 % of a seeded FCFS simulation (8 runs
    pooled), in the overload minutes and in the drain minutes; the tick-averaged delay (every
    request of a tick delayed by the mean) misses those minutes by 27-52 %."""
    rho = np.array([0.7] * 4 + [1.3] * 2 + [0.7] * 5)
    lam = rho * C / MEAN_S
    runs = [simulate_ticks(lam, C, MEAN_S, DT, seed) for seed in range(8)]
    tick = np.concatenate([t for t, _ in runs])
    sojourn = np.concatenate([s for _, s in runs])
    ref = np.array([np.quantile(sojourn[tick == i], 0.95) for i in range(lam.size)])
    comp = service_ticks(lam, C, MEAN_S, 1.0, DT, 600.0).visit(1, timeout_s=600.0)
    new = latency_quantiles([comp])[:, 1]
    averaged = latency_quantiles([replace(comp, fluid_start_s=None)])[:, 1]
    minutes = [4, 5, 6, 7]  # two overload minutes, two drain minutes
    np.testing.assert_allclose(new[minutes], ref[minutes], rtol=0.15)
    assert np.all(np.abs(averaged[minutes] / ref[minutes] - 1) > 0.2)
    np.testing.assert_allclose(new[:4], ref[:4], rtol=0.1)  # before: the stationary queue


def test_a_draining_tick_is_a_mixture_of_no_delay_and_a_uniform_one() -> None:
    """Backlog worth 20 s draining in half the tick: delay 0 w.p. 1/2, U[0, 20] w.p. 1/2, so the
    P95 is 18 s and the P50 0 (plus a 1 ms deterministic service)."""
    comp = Component(
        p_wait=np.zeros(1),
        wait_rate_per_s=np.ones(1),
        mean_service_s=0.001,
        service_cv=0.0,
        fluid_delay_s=np.array([5.0]),
        fluid_start_s=np.array([20.0]),
        fluid_slope_s=np.array([-40.0]),
        fluid_cap_s=30.0,
    )
    q = latency_quantiles([comp], (0.25, 0.75, 0.95))[0]
    # atol: the mixture CDF is inverted on 2048 points over its ~21 s support
    np.testing.assert_allclose(q, [0.001, 10.001, 18.001], rtol=2e-3, atol=0.012)


def test_ticks_without_a_ramp_are_unchanged() -> None:
    lam = np.array([20.0, 30.0, 38.0, 39.0])
    svc = service_ticks(lam, C, MEAN_S, 1.0, DT, 5.0)
    with_ramp = latency_quantiles([svc.visit(2, timeout_s=5.0)])
    without = latency_quantiles([replace(svc.visit(2, timeout_s=5.0), fluid_start_s=None)])
    np.testing.assert_array_equal(with_ramp, without)


@settings(max_examples=30, deadline=None)
@given(
    rho=st.floats(0.3, 2.0),
    initial_s=st.floats(0.0, 40.0),
    timeout_s=st.floats(1.0, 60.0),
)
def test_the_ramp_conserves_the_mean_backlog(rho: float, initial_s: float, timeout_s: float) -> None:
    """The mixture over the ramp has the time-averaged backlog's delay as its mean (arrivals are
    uniform in a tick), and its quantiles bracket that mean between the ramp's ends."""
    cap = C / MEAN_S
    fb = fluid_backlog(np.array([rho * cap]), cap, DT, timeout_s, initial=initial_s * cap)
    comp = Component(
        p_wait=np.zeros(1),
        wait_rate_per_s=np.ones(1),
        mean_service_s=0.001,
        service_cv=0.0,
        fluid_delay_s=fb.fluid_wait_s,
        fluid_start_s=fb.delay_start_s,
        fluid_slope_s=fb.delay_slope_s,
        fluid_cap_s=timeout_s,
    )
    grid = np.linspace(0.0, timeout_s + 1.0, 40_001)
    mean = float(np.trapezoid(1.0 - sojourn_cdf([comp], grid)[0], grid))
    assert mean == pytest.approx(float(fb.fluid_wait_s[0]) + 0.001, rel=2e-3, abs=2e-3)
    lo, hi = latency_quantiles([comp], (0.0001, 0.9999))[0] - 0.001
    ends = sorted([fb.delay_start_s[0], np.clip(fb.delay_start_s[0] + fb.delay_slope_s[0], 0.0, timeout_s)])
    assert (
        ends[0] - 2e-3 <= lo <= fb.fluid_wait_s[0] + 2e-3
        and fb.fluid_wait_s[0] - 2e-3 <= hi <= ends[1] + 2e-3
    )


def test_the_backlog_spreads_like_arrivals_minus_departures_until_the_tick_after_the_drain() -> None:
    """Var grows by (λ + cμ·cv²)·dt per tick from the first overloaded tick; the tick after the drain
    starts at the fluid's negative level with that spread, and the one after has none."""
    cap, cv = C / MEAN_S, 0.5
    lam = np.array([28.0, 52.0, 52.0, 28.0, 28.0, 28.0, 28.0])  # ρ 0.7, 1.3 for 2 min, 0.7
    fb = fluid_backlog(lam, cap, DT, 600.0, service_cv=cv)
    step = (52.0 + cap * cv * cv) * DT
    drain = (28.0 + cap * cv * cv) * DT
    expected_var = [0.0, 0.0, step, 2 * step, 2 * step + drain, 2 * step + 2 * drain, 0.0]
    np.testing.assert_allclose(fb.delay_sd_s, np.sqrt(expected_var) / cap, rtol=1e-12)
    assert fb.delay_start_s[5] == pytest.approx(0.0, abs=1e-9)  # drained exactly at the tick's end
    assert fb.backlog_start[5] == 0.0 and fb.fluid_wait_s[5] == 0.0  # the fluid itself is unchanged
    ticks = service_ticks(lam, C, MEAN_S, cv, DT, 600.0)
    q = latency_quantiles([ticks.visit(1, timeout_s=600.0)])[:, 1]
    assert q[5] > 1.5 * q[0]  # late drains reach into the minute after
    assert q[6] == pytest.approx(q[0], rel=1e-9)  # and no further
