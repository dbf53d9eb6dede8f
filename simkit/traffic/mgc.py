"""M/G/c waits at high service-time variability: light/heavy-traffic interpolation of the tail.

Allen–Cunneen's W_q(M/G/c) ≈ W_q(M/M/c)·(C_a² + C_s²)/2 is the heavy-traffic limit for any c
(Köllerström, "Heavy traffic theory for queues with several servers. I", J. Appl. Prob. 11,
1974) and exact for M/G/1, but with several servers and C_s² > 1 it overstates the wait at
moderate load: one long job blocks one server, not all of them (mean wait +88 %, P95 +23 % at
lognormal cv 3, c 4-8; bench/ANALYSIS.md "Fidelity II"). Two moments cannot fix this for every
distribution (Gupta, Harchol-Balter, Dai & Zwart, "On the inapproximability of M/G/K", Queueing
Systems 64, 2010), so this module uses the service distribution itself in light traffic:

- light traffic (Burman & Smith, "A light-traffic theorem for multi-server queues", Math. Oper.
  Res. 8, 1983): a request that waits, waits for the first of c busy servers, the minimum of c
  equilibrium residual service times R; the ratio L = cμ·E[min(R₁..R_c)] (1 for exponential
  service, c/(c+1) for deterministic, from the service CDF for lognormal);
- heavy traffic: H = (C_a² + C_s²)/2;
- the conditional wait's scale (1 − ρ)·cμ·E[W | W > 0] is interpolated as L + (H − L)/(1 + kβ)
  in the Halfin–Whitt parameter β = (1 − ρ)√c (β → 0 is heavy traffic for any c), with k = 2
  chosen against the reference simulations of `tests/test_queueing_mgc.py` / the bench.

The latency model's wait is P·Exp(rate). With C_s² > 1 the conditional wait is more variable
than exponential (fewer requests wait, some much longer), so the tail keeps Allen–Cunneen's
heavy-traffic decay rate (cμ − λ)/H and the weight P = ErlangC·r/H carries the mean: the mean
wait is ErlangC·r/(cμ − λ), and P95/P99 follow the long waits. At c = 1 L = H, nothing changes
(Pollaczek–Khinchine's mean); with C_s² <= 1 Allen–Cunneen is kept (within 5-9 % on M/D/c).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import quad
from scipy.special import ndtr

Array = NDArray[np.float64]

INTERPOLATION_K = 2.0  # weight 1/(1 + kβ) of the heavy-traffic limit (bench/ANALYSIS.md, Fidelity II)


@lru_cache(maxsize=4096)
def light_traffic_ratio(cv: float, servers: int) -> float:
    """cμ·E[min of c equilibrium residual service times], mean service 1 (Burman & Smith 1983).

    Exponential: 1; deterministic: c/(c + 1); otherwise lognormal with this cv, by quadrature of
    P(R > x)^c with P(R > x) = E[(S − x)⁺]/E[S].
    """
    c = int(servers)
    if c <= 0:
        return 1.0
    if cv == 1.0:
        return 1.0
    if cv <= 0.0:
        return c / (c + 1.0)
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = -sigma * sigma / 2.0

    def tail(x: float) -> float:
        if x <= 0.0:
            return 1.0
        z = (math.log(x) - mu) / sigma
        return float(ndtr(sigma - z) - x * ndtr(-z))

    # c·∫ P(R > x)^c dx with x = t/c: the integrand is about e^{−t} for many servers
    value, _ = quad(lambda t: tail(t / c) ** c, 0.0, math.inf, limit=200)
    return float(value)


def tail_weight(servers: Array, rho: Array, cv: float, heavy: Array) -> Array:
    """r/H: the factor on Erlang C of the wait's weight, from the interpolation above (1 if cv <= 1).

    `heavy` is H = (C_a² + C_s²)/2 per tick; the light-traffic ratio is scaled by H/H_Poisson so
    that both ends move together with the arrivals' variability (c = 1 gives back Kingman's H).
    """
    out = np.ones(np.shape(rho), dtype=np.float64)
    if cv <= 1.0:
        return out
    c = np.asarray(servers, dtype=np.float64)
    several = (c >= 2) & (rho > 0) & (rho < 1)
    if not several.any():
        return out
    cs = c[several]
    uniq, inverse = np.unique(cs.astype(np.int64), return_inverse=True)
    light = np.array([light_traffic_ratio(float(cv), int(k)) for k in uniq])[inverse]
    h = heavy[several]
    light = light * h / ((1.0 + cv * cv) / 2.0)
    beta = (1.0 - rho[several]) * np.sqrt(cs)
    r = light + (h - light) / (1.0 + INTERPOLATION_K * beta)
    out[several] = np.minimum(r / h, 1.0)
    return out


# --------------------------------------------------------------------------------------------
# one server: the exact Pollaczek–Khinchine wait, handed to the latency model by its tail

SINGLE_RHO = np.linspace(0.1, 0.99, 31)  # table of the one-server fit; outside it Allen–Cunneen
_PK_BINS = 1 << 15
_PK_QS = (0.95, 0.99)


def single_server_tail(cv: float, rho: Array) -> tuple[Array, Array, NDArray[np.bool_]]:
    """(weight P, rate θ for mean service 1, where fitted) of the M/G/1 wait as P·Exp(θ).

    The M/G/1 wait is exact by Pollaczek–Khinchine: W = R₁ + ... + R_N, N geometric with
    P(N >= n) = ρⁿ, R the equilibrium residual service time (Kleinrock, Queueing Systems Vol. 1,
    1975, §5.8; Abate & Whitt 1992 for the numerical inversion). Its tail is heavier than
    exponential for cv > 1 and lighter for cv < 1, so (P, θ) are chosen to give the exact P95 and
    P99 of wait + service (`_fit_tail`), tabulated on `SINGLE_RHO` once per cv and interpolated
    (P/ρ and θ/(1 − ρ) vary slowly). The mean wait stays Pollaczek–Khinchine's.
    """
    table_p, table_t, ok = _single_server_table(float(cv))
    r = np.asarray(rho, dtype=np.float64)
    inside = (r >= SINGLE_RHO[0]) & (r <= SINGLE_RHO[-1])
    if not ok.any():
        return np.zeros_like(r), np.zeros_like(r), np.zeros(r.shape, dtype=bool)
    rr = np.clip(r, SINGLE_RHO[0], SINGLE_RHO[-1])
    p = np.interp(rr, SINGLE_RHO[ok], table_p[ok]) * rr
    theta = np.interp(rr, SINGLE_RHO[ok], table_t[ok]) * (1.0 - rr)
    return np.clip(p, 0.0, 1.0), theta, inside


@lru_cache(maxsize=32)
def _single_server_table(cv: float) -> tuple[Array, Array, NDArray[np.bool_]]:
    """P/ρ and θ/(1 − ρ) of the fitted one-server tail on `SINGLE_RHO` (see `single_server_tail`)."""
    ps, ts, ok = [], [], []
    for rho in SINGLE_RHO:
        fit = _fit_tail(cv, float(rho))
        ok.append(fit is not None)
        p, t = fit if fit is not None else (rho, 0.0)
        ps.append(p / rho)
        ts.append(t / (1.0 - rho))
    return np.array(ps), np.array(ts), np.array(ok, dtype=bool)


def _residual_tail(cv: float, x: Array) -> Array:
    """P(R > x) = E[(S − x)⁺]/E[S] for mean-1 service: lognormal, exponential or deterministic."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    if cv <= 0.0:
        return np.asarray(np.clip(1.0 - x, 0.0, 1.0), dtype=np.float64)
    if cv == 1.0:
        return np.asarray(np.exp(-x), dtype=np.float64)
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = -sigma * sigma / 2.0
    with np.errstate(divide="ignore"):
        z = (np.log(x) - mu) / sigma
    return np.asarray(np.where(x > 0, ndtr(sigma - z) - x * ndtr(-z), 1.0), dtype=np.float64)


