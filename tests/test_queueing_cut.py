"""Waits cut at the timeout (`simkit.traffic.queueing_cut`, `Component.wait_cap_s`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.traffic.queueing import Component, latency_quantiles, service_ticks, sojourn_cdf
from simkit.traffic.queueing_cut import cut_spectrum, mean_fraction, truncated_cdf, truncated_exponent


@settings(max_examples=200, deadline=None)
@given(u=st.floats(-200.0, 200.0))
def test_the_exponent_is_recovered_from_the_mean(u: float) -> None:
    assert truncated_exponent(mean_fraction(u)) == pytest.approx(u, abs=1e-6 * max(1.0, abs(u)))


@settings(max_examples=100, deadline=None)
@given(u=st.floats(-50.0, 50.0).filter(lambda x: abs(x) > 1e-3))
def test_mean_fraction_is_the_mean_of_the_truncated_cdf(u: float) -> None:
    """E[X]/L = ∫₀¹ (1 − F(t)) dt for the CDF `truncated_cdf` gives."""
    t = np.linspace(0.0, 1.0, 200_001)
    tail = 1.0 - truncated_cdf(u, t)
    area = float(np.sum((tail[1:] + tail[:-1]) / 2) * (t[1] - t[0]))
    assert mean_fraction(u) == pytest.approx(area, abs=1e-6)
    assert truncated_cdf(u, 0.0) == 0.0 and truncated_cdf(u, 1.0) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(p=st.floats(0.0, 1.0), u=st.floats(-30.0, 30.0), cap=st.floats(0.05, 5.0))
def test_cut_spectrum_is_a_distribution_inside_the_cap(p: float, u: float, cap: float) -> None:
    bins, alpha = 256, 1.0  # no tilt: the inverse transform gives the masses back
    h = np.array([1.5 * cap / bins])
    spec = cut_spectrum(np.array([p]), np.array([u]), np.array([cap]), h, bins, alpha, bins // 2 + 1)
    masses = np.fft.irfft(spec.astype(np.complex128), n=bins)[0]
    assert masses.sum() == pytest.approx(1.0, abs=1e-5)
    assert masses.min() > -1e-5
    beyond = (np.arange(bins) - 0.5) * h[0] > cap
    assert masses[beyond].sum() < 1e-5
    assert masses[0] >= 1.0 - p - 1e-5


def _exact_sojourn(p: float, delta: float, tau: float, mean_s: float, n: int, seed: int) -> np.ndarray:
    """Samples of Bernoulli(p)·(density ∝ e^{−δx} on (0, τ)) + Exp(mean_s)."""
    rng = np.random.default_rng(seed)
    x = -np.log1p(-rng.random(n) * -np.expm1(-delta * tau)) / delta
    return np.where(rng.random(n) < p, x, 0.0) + rng.exponential(mean_s, n)


@pytest.mark.parametrize(("p", "delta"), [(0.6, 8.0), (0.9, -4.0), (0.3, 0.5)])
def test_a_cut_component_has_the_exact_quantiles(p: float, delta: float) -> None:
    """Rate 1/E[X | X > 0] and the cap give back the truncated exponential: P50/P95/P99 within 1 %."""
    tau, mean_s = 0.5, 0.1
    mean = tau * float(mean_fraction(delta * tau))
    comp = Component(np.array([p]), np.array([1.0 / mean]), mean_s, wait_cap_s=tau)
    fast = latency_quantiles([comp], (0.5, 0.95, 0.99))[0]
    exact = np.quantile(_exact_sojourn(p, delta, tau, mean_s, 400_000, 1), (0.5, 0.95, 0.99))
    np.testing.assert_allclose(fast, exact, rtol=0.01)


def test_calls_two_with_a_cut_wait_stay_below_twice_the_cap() -> None:
    """Two visits to a give-up queue: the waits' sum is at most 2τ, whatever their correlation."""
    tau = 0.5
    st_ = service_ticks(np.array([13.0]), 1, 0.1, 1.0, 60.0, tau)
    comp = st_.visit(2, timeout_s=tau)
    q = latency_quantiles([comp], (0.999999,), eps=1e-9)[0, 0]
    service_only = latency_quantiles([Component(np.zeros(1), np.ones(1), 0.1, calls=2)], (0.999999,))[0, 0]
    assert q <= 2 * tau + service_only + 0.01
    uncut = latency_quantiles([Component(st_.p_wait, st_.wait_rate_per_s, 0.1, calls=2)], (0.999999,))
    assert uncut[0, 0] > q  # the same mean wait, not cut, reaches further


def test_an_infinite_cap_changes_nothing() -> None:
    """Without a cap (the default) the spectra are the closed-form exponential ones, bit for bit."""
    rng = np.random.default_rng(3)
    p, rate, fluid = rng.random(50), 1.0 + 10 * rng.random(50), rng.random(50)
    base = Component(p, rate, 0.1, fluid, calls=2)
    same = Component(p, rate, 0.1, fluid, calls=2, wait_cap_s=math.inf)
    np.testing.assert_array_equal(latency_quantiles([base]), latency_quantiles([same]))


def test_a_mean_that_does_not_fit_below_the_cap_keeps_the_exponential() -> None:
    comp = Component(np.array([0.5]), np.array([1.0]), 0.1, np.array([0.2]), wait_cap_s=0.5)
    plain = Component(np.array([0.5]), np.array([1.0]), 0.1, np.array([0.2]))
    np.testing.assert_array_equal(latency_quantiles([comp]), latency_quantiles([plain]))


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(0.0, 1.0),
    fraction=st.floats(0.01, 0.99),
    cap=st.floats(0.01, 10.0),
    shift=st.floats(0.0, 0.5),
    calls=st.integers(1, 3),
    mean_s=st.floats(0.001, 1.0),
)
def test_cut_waits_give_a_distribution_bounded_by_the_caps(
    p: float, fraction: float, cap: float, shift: float, calls: int, mean_s: float
) -> None:
    """Any cut visit (mean given a wait = fraction of the room below the cap): the route's CDF is
    non-decreasing in [0, 1], and nothing lies beyond calls × cap plus the services' own tail."""
    room = max(cap - shift, 1e-3)
    comp = Component(
        np.array([p]),
        np.array([1.0 / (fraction * room)]),
        mean_s,
        np.array([shift]),
        calls=calls,
        wait_cap_s=cap,
    )
    service_hi = latency_quantiles([Component(np.zeros(1), np.ones(1), mean_s, calls=calls)], (1 - 1e-6,))[
        0, 0
    ]
    # the spectra round each visit's wait to a bin of the FFT grid (>= 256 bins over a horizon of at
    # most about twice the bound): mass may sit up to (calls + 1) bins, < 4 % of the bound, above it
    grid = np.linspace(0.0, 1.04 * (calls * max(cap, shift + room) + service_hi), 400)
    cdf = sojourn_cdf([comp], grid)[0]
    assert np.all(np.diff(cdf) >= -1e-5) and cdf.min() >= 0.0 and cdf.max() <= 1.0
    assert cdf[-1] >= 1.0 - 1e-4
