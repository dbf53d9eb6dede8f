"""Tests of the vectorised queueing model against closed forms, exact sums and Monte Carlo."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from simkit.traffic.critical_band import diffusion_ticks, near_critical
from simkit.traffic.queueing import (
    Component,
    ServiceTicks,
    erlang_b,
    erlang_c,
    fluid_backlog,
    latency_quantiles,
    mmc_metrics,
    pooled_quantile,
    service_ticks,
    sojourn_cdf,
)

QS = (0.5, 0.95, 0.99)


# ----------------------------------------------------------------------------- Erlang B / C


def exact_erlang_b(c: int, a: Fraction) -> Fraction:
    """Erlang B from its definition, in exact rational arithmetic."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def exact_erlang_c(c: int, a: Fraction) -> Fraction:
    """Erlang C from its definition: (a^c/c!)·c/(c−a) / (Σ_{k<c} a^k/k! + (a^c/c!)·c/(c−a))."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def recursive_erlang_b(c: int, a: float) -> float:
    """The classic stable recursion B(k) = a·B(k−1) / (k + a·B(k−1)), B(0) = 1."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def test_erlang_c_textbook_value() -> None:
    assert erlang_c(2, 1.0)[()] == pytest.approx(1 / 3, rel=1e-12)
    assert erlang_b(2, 1.0)[()] == pytest.approx(1 / 5, rel=1e-12)


@pytest.mark.parametrize(
    ("c", "a"),
    [(1, "1/2"), (2, "1"), (3, "5/2"), (10, "8"), (10, "19/2"), (20, "15"), (50, "45"), (80, "40")],
)
def test_erlang_b_and_c_match_exact_rational_sums(c: int, a: str) -> None:
    fa = Fraction(a)
    assert erlang_b(c, float(fa))[()] == pytest.approx(float(exact_erlang_b(c, fa)), rel=1e-10)
    assert erlang_c(c, float(fa))[()] == pytest.approx(float(exact_erlang_c(c, fa)), rel=1e-10)


def test_erlang_vectorised_over_arrays() -> None:
    c = np.array([1, 2, 10, 10])
    a = np.array([0.5, 1.0, 8.0, 9.5])
    expected = [float(exact_erlang_c(int(ci), Fraction(ai))) for ci, ai in zip(c, a, strict=True)]
    np.testing.assert_allclose(erlang_c(c, a), expected, rtol=1e-10)


@pytest.mark.parametrize(("c", "a"), [(100_000, 99_000.0), (100_000, 99_999.9), (100_000, 100_000.0)])
def test_erlang_b_stable_for_huge_c(c: int, a: float) -> None:
    assert erlang_b(c, a)[()] == pytest.approx(recursive_erlang_b(c, a), rel=1e-8)
    value = erlang_c(c, a)[()]
    assert 0.0 < value <= 1.0


def test_erlang_b_when_load_far_exceeds_servers() -> None:
    for c, a in [(10, 1000.0), (1000, 5000.0), (20_000, 30_000.0)]:
        assert erlang_b(c, a)[()] == pytest.approx(recursive_erlang_b(c, a), rel=1e-9)


def test_erlang_edge_cases() -> None:
    np.testing.assert_array_equal(erlang_c([0, 0, 3, 4, 4], [0.0, 2.0, 0.0, 4.0, 7.0]), [1, 1, 0, 1, 1])
    np.testing.assert_array_equal(erlang_b([0, 3], [5.0, 0.0]), [1.0, 0.0])


@settings(max_examples=200, deadline=None)
@given(c=st.integers(1, 3000), x=st.floats(0.0, 1.2), y=st.floats(0.0, 1.2))
def test_erlang_c_bounded_and_monotone_in_load(c: int, x: float, y: float) -> None:
    lo, hi = sorted((x * c, y * c))
    c_lo, c_hi = erlang_c(c, lo)[()], erlang_c(c, hi)[()]
    assert 0.0 <= c_lo <= c_hi + 1e-12 <= 1.0 + 1e-12


@settings(max_examples=200, deadline=None)
@given(c=st.integers(1, 3000), extra=st.integers(1, 50), frac=st.floats(0.0, 1.0))
def test_erlang_c_decreasing_in_servers(c: int, extra: int, frac: float) -> None:
    a = frac * c
    assert erlang_c(c + extra, a)[()] <= erlang_c(c, a)[()] + 1e-12


