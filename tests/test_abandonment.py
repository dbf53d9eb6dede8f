"""Give-ups at a fixed timeout: the stationary M/M/c+D model (`traffic.abandonment`) and its use.

Closed forms where they exist (M/M/1+D, and M/M/c as the timeout grows), the exact FCFS simulator
of `tests/fcfs_sim.py` (small, seeded) for several servers and for an overload through
`service_ticks`, and properties (monotone in load, servers and timeout; conservation).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from fcfs_sim import fcfs, poisson_arrivals, service_times
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.traffic.abandonment import mmc_patience, served_wait_cut
from simkit.traffic.queueing import (
    erlang_b,
    erlang_c,
    gives_up_within_tick,
    pooled_quantile,
    service_ticks,
    sojourn_cdf,
)


def patience(lam: float, c: int, timeout: float, mean: float = 1.0):  # type: ignore[no-untyped-def]
    return mmc_patience(np.array([lam]), c, mean, timeout, erlang_b(c, lam * mean))


@pytest.mark.parametrize(
    ("lam", "mu", "tau"),
    [(0.5, 1.0, 2.0), (0.9, 1.0, 3.0), (9.5, 10.0, 2.0), (1.0, 1.0, 4.0), (1.3, 1.0, 3.0), (20.0, 10.0, 2.0)],
)
def test_mm1d_give_up_probability_is_the_closed_form(lam: float, mu: float, tau: float) -> None:
    """M/M/1+D: P(give up) = ρ(1 − ρ)g/(1 − ρ²g), g = e^{−(μ−λ)τ}; 1/(2 + μτ) at ρ = 1."""
    rho = lam / mu
    g = math.exp(-(mu - lam) * tau)
    expected = 1.0 / (2.0 + mu * tau) if lam == mu else rho * (1 - rho) * g / (1 - rho * rho * g)
    got = patience(lam, 1, tau, 1.0 / mu)
    assert got.p_abandon[0] == pytest.approx(expected, rel=1e-9)
    # PASTA: P(V > 0) = P(server busy) = ρ(1 − P(give up)); the served ones waited if 0 < V <= τ
    served_waited = (rho * (1 - expected) - expected) / (1 - expected)
    assert got.p_wait_served[0] == pytest.approx(served_waited, rel=1e-9)
    assert got.utilization[0] == pytest.approx(rho * (1 - expected), rel=1e-9)


@pytest.mark.parametrize(("c", "rho"), [(1, 0.5), (4, 0.8), (16, 0.9)])
def test_mmcd_with_a_long_timeout_is_mmc(c: int, rho: float) -> None:
    lam = rho * c
    got = patience(lam, c, 1e6)
    pw = float(erlang_c(c, lam)[()])
    assert got.p_abandon[0] < 1e-12
    assert got.p_wait_served[0] == pytest.approx(pw, rel=1e-9)
    assert got.mean_wait_served_s[0] == pytest.approx(pw / (c - lam), rel=1e-9)
    assert got.second_wait_served_s2[0] == pytest.approx(2 * pw / (c - lam) ** 2, rel=1e-9)


@pytest.mark.parametrize(("c", "rho", "tau"), [(2, 0.7, 2.0), (2, 1.3, 5.0), (4, 0.95, 2.0), (4, 1.3, 3.0)])
def test_mmcd_matches_an_exact_simulation(c: int, rho: float, tau: float) -> None:
    rng = np.random.default_rng(15)
    n = 60_000
    arrivals = np.cumsum(rng.exponential(1.0 / (rho * c), n))
    wait, gave_up = fcfs(arrivals, service_times(rng, n, 1.0, 1.0), c, tau)
    keep = slice(5_000, None)
    got = patience(rho * c, c, tau)
    assert got.p_abandon[0] == pytest.approx(gave_up[keep].mean(), rel=0.08, abs=2e-3)
    served = wait[keep][~gave_up[keep]]
    assert got.mean_wait_served_s[0] == pytest.approx(served.mean(), rel=0.08, abs=5e-3)
    assert float(got.mean_wait_served_s[0]) <= tau


@settings(max_examples=60, deadline=None)
@given(
    c=st.integers(1, 40),
    rho=st.floats(0.05, 3.0),
    extra=st.floats(0.01, 1.0),
    tau=st.floats(0.1, 20.0),
)
def test_give_ups_monotone_in_load_servers_and_timeout(c: int, rho: float, extra: float, tau: float) -> None:
    lam = rho * c
    base = patience(lam, c, tau).p_abandon[0]
    assert 0.0 <= base <= 1.0
    assert patience(lam * (1 + extra), c, tau).p_abandon[0] >= base - 1e-12
    assert patience(lam, c + 1, tau).p_abandon[0] <= base + 1e-12
    assert patience(lam, c, tau * (1 + extra)).p_abandon[0] <= base + 1e-12
    p = patience(lam, c, tau)
    assert 0.0 <= p.mean_wait_served_s[0] <= tau * (1 + 1e-9)
    assert p.mean_wait_served_s[0] ** 2 <= p.second_wait_served_s2[0] * (1 + 1e-9)


@settings(max_examples=80, deadline=None)
@given(lam=st.floats(0.01, 40.0), c=st.integers(1, 16), tau=st.floats(0.05, 6.0))
def test_the_served_wait_handed_to_the_latency_model_is_the_truncated_exponential(
    lam: float, c: int, tau: float
) -> None:
    """(p, rate) with the cap τ: p = P(wait > 0 | served), p/rate = E[wait | served] (the exact
    mean), and the conditional mean 1/rate fits below τ, so the cut shape exists; in the tick the
    latency model gets the cap."""
    pat = patience(lam, c, tau, mean=0.5)
    p, rate = served_wait_cut(pat)
    if p[0] > 0:
        assert p[0] == pat.p_wait_served[0]
        assert p[0] / rate[0] == pytest.approx(pat.mean_wait_served_s[0], rel=1e-12)
        assert 0.0 < 1.0 / rate[0] < tau
    svc = service_ticks(np.array([lam]), c, 0.5, 1.0, 60.0, tau)
    assert svc.wait_cap_s == tau and svc.visit(timeout_s=tau).wait_cap_s == tau
    # outside the critical band no fluid delay is added on top of the cut wait; a band tick (the
    # give-up queue relaxes slower than a tick, `service_ticks`) carries the diffusion's queue instead,
    # a served request's share of it at most the timeout
    np.testing.assert_array_equal(svc.fluid_wait_s[~svc.band], 0.0)
    assert np.all(svc.fluid_wait_s <= tau)


@settings(max_examples=60, deadline=None)
@given(
    lam=st.lists(st.floats(0, 30), min_size=1, max_size=20),
    servers=st.integers(0, 12),
    timeout=st.floats(0.05, 6.0),
    initial=st.floats(0, 100),
)
def test_patience_ticks_conserve_requests(
    lam: list[float], servers: int, timeout: float, initial: float
) -> None:
    assert gives_up_within_tick(timeout, 60.0)
    lam_a = np.array(lam)
    svc = service_ticks(lam_a, servers, 0.5, 1.0, 60.0, timeout, initial)
    before = np.r_[initial, svc.backlog_end[:-1]]
    np.testing.assert_allclose(lam_a * 60, svc.served + svc.timed_out + svc.backlog_end - before, atol=1e-6)
    assert np.all(svc.served >= -1e-9) and np.all(svc.timed_out >= -1e-9)


def test_an_overload_with_a_short_timeout_matches_the_simulation() -> None:
    """c = 2 servers of 1 s, timeout 3 s, 60 s ticks: ρ 0.7, then 1.3 for 3 minutes, then 0.7.

    Before (M/M/c tail + fluid backlog with an Exp(cμ) wait on top of it) the whole-run P95 was
    +20 % and the timeouts of the quiet minutes 5x the simulation's; now both within 10 %. The P95
    of the served requests, with their waits cut at the timeout (`Component.wait_cap_s`), within
    5 % (−1.7 %; +2.1 % with the former two-moment shape, not cut at τ).
    """
    rates = [1.4] * 4 + [2.6] * 3 + [1.4] * 4
    dt, tau, c = 60.0, 3.0, 2
    svc = service_ticks(np.array(rates), c, 1.0, 1.0, dt, tau)
    sims_out, sims_quiet, sims_p95 = [], [], []
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        t, tick = poisson_arrivals(rng, rates, dt)
        s = service_times(rng, t.size, 1.0, 1.0)
        wait, gave_up = fcfs(t, s, c, tau)
        quiet = np.isin(tick, [0, 1, 2, 3, 8, 9, 10])
        sims_out.append(gave_up.sum())
        sims_quiet.append(gave_up[quiet].sum())
        sims_p95.append(np.quantile((wait + s)[~gave_up], 0.95))
    assert svc.timed_out.sum() == pytest.approx(np.mean(sims_out), rel=0.10)
    quiet_ticks = [0, 1, 2, 3, 8, 9, 10]
    assert svc.timed_out[quiet_ticks].sum() == pytest.approx(np.mean(sims_quiet), rel=0.20)
    grid = np.linspace(0.0, 30.0, 3001)
    p95 = pooled_quantile(grid, sojourn_cdf([svc.visit(timeout_s=tau)], grid), svc.served, [0.95])[0]
    assert p95 == pytest.approx(np.mean(sims_p95), rel=0.05)
