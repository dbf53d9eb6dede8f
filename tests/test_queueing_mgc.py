"""M/G/c waits beyond Allen–Cunneen (`traffic.mgc`) and GI/G/c arrivals (`arrival_scv`).

Exact checks where they exist (light-traffic ratios, the one-server fit on exponential service,
Kingman's GI/G/1 mean, unchanged M/M/c), a small seeded simulation for several servers at
high cv, and properties (monotone in load, cv and servers).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from fcfs_sim import fcfs, service_times
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.traffic.mgc import _fit_tail, light_traffic_ratio, single_server_tail
from simkit.traffic.queueing import (
    Component,
    erlang_c,
    latency_quantiles,
    mmc_metrics,
    service_ticks,
)

QS = (0.5, 0.95, 0.99)


def test_light_traffic_ratio_exact_cases() -> None:
    """c·E[min of c residuals]: 1 for exponential, c/(c+1) deterministic, E[S²]/2E[S] at c = 1."""
    assert light_traffic_ratio(1.0, 7) == 1.0
    assert light_traffic_ratio(0.0, 4) == pytest.approx(0.8)
    for cv in (0.5, 2.0, 3.0):
        assert light_traffic_ratio(cv, 1) == pytest.approx((1 + cv * cv) / 2, rel=1e-6)
    ratios = [light_traffic_ratio(3.0, c) for c in (1, 2, 4, 8, 32, 128, 1024)]
    assert all(a > b for a, b in zip(ratios, ratios[1:], strict=False))
    assert 0.95 < ratios[-1] < 1.05  # many servers: the first to free up is an Exp(cμ) clock


@pytest.mark.parametrize("rho", [0.5, 0.7, 0.9])
def test_one_server_fit_gives_back_mm1(rho: float) -> None:
    """With exponential service the exact P-K wait is ρ·Exp(1 − ρ): the fit must find it."""
    p, theta = _fit_tail(1.0, rho) or (math.nan, math.nan)
    assert p == pytest.approx(rho, rel=0.01)
    assert theta == pytest.approx(1.0 - rho, rel=0.01)


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_md1_sojourn_quantiles_match_the_simulation(rho: float) -> None:
    """M/D/1: Allen–Cunneen's exponential wait gave P95 +9 %, P99 +13 % at ρ 0.5; now within 4 %."""
    rng = np.random.default_rng(3)
    n = 300_000
    t = np.cumsum(rng.exponential(1.0 / rho, n))
    wait, _ = fcfs(t, np.ones(n), 1)
    ref = np.quantile(wait[10_000:] + 1.0, QS[1:])
    m = mmc_metrics(np.array([rho]), np.array([1]), 1.0, cv=0.0)
    got = latency_quantiles([Component(m.p_wait, m.wait_rate_per_s, 1.0, service_cv=0.0)], QS[1:])[0]
    np.testing.assert_allclose(got, ref, rtol=0.04)
    assert m.mean_wait_s[0] == pytest.approx(rho / (2 * (1 - rho)), rel=1e-12)  # P-K mean kept


@pytest.mark.parametrize(("cv", "c", "rho"), [(2.0, 4, 0.5), (3.0, 8, 0.7), (3.0, 4, 0.5)])
def test_several_servers_high_cv_match_the_simulation(cv: float, c: int, rho: float) -> None:
    """Lognormal service, a short run of other seeds than the table's: mean wait within 12 %
    (Allen–Cunneen: +50 to +86 %), P95 within 8 % (the table's own check is tests/test_mgc_table.py)."""
    rng = np.random.default_rng(21)
    n = 250_000
    t = np.cumsum(rng.exponential(1.0 / (rho * c), n))
    s = service_times(rng, n, 1.0, cv)
    wait, _ = fcfs(t, s, c)
    keep = slice(20_000, None)
    m = mmc_metrics(np.array([rho * c]), np.array([c]), 1.0, cv=cv)
    assert m.mean_wait_s[0] == pytest.approx(wait[keep].mean(), rel=0.12)
    allen_cunneen = erlang_c(c, rho * c)[()] * (1 + cv * cv) / 2 / (c - rho * c)
    assert allen_cunneen > 1.4 * wait[keep].mean()  # what it replaces was far off
    got = latency_quantiles([Component(m.p_wait, m.wait_rate_per_s, 1.0, service_cv=cv)], QS)[0]
    assert got[1] == pytest.approx(np.quantile(wait[keep] + s[keep], 0.95), rel=0.08)


@pytest.mark.parametrize("cv", [0.0, 0.5, 1.0, 1.5, 3.0])
def test_default_arrival_scv_changes_nothing(cv: float) -> None:
    lam = np.array([0.5, 3.0, 7.9, 8.0, 12.0, 0.0])
    c = np.array([1, 4, 8, 8, 8, 2])
    a = mmc_metrics(lam, c, 1.0, cv)
    b = mmc_metrics(lam, c, 1.0, cv, arrival_scv=1.0)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    s1 = service_ticks(lam, c, 1.0, cv, 60.0, 30.0)
    s2 = service_ticks(lam, c, 1.0, cv, 60.0, 30.0, arrival_scv=np.ones(lam.size))
    for key in ("p_wait", "wait_rate_per_s", "served", "timed_out", "mean_wait_s"):
        np.testing.assert_array_equal(getattr(s1, key), getattr(s2, key))