# ----------------------------------------------------------------------------- M/M/c, M/G/c


def test_mmc_mean_wait_closed_form() -> None:
    lam, c, s = np.array([10.0, 50.0, 79.0]), np.array([2, 10, 10]), 0.1
    m = mmc_metrics(lam, c, s)
    cap = c / s
    expected = erlang_c(c, lam * s) / (cap - lam)
    np.testing.assert_allclose(m.mean_wait_s, expected, rtol=1e-12)
    np.testing.assert_allclose(m.mean_sojourn_s, expected + s, rtol=1e-12)
    np.testing.assert_allclose(m.utilization, lam / cap)
    np.testing.assert_allclose(m.wait_rate_per_s, cap - lam)


@pytest.mark.parametrize("cv", [0.0, 0.5, 2.0])
def test_mg1_mean_wait_is_pollaczek_khinchine(cv: float) -> None:
    lam, s = 6.0, 0.1  # rho = 0.6
    m = mmc_metrics(np.array([lam]), np.array([1]), s, cv=cv)
    pk = lam * (1 + cv**2) * s**2 / (2 * (1 - lam * s))
    assert m.mean_wait_s[0] == pytest.approx(pk, rel=1e-12)
    # the wait's weight is that of the exact M/G/1 tail fitted to its P95/P99
    # (tests/test_queueing_mgc.py), not P(W > 0) = ρ; the mean stays exact
    assert 0.0 < m.p_wait[0] <= 1.0


def test_mmc_overload_and_no_servers() -> None:
    m = mmc_metrics(np.array([30.0, 5.0, 0.0]), np.array([2, 0, 0]), 0.1)
    np.testing.assert_array_equal(m.utilization, [1.0, 1.0, 0.0])
    assert m.p_wait[0] == 1.0 and m.wait_rate_per_s[0] == pytest.approx(20.0)
    assert m.wait_rate_per_s[1] == 0.0 and np.isinf(m.mean_wait_s[1])


# ----------------------------------------------------------------------------- fluid backlog


def test_overload_builds_and_drains_at_the_computed_tick() -> None:
    # 10 ticks of +5 req/s excess (300 per 60 s tick), then 5 req/s spare: drains in 10 ticks
    lam = np.array([15.0] * 10 + [5.0] * 15 + [25.0] + [5.0] * 4)
    fb = fluid_backlog(lam, 10.0, 60.0, timeout_s=1000.0)
    expected = np.r_[np.arange(1, 11) * 300.0, np.arange(9, -1, -1) * 300.0, [0] * 5, [900, 600, 300, 0, 0]]
    np.testing.assert_allclose(fb.backlog_end, expected)
    assert np.flatnonzero(fb.backlog_end[10:] == 0)[0] + 10 == 19
    assert fb.timed_out.sum() == 0
    np.testing.assert_allclose(fb.served[:20], 600.0)
    assert fb.fluid_wait_s[0] == pytest.approx(15.0)  # mean backlog 150 over the tick, 10 req/s
    assert fb.fluid_wait_s[10] == pytest.approx(285.0)  # 3000 → 2700


def test_timeouts_count_exactly_the_excess() -> None:
    # capacity 10 req/s, timeout 100 s: at most 1000 queued; +300 per tick
    lam = np.array([15.0] * 6 + [10.0])
    fb = fluid_backlog(lam, 10.0, 60.0, timeout_s=100.0)
    np.testing.assert_allclose(fb.backlog_end, [300, 600, 900, 1000, 1000, 1000, 1000])
    np.testing.assert_allclose(fb.timed_out, [0, 0, 0, 200, 300, 300, 0])
    np.testing.assert_allclose(fb.served, 600.0)
    assert fb.fluid_wait_s[5] == pytest.approx(100.0)


def test_capacity_drop_times_out_unservable_backlog() -> None:
    lam = np.array([15.0, 2.0, 0.0])
    cap = np.array([10.0, 5.0, 0.0])
    fb = fluid_backlog(lam, cap, 60.0, timeout_s=50.0, initial=1000.0)
    # tick 0: keep 500 (10 req/s × 50 s), 500 time out; +300 → 800 > 500 → 300 more
    # tick 1: keep 250 (5 × 50), 250 time out; drains at 3 req/s for 60 s → 70 left
    # tick 2: no capacity, nothing can be served in time: the 70 time out
    np.testing.assert_allclose(fb.backlog_end, [500, 70, 0])
    np.testing.assert_allclose(fb.timed_out, [800, 250, 70])
    np.testing.assert_allclose(fb.served, [600, 300, 0])


