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
