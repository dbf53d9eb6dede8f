"""Exact stationary M/M/c response time, independent of simkit's own Erlang code (the reference).

Erlang C by the Erlang B recursion B_k = a B_{k-1} / (k + a B_{k-1}); the sojourn T = W + S with
P(W > 0) = C, W | W > 0 ~ Exp(θ), θ = cμ − λ, S ~ Exp(μ), so (Kleinrock 1975, §3.5; Gross & Harris)
P(T > t) = (1 − C) e^{−μt} + C (θ e^{−μt} − μ e^{−θt}) / (θ − μ)   (θ ≠ μ),
P(T > t) = (1 − C) e^{−μt} + C (1 + μt) e^{−μt}                     (θ = μ).
"""

from __future__ import annotations

import math

from scipy.optimize import brentq


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load a = λ/μ < c."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def sojourn_survival(t: float, c: int, lam: float, mu: float) -> float:
    """P(T > t) for the M/M/c response time (wait + service)."""
    pw = erlang_c(c, lam / mu)
    theta = c * mu - lam
    base = math.exp(-mu * t)
    if abs(theta - mu) < 1e-12 * mu:
        tail = (1.0 + mu * t) * base
    else:
        tail = (theta * base - mu * math.exp(-theta * t)) / (theta - mu)
    return (1.0 - pw) * base + pw * tail


def sojourn_mean(c: int, lam: float, mu: float) -> float:
    """E[T] = 1/μ + C / (cμ − λ)."""
    return 1.0 / mu + erlang_c(c, lam / mu) / (c * mu - lam)


def sojourn_quantile(q: float, c: int, lam: float, mu: float) -> float:
    """The q-quantile of the M/M/c response time (seconds), by root finding on the survival function."""
    hi = 1.0 / mu
    while sojourn_survival(hi, c, lam, mu) > 1.0 - q:
        hi *= 2.0
    return float(
        brentq(lambda t: sojourn_survival(t, c, lam, mu) - (1.0 - q), 0.0, hi, xtol=1e-12, rtol=1e-12)
    )