def test_no_servers_times_out_every_arrival() -> None:
    fb = fluid_backlog(np.array([3.0, 3.0]), np.array([0.0, 0.0]), 10.0, timeout_s=30.0)
    np.testing.assert_allclose(fb.timed_out, [30, 30])
    np.testing.assert_allclose(fb.served, 0)


@settings(max_examples=150, deadline=None)
@given(
    lam=st.lists(st.floats(0, 50), min_size=1, max_size=60),
    cap=st.lists(st.floats(0, 40), min_size=1, max_size=60),
    timeout=st.floats(0.1, 500),
    initial=st.floats(0, 5000),
)
def test_fluid_backlog_conserves_requests(
    lam: list[float], cap: list[float], timeout: float, initial: float
) -> None:
    n = min(len(lam), len(cap))
    lam_a, cap_a = np.array(lam[:n]), np.array(cap[:n])
    fb = fluid_backlog(lam_a, cap_a, 60.0, timeout, initial)
    before = np.r_[initial, fb.backlog_end[:-1]]
    np.testing.assert_allclose(lam_a * 60.0, fb.served + fb.timed_out + fb.backlog_end - before, atol=1e-6)
    assert np.all(fb.served >= -1e-9) and np.all(fb.timed_out >= -1e-9)
    assert np.all(fb.served <= cap_a * 60.0 + 1e-6)
    assert np.all(fb.backlog_end <= cap_a * timeout + 1e-6)


def test_service_ticks_conserves_and_counts_stationary_timeouts() -> None:
    """A 2 s timeout in 60 s ticks gives up within the tick: M/M/1+D, not M/M/1's tail.

    The M/M/1 tail P(W > 2 s) = 0.95·e⁻¹ = 35 % of arrivals at ρ = 0.95 ignores that the
    requests giving up shorten the queue; the M/M/1+D give-up probability is
    ρ(1 − ρ)g/(1 − ρ²g), g = e^{−(μ−λ)τ} (Baccelli & Hébuterne 1981): 2.6 %.
    """
    lam = np.array([9.5, 9.9, 20.0, 5.0, 0.0])
    svc = service_ticks(lam, np.array([1, 1, 1, 1, 1]), 0.1, 1.0, 60.0, timeout_s=2.0)
    before = np.r_[0.0, svc.backlog_end[:-1]]
    np.testing.assert_allclose(lam * 60, svc.served + svc.timed_out + svc.backlog_end - before, atol=1e-9)
    rho = lam / 10.0
    g = np.exp(-(10.0 - lam) * 2.0)
    p_ab = rho * (1 - rho) * g / (1 - rho * rho * g)
    np.testing.assert_allclose(svc.timed_out, lam * 60 * p_ab, rtol=1e-9)
    assert svc.timed_out[0] == pytest.approx(9.5 * 60 * 0.026159, rel=1e-4)
    assert 0.5 < svc.timed_out[2] / (20 * 60) < 0.51  # overload: about 1 − 1/ρ give up