def test_mmc_is_unchanged() -> None:
    lam, c = np.array([10.0, 50.0, 79.0]), np.array([2, 10, 10])
    m = mmc_metrics(lam, c, 0.1)
    np.testing.assert_array_equal(m.p_wait, erlang_c(c, lam * 0.1))
    np.testing.assert_allclose(m.wait_rate_per_s, c / 0.1 - lam, rtol=0)


@pytest.mark.parametrize(("ca2", "cv"), [(0.0, 1.0), (4.0, 0.5), (13.0, 2.0)])
def test_gig1_mean_wait_is_kingman(ca2: float, cv: float) -> None:
    """GI/G/1 with C_a²: W ≈ ρ/(1 − ρ)·(C_a² + C_s²)/2·E[S] (Kingman; exact P-K at C_a² = 1)."""
    rho, s = 0.7, 0.2
    m = mmc_metrics(np.array([rho / s]), np.array([1]), s, cv, arrival_scv=ca2)
    assert m.mean_wait_s[0] == pytest.approx(rho / (1 - rho) * (ca2 + cv * cv) / 2 * s, rel=1e-12)


def test_arrival_scv_per_tick() -> None:
    lam = np.full(3, 6.0)
    m = mmc_metrics(lam, np.full(3, 8), 1.0, 1.0, arrival_scv=np.array([1.0, 4.0, 13.0]))
    ratio = m.mean_wait_s / m.mean_wait_s[0]
    np.testing.assert_allclose(ratio, [1.0, 2.5, 7.0], rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    c=st.integers(2, 64),
    rho=st.floats(0.05, 0.97),
    more=st.floats(0.01, 0.5),
    cv=st.floats(1.05, 4.0),
)
def test_mgc_wait_monotone_in_load_cv_and_servers(c: int, rho: float, more: float, cv: float) -> None:
    """More load or one server less (same λ) never shortens the mean wait (FCFS sample paths);
    from cv 1.5 on (the table's cvs) more variable service lengthens it too. Between cv 1 and 1.5
    that is not a law for several servers (the M/G/c mean is not monotone in the service's
    variability, Gupta et al. 2010), and the table has c 16-32 at low load below M/M/c's mean."""

    def mean(c_: int, rho_: float, cv_: float) -> float:
        return float(mmc_metrics(np.array([rho_ * c_]), np.array([c_]), 1.0, cv_).mean_wait_s[0])

    base = mean(c, rho, cv)
    assert base >= 0.0
    assert mean(c, min(rho * (1 + more), 0.99), cv) >= base * (1 - 1e-9)
    if cv >= 1.5:
        assert mean(c, rho, cv * (1 + more)) >= base * (1 - 1e-9)
    assert mean(c + 1, rho * c / (c + 1), cv) <= base * (1 + 1e-9)  # same λ, one more server
    allen_cunneen = mean(c, rho, 1.0) * (1 + cv * cv) / 2
    assert base <= allen_cunneen * (1 + 1e-9)  # below the heavy-traffic limit, as every table point


def test_single_server_table_interpolates_between_fits() -> None:
    rho = np.array([0.3, 0.55, 0.95])
    p, theta, inside = single_server_tail(2.0, rho)
    assert inside.all()
    for i, r in enumerate(rho):
        direct = _fit_tail(2.0, float(r))
        assert direct is not None
        assert p[i] == pytest.approx(direct[0], rel=0.03)
        assert theta[i] == pytest.approx(direct[1], rel=0.03)


def test_heavy_tailed_service_gets_a_grid_that_resolves_its_body() -> None:
    """Lognormal cv 3: the 1 − 5·10⁻⁶ quantile is about 250 mean service times, so 256 bins left
    1.2 means per bin and the P95 0.9 % high; the route now takes enough bins for a step of at most
    half the mean (1024 here), exponential service keeps 256 (its outputs unchanged)."""
    from simkit.traffic.queueing_latency import RouteLatency

    m = mmc_metrics(np.array([40.0]), np.array([8]), 0.14, cv=3.0)
    comp = Component(m.p_wait, m.wait_rate_per_s, 0.14, service_cv=3.0)
    assert RouteLatency([comp])._route.bins == 1024
    fine = latency_quantiles([comp], QS, bins=4096)[0]
    np.testing.assert_allclose(latency_quantiles([comp], QS)[0, 1:], fine[1:], rtol=0.003)
    exp = Component(np.array([0.5]), np.array([10.0]), 0.14)
    assert RouteLatency([exp])._route.bins == 256


def test_lognormal_cv3_c8_against_a_long_exact_run() -> None:
    """Table 2c's "lognormal cv 3, c 8, ρ 0.7" row against one long exact FCFS run (2·10⁶ requests;
    its P95 varies by about 1 % between such runs, a 20-minute replay's by 9 %): P95 within 5 %
    (+1 % here; +3.6 % against 8 runs of 5·10⁶, bench/ANALYSIS.md). Its P99 is left out: one very
    long job can move a run's P99 by 6-8 % even at this length (this seed: 12.8 against 12.0)."""
    rng = np.random.default_rng(8)
    n, c, rho = 2_000_000, 8, 0.7
    t = np.cumsum(rng.exponential(1.0 / (rho * c), n))
    s = service_times(rng, n, 1.0, 3.0)
    wait, _ = fcfs(t, s, c)
    ref = float(np.quantile((wait + s)[n // 20 :], 0.95))
    m = mmc_metrics(np.array([rho * c]), np.array([c]), 1.0, cv=3.0)
    got = latency_quantiles([Component(m.p_wait, m.wait_rate_per_s, 1.0, service_cv=3.0)], (0.95,))[0, 0]
    assert got == pytest.approx(ref, rel=0.05)