def _service_masses(cv: float, h: float, n: int) -> Array:
    """Masses of a mean-1 service time on bins of width h (rounded to the nearest bin)."""
    edges = (np.arange(n + 1) - 0.5) * h
    if cv <= 0.0:
        out = np.zeros(n)
        k = min(int(round(1.0 / h)), n - 1)
        out[k] = 1.0
        return out
    if cv == 1.0:
        return np.asarray(np.diff(-np.expm1(-np.maximum(edges, 0.0))), dtype=np.float64)
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = -sigma * sigma / 2.0
    with np.errstate(divide="ignore"):
        cdf = np.where(edges > 0, ndtr((np.log(np.maximum(edges, 1e-300)) - mu) / sigma), 0.0)
    return np.diff(cdf)


def _fit_tail(cv: float, rho: float) -> tuple[float, float] | None:
    """(P, θ) with P·Exp(θ) + S having the exact M/G/1 sojourn's P95 and P99, or None."""
    mean_wait = rho * (1.0 + cv * cv) / (2.0 * (1.0 - rho))
    h = (40.0 * mean_wait + 200.0) / _PK_BINS
    n = 2 * _PK_BINS  # zero padding against the circular wrap of the geometric sum
    edges = np.asarray((np.arange(n + 1) - 0.5) * h, dtype=np.float64)
    residual = -np.diff(_residual_tail(cv, edges))  # R rounded to the nearest bin (P(R > −h/2) = 1)
    w_hat = (1.0 - rho) / (1.0 - rho * np.fft.rfft(residual[:n]))
    s = _service_masses(cv, h, n)
    sojourn = np.clip(np.cumsum(np.fft.irfft(w_hat * np.fft.rfft(s), n=n)), 0.0, 1.0)
    q = [int(np.searchsorted(sojourn, level)) for level in _PK_QS]
    if q[-1] >= n - 1:
        return None
    return fit_sojourn_quantiles(cv, q[0] * h, q[1] * h, h, s, mean_wait)