def test_service_ticks_counts_an_overload_once_and_the_drain_tail_partially() -> None:
    """By hand: 2 servers of 1 s (cμ = 2 req/s), 10 s ticks, 2 s timeout, so the queue holds 4.

    Tick 0, λ = 3: the queue grows 1/s and is full after 4 s; 30 arrive, 20 are served, the other
    6 beyond the 4 still queued time out. The fluid queue is the queue: no stationary tail on top
    (before the fix exp(−2·(2 − 1.6)) = 45 % of the 20 served were counted as errors too).
    Tick 1, λ = 1.5: the 4 drain at 0.5/s in 8 s; only the 1.5 × 2 = 3 arrivals after that see the
    stationary M/M/2 queue, late with P = C(2, 1.5)·exp(−(2 − 1.5)·2) = (9/14)·e⁻¹.
    Tick 2, λ = 1.5 with an empty queue: all 15 arrivals see it.
    """
    lam = np.array([3.0, 1.5, 1.5])
    svc = service_ticks(lam, np.array([2, 2, 2]), 1.0, 1.0, 10.0, timeout_s=2.0)
    late = 9.0 / 14.0 * math.exp(-1.0)
    assert float(exact_erlang_c(2, Fraction(3, 2))) == pytest.approx(9.0 / 14.0)
    np.testing.assert_allclose(svc.backlog_end, [4.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(svc.timed_out, [6.0, 3 * late, 15 * late], rtol=1e-12)
    np.testing.assert_allclose(svc.served, [20.0, 19.0 - 3 * late, 15 * (1 - late)], rtol=1e-12)
    before = np.r_[0.0, svc.backlog_end[:-1]]
    np.testing.assert_allclose(lam * 10, svc.served + svc.timed_out + svc.backlog_end - before, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    lam=st.lists(st.floats(0, 50), min_size=1, max_size=40),
    servers=st.lists(st.integers(0, 30), min_size=1, max_size=40),
    timeout=st.floats(0.05, 100),
    initial=st.floats(0, 2000),
)
def test_service_ticks_conserves_requests(
    lam: list[float], servers: list[int], timeout: float, initial: float
) -> None:
    n = min(len(lam), len(servers))
    lam_a, c = np.array(lam[:n]), np.array(servers[:n], dtype=float)
    assert_conserves(service_ticks(lam_a, c, 0.5, 1.5, 60.0, timeout, initial), lam_a, initial)


def assert_conserves(svc: ServiceTicks, lam: np.ndarray, initial: float, dt: float = 60.0) -> None:
    """Per tick: arrivals = served + timed out + Δ backlog, and no negative counts."""
    before = np.r_[initial, svc.backlog_end[:-1]]
    np.testing.assert_allclose(lam * dt, svc.served + svc.timed_out + svc.backlog_end - before, atol=1e-6)
    assert np.all(svc.served >= -1e-9) and np.all(svc.timed_out >= -1e-9)


# ----------------------------------------------------------------------------- latency


def mmc_sojourn_quantile(q: float, c: int, lam: float, mu: float) -> float:
    """Closed-form M/M/c sojourn quantile: (1−C)·Exp(μ) + C·Hypoexp(cμ−λ, μ)."""
    pw = float(exact_erlang_c(c, Fraction(lam / mu)))
    th = c * mu - lam

    def survival(t: float) -> float:
        hypo = (mu * math.exp(-th * t) - th * math.exp(-mu * t)) / (mu - th)
        return (1 - pw) * math.exp(-mu * t) + pw * hypo

    return brentq(lambda t: survival(t) - (1 - q), 0.0, 1e4, xtol=1e-12)


@pytest.mark.parametrize("c", [1, 4])
def test_single_service_quantiles_match_mmc_closed_form(c: int) -> None:
    mean_s = 0.05
    rhos = np.array([0.3, 0.5, 0.7, 0.85, 0.95])
    lam = rhos * c / mean_s
    m = mmc_metrics(lam, np.full(rhos.size, c), mean_s)
    got = latency_quantiles([Component(m.p_wait, m.wait_rate_per_s, mean_s)], QS)
    for i, lam_i in enumerate(lam):
        expected = [mmc_sojourn_quantile(q, c, lam_i, 1 / mean_s) for q in QS]
        np.testing.assert_allclose(got[i], expected, rtol=0.01)


def sample_route(
    rng: np.random.Generator, comps: list[Component], tick: int, n: int, hop_s: float
) -> np.ndarray:
    """Monte Carlo of the same sum: per visit fluid delay + zero-inflated Exp wait + service."""
    total = np.zeros(n)
    for comp in comps:
        for _ in range(comp.calls):
            p = np.broadcast_to(comp.p_wait, (4,))[tick]
            rate = np.broadcast_to(comp.wait_rate_per_s, (4,))[tick]
            total += np.broadcast_to(comp.fluid_delay_s, (4,))[tick] + hop_s
            total += np.where(rng.random(n) < p, rng.exponential(1 / rate, n), 0.0)
            m, cv = comp.mean_service_s, comp.service_cv
            if cv == 0:
                total += m
            elif cv == 1:
                total += rng.exponential(m, n)
            else:
                sigma = math.sqrt(math.log1p(cv * cv))
                total += rng.lognormal(math.log(m) - sigma**2 / 2, sigma, n)
    return total


def route_components() -> list[Component]:
    """Three services over four ticks: light, busy, near saturation, overloaded with backlog."""
    api = mmc_metrics(np.array([20.0, 70.0, 95.0, 120.0]), np.array([10, 10, 10, 10]), 0.1)
    db = mmc_metrics(np.array([40.0, 150.0, 180.0, 150.0]), np.array([2, 2, 2, 2]), 0.01, cv=0.5)
    cache = mmc_metrics(np.array([10.0, 10.0, 10.0, 10.0]), np.array([1, 1, 1, 1]), 0.002, cv=0.0)
    return [
        Component(api.p_wait, api.wait_rate_per_s, 0.1, fluid_delay_s=np.array([0, 0, 0, 1.5])),
        Component(db.p_wait, db.wait_rate_per_s, 0.01, service_cv=0.5, calls=2),
        Component(cache.p_wait, cache.wait_rate_per_s, 0.002, service_cv=0.0),
    ]


def test_route_quantiles_match_monte_carlo() -> None:
    comps = route_components()
    got = latency_quantiles(comps, QS, hop_overhead_s=0.001)
    rng = np.random.default_rng(20240611)
    for tick in range(4):
        sample = sample_route(rng, comps, tick, 1_000_000, 0.001)
        np.testing.assert_allclose(got[tick], np.quantile(sample, QS), rtol=0.02)


def test_pooled_quantile_matches_monte_carlo_of_the_mixture() -> None:
    comps = route_components()
    weights = np.array([600.0, 3000.0, 1200.0, 200.0])
    grid = np.linspace(0.0, 5.0, 2001)
    cdfs = sojourn_cdf(comps, grid, hop_overhead_s=0.001)
    got = pooled_quantile(grid, cdfs, weights, QS)
    rng = np.random.default_rng(7)
    sample = np.concatenate([sample_route(rng, comps, t, int(w * 200), 0.001) for t, w in enumerate(weights)])
    np.testing.assert_allclose(got, np.quantile(sample, QS), rtol=0.02)


def test_sojourn_cdf_is_consistent_with_quantiles() -> None:
    comps = route_components()
    qs = latency_quantiles(comps, QS)
    for tick in range(4):
        cdf = sojourn_cdf([_tick(c, tick) for c in comps], qs[tick])
        np.testing.assert_allclose(cdf[0], QS, atol=1e-3)


def _tick(comp: Component, tick: int) -> Component:
    def at(x: object) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=float), (4,))[tick : tick + 1]

    return Component(
        at(comp.p_wait), at(comp.wait_rate_per_s), comp.mean_service_s, at(comp.fluid_delay_s),
        comp.service_cv, comp.calls,
    )  # fmt: skip


def test_pooled_quantile_of_identical_ticks_is_the_tick_quantile() -> None:
    m = mmc_metrics(np.full(3, 16.0), np.full(3, 1), 0.05)
    comp = Component(m.p_wait, m.wait_rate_per_s, 0.05)
    grid = np.linspace(0, 3, 3001)
    got = pooled_quantile(grid, sojourn_cdf([comp], grid), np.array([1.0, 2.0, 3.0]), QS)
    expected = [mmc_sojourn_quantile(q, 1, 16.0, 20.0) for q in QS]
    np.testing.assert_allclose(got, expected, rtol=0.01)
    assert np.isinf(pooled_quantile(grid[:10], sojourn_cdf([comp], grid[:10]), np.ones(3), [0.99])[0])


def test_unservable_ticks_are_nan_and_deterministic_delays_shift() -> None:
    m = mmc_metrics(np.array([5.0, 5.0]), np.array([0, 1]), 0.1)
    base = latency_quantiles([Component(m.p_wait, m.wait_rate_per_s, 0.1)], QS)
    shifted = latency_quantiles(
        [Component(m.p_wait, m.wait_rate_per_s, 0.1, fluid_delay_s=np.array([0.0, 2.0]))],
        QS,
        hop_overhead_s=0.5,
    )
    assert np.isnan(base[0]).all()
    np.testing.assert_allclose(shifted[1], base[1] + 2.5, rtol=1e-12)