def fit_sojourn_quantiles(
    cv: float, x95: float, x99: float, h: float, s: Array | None = None, mean_wait: float = 1.0
) -> tuple[float, float] | None:
    """(P, θ) with P·Exp(θ) + S (S mean-1 service of this cv) having P95 x95 and P99 x99, or None.

    `s` are the service's masses on bins of width h (computed if not given); `mean_wait` scales
    the search range of θ.
    """
    from scipy.optimize import brentq

    if s is None:
        s = _service_masses(cv, h, int(math.ceil(2.0 * x99 / h)) + 2)
    f_s = np.cumsum(s)
    grid = np.arange(s.size) * h

    def model_cdf(theta: float, x: float, p: float) -> float:
        k = int(round(x / h))
        decay = np.exp(-theta * (x - grid[: k + 1]))
        with_wait = float(np.sum(s[: k + 1] * (1.0 - decay)))
        return (1.0 - p) * float(f_s[k]) + p * with_wait

    def weight(theta: float) -> float:
        k = int(round(x99 / h))
        with_wait = float(np.sum(s[: k + 1] * (1.0 - np.exp(-theta * (x99 - grid[: k + 1])))))
        gap = float(f_s[k]) - with_wait
        return (float(f_s[k]) - 0.99) / gap if gap > 0 else math.inf

    def miss(theta: float) -> float:
        return model_cdf(theta, x95, weight(theta)) - 0.95

    lo, hi = 1e-4 / max(mean_wait, 1e-9), 1e3
    if not weight(lo) < 1.0:
        return None
    if not weight(hi) <= 1.0:  # the weight grows with θ: P <= 1 bounds θ
        hi = float(brentq(lambda t: min(weight(t), 2.0) - 1.0, lo, hi, xtol=1e-12, rtol=1e-12))
    thetas = np.geomspace(lo, hi, 64)  # bracket the root by a scan: the miss need not be monotone
    misses = np.array([miss(float(t)) for t in thetas])
    change = np.flatnonzero(np.isfinite(misses[:-1]) & (np.sign(misses[:-1]) != np.sign(misses[1:])))
    if change.size == 0:
        return None
    i = int(change[0])
    try:
        theta = float(brentq(miss, float(thetas[i]), float(thetas[i + 1]), xtol=1e-12, rtol=1e-10))
    except (ValueError, ZeroDivisionError):
        return None
    p = weight(theta)
    return (p, theta) if 0.0 < p <= 1.0 else None