def test_quantiles_grow_with_load() -> None:
    lam = np.linspace(1.0, 19.5, 40)
    m = mmc_metrics(lam, np.full(lam.size, 2), 0.1)
    q = latency_quantiles([Component(m.p_wait, m.wait_rate_per_s, 0.1, service_cv=0.7)], QS)
    assert np.all(np.diff(q, axis=0) > -1e-6)


@settings(max_examples=40, deadline=None)
@given(
    rhos=st.lists(st.floats(0.0, 0.99), min_size=1, max_size=4),
    cvs=st.lists(st.sampled_from([0.0, 0.3, 1.0, 1.5]), min_size=4, max_size=4),
    qs=st.lists(st.floats(0.01, 0.999), min_size=2, max_size=6),
)
def test_quantiles_monotone_in_q(rhos: list[float], cvs: list[float], qs: list[float]) -> None:
    comps = []
    for i, rho in enumerate(rhos):
        servers = 1 + 3 * i
        m = mmc_metrics(np.array([rho * servers / 0.05]), np.array([servers]), 0.05, cvs[i])
        comps.append(Component(m.p_wait, m.wait_rate_per_s, 0.05 * (i + 1), service_cv=cvs[i]))
    q_sorted = np.sort(np.array(qs))
    got = latency_quantiles(comps, q_sorted)[0]
    assert np.all(np.isfinite(got)) and np.all(got > 0)
    assert np.all(np.diff(got) >= -1e-9 * got[-1])


def test_threads_quiet_ticks_and_repeated_calls() -> None:
    lam = np.linspace(10.0, 1990.0, 5000)
    m = mmc_metrics(lam, np.full(lam.size, 200), 0.1)  # rho from 0.005 to 0.995
    comp = Component(m.p_wait, m.wait_rate_per_s, 0.1, service_cv=0.6, calls=2)
    serial = latency_quantiles([comp], QS)
    np.testing.assert_array_equal(latency_quantiles([comp], QS, workers=2), serial)
    # calls: 2 is two visits to one queue: the same as two components sharing a queue key
    twice = Component(m.p_wait, m.wait_rate_per_s, 0.1, service_cv=0.6, queue="db")
    np.testing.assert_allclose(latency_quantiles([twice, twice], QS), serial, rtol=1e-5)
    # far below capacity nobody waits: an exponential service time's quantiles, −m·ln(1 − q)
    idle = mmc_metrics(np.array([50.0]), np.array([1000]), 0.1)
    got = latency_quantiles([Component(idle.p_wait, idle.wait_rate_per_s, 0.1)], QS)[0]
    np.testing.assert_allclose(got, [-0.1 * math.log1p(-q) for q in QS], rtol=2e-3)


def test_service_sum_is_built_once_per_visit_list_and_gives_the_same_quantiles() -> None:
    from simkit.traffic import queueing_latency as ql

    m = mmc_metrics(np.array([30.0, 90.0]), np.array([4, 4]), 0.04)
    comps = [Component(m.p_wait, m.wait_rate_per_s, 0.04, service_cv=0.8, calls=2)]
    ql.service_sum.cache_clear()
    first = latency_quantiles(comps, QS)
    fresh = ql._ServiceSum([(0.04, 0.8), (0.04, 0.8)])
    cached = ql.service_sum(((0.04, 0.8), (0.04, 0.8)))
    info = ql.service_sum.cache_info()
    assert (info.misses, info.hits) == (1, 1)  # the route built it, the call above reused it
    np.testing.assert_array_equal(cached.f, fresh.f)
    np.testing.assert_array_equal(cached.x, fresh.x)
    assert not cached.f.flags.writeable and not cached.x.flags.writeable
    np.testing.assert_array_equal(latency_quantiles(comps, QS), first)
    assert ql.service_sum.cache_info().misses == 1


# ------------------------------------------------------------------ near-critical diffusion


def test_band_is_the_slow_relaxing_ticks_near_rho_one() -> None:
    """8 servers of 100 ms (cμ = 80/s), 60 s ticks: relaxation 1/(cμ(1 − √ρ)²) >= 60 s within ~±2 %."""
    rho = np.array([0.9, 0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.05])
    band = near_critical(80.0 * rho, np.full(rho.size, 80.0), 60.0)
    assert band.tolist() == [False, False, True, True, True, True, True, False]
    assert not near_critical(np.array([0.0, 80.0]), np.array([0.0, 0.0]), 60.0).any()


def test_diffusion_matches_reflected_brownian_motion_closed_forms() -> None:
    """Zero drift from 0, barrier out of reach: E[Q_t] = σ·√(2t/π) (|W_t| of a Brownian motion).
    Negative drift for long: the stationary RBM is exponential with mean σ²/(2|m|) (Harrison 1985)."""
    cap, dt = 80.0, 60.0
    free = diffusion_ticks(np.full(20, cap), np.full(20, cap), 1.0, dt, 1e6)
    sigma = math.sqrt(2 * cap)
    assert free.backlog_end[-1] == pytest.approx(sigma * math.sqrt(2 * 1200 / math.pi), rel=0.02)
    assert free.timed_out.sum() == pytest.approx(0.0, abs=1e-6)
    lam = 78.0
    settled = diffusion_ticks(np.full(120, lam), np.full(120, cap), 1.0, dt, 1e6)
    assert settled.backlog_end[-1] == pytest.approx((lam + cap) / (2 * (cap - lam)), rel=0.03)


def test_diffusion_timeouts_grow_with_load_and_fill_the_barrier_above_one() -> None:
    """At ρ = 1.05 for 20 min the queue sits at b = cμ·timeout and the excess times out (fluid-like)."""
    cap, n = 80.0, 20
    counts = [
        diffusion_ticks(np.full(n, rho * cap), np.full(n, cap), 1.0, 60.0, 10.0).timed_out.sum()
        for rho in (0.99, 1.0, 1.01, 1.05)
    ]
    assert counts == sorted(counts)
    fluid = 0.05 * cap * 1200 - cap * 10.0
    assert counts[-1] == pytest.approx(fluid, rel=0.1)


@settings(max_examples=80, deadline=None)
@given(
    rho=st.lists(st.floats(0.9, 1.1), min_size=1, max_size=30),
    servers=st.lists(st.integers(1, 40), min_size=1, max_size=30),
    timeout=st.floats(0.5, 60),
    initial=st.floats(0, 500),
)
def test_service_ticks_conserves_requests_in_the_band(
    rho: list[float], servers: list[int], timeout: float, initial: float
) -> None:
    """Loads around capacity, so many ticks go through the diffusion (and in and out of it)."""
    n = min(len(rho), len(servers))
    c = np.array(servers[:n], dtype=float)
    lam = np.array(rho[:n]) * c / 0.1
    svc = service_ticks(lam, c, 0.1, 1.0, 60.0, timeout, initial)
    assert_conserves(svc, lam, initial)
    assert np.all(svc.backlog_end <= c / 0.1 * timeout + 1e-6)
    band = svc.band
    assert np.all(svc.p_wait[band] <= 1.0) and np.all(svc.fluid_wait_s[band] >= 0.0)
    mean = svc.p_wait / np.where(svc.wait_rate_per_s > 0, svc.wait_rate_per_s, np.inf) + svc.fluid_wait_s
    np.testing.assert_allclose(mean[band], svc.mean_wait_s[band], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rho", [0.995, 1.0, 1.01])
def test_a_band_stretch_cut_in_two_keeps_the_spread_of_its_queue(rho: float) -> None:
    """The engine computes ticks in chunks between changes of ready pods; carrying the backlog's mean
    and variance across the cut keeps the result close to the uncut stretch (the mean alone halved
    the timeouts at rho 1.0 and shifted waits by ~10 %)."""
    lam = np.full(20, rho * 80.0)
    whole = service_ticks(lam, 8, 0.1, 1.0, 60.0, 10.0)
    first = service_ticks(lam[:10], 8, 0.1, 1.0, 60.0, 10.0)
    assert first.band.all() and first.backlog_var[-1] > 0
    rest = service_ticks(lam[10:], 8, 0.1, 1.0, 60.0, 10.0, first.backlog_end[-1], first.backlog_var[-1])
    cut_timeouts = first.timed_out.sum() + rest.timed_out.sum()
    assert cut_timeouts == pytest.approx(whole.timed_out.sum(), rel=0.1, abs=2.0)
    assert rest.mean_wait_s.mean() == pytest.approx(whole.mean_wait_s[10:].mean(), rel=0.03)
    assert rest.backlog_end[-1] == pytest.approx(whole.backlog_end[-1], rel=0.03)
