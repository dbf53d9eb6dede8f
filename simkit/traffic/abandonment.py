"""Stationary M/M/c+D (and its two-moment M/G/c+D extension): give-ups at a fixed timeout.

A request that has waited `timeout` seconds without reaching a server gives up (deterministic
patience). With FCFS service the *offered* wait V (the wait a request would have) decides:
V > τ gives up, V <= τ is served after V. For M/M/c+G the density of V is known in closed form
(Baccelli & Hébuterne, "On queues with impatient customers", Performance '81, 1981; Zeltyn &
Mandelbaum, "Call centers with impatient customers: many-server asymptotics of the M/M/n+G
queue", Queueing Systems 51, 2005, eq. (2.2)-(2.4) with H(x) = ∫₀ˣ Ḡ): relative to the
probability of n − 1 busy servers it is λ·e^{λH(x) − nμx}, so with deterministic patience
H(x) = min(x, τ):

    V has an atom P(V = 0) = Σ_{j<n} π_j, and for x > 0 the density  D·e^{−(nμ − λ)x}  (x < τ),
    D·e^{−(nμ − λ)τ}·e^{−nμ(x − τ)}  (x > τ),  with D = λ·π_{n−1}.

Normalised by the Erlang B ratio r = B/(1 − B) = (aⁿ/n!)/Σ_{j<n} a^j/j! (a = λ/μ) the masses are
1/r (no wait), nμ·(1 − g)/δ (served after a wait, δ = nμ − λ, g = e^{−δτ}) and g (gives up),
which holds in overload too (δ < 0: the queue is stable because requests give up). For M/M/1
this is P(give up) = ρ(1 − ρ)g/(1 − ρ²g) (Baccelli & Hébuterne 1981), pinned by the tests.

For general service times and arrivals the same shape is used with the two-moment scaling of
`queueing.mmc_metrics` (Allen–Cunneen / Kimura: the waiting part of V decays at δ/f with f
the factor): δ → δ/f and nμ → nμ/f, which gives back the M/G/c approximation at τ = ∞.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

_SERIES_BELOW = 1e-4  # |δτ| below this: the truncated exponential's moments by their series


class Patience(NamedTuple):
    """Per-tick stationary M/M/c+D results (arrays, one value per tick)."""

    p_abandon: Array  # fraction of arrivals that give up at the timeout
    p_wait_served: Array  # P(wait > 0 | served)
    mean_wait_served_s: Array  # E[wait | served]
    second_wait_served_s2: Array  # E[wait² | served]
    utilization: Array  # busy fraction: served load / capacity


def mmc_patience(
    lam_rps: ArrayLike,
    servers: ArrayLike,
    mean_service_s: float,
    timeout_s: float,
    erlang_b: ArrayLike,
    factor: ArrayLike = 1.0,
) -> Patience:
    """Stationary M/M/c+D per tick (see the module docstring); `erlang_b` is B(c, λ/μ) per tick.

    `factor` is the two-moment waiting factor f (1 for M/M/c). No servers: everyone gives up.
    """
    lam = np.asarray(lam_rps, dtype=np.float64)
    c = np.broadcast_to(np.asarray(servers, dtype=np.float64), lam.shape)
    f = np.broadcast_to(np.asarray(factor, dtype=np.float64), lam.shape)
    b = np.broadcast_to(np.asarray(erlang_b, dtype=np.float64), lam.shape)
    tau = float(timeout_s)
    cap = c / mean_service_s
    live = (c > 0) & (lam > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv_r = np.where(b > 0, np.maximum(1.0 / b - 1.0, 0.0), np.inf)
        kappa = cap / f
        u = (cap - lam) / f * tau  # δτ, scaled
        scale_ab = np.where(u >= 0, np.exp(-np.abs(u)), 1.0)  # give-up mass g, or 1 after dividing by g
        scale_0 = np.where(u >= 0, inv_r, inv_r * np.exp(-np.abs(u)))
        h = np.where(np.abs(u) < _SERIES_BELOW, 1.0 - np.abs(u) / 2.0, -np.expm1(-np.abs(u)) / np.abs(u))
        waited = kappa * tau * h  # nμ(1 − g)/δ (or that divided by g in overload)
        total = scale_0 + waited + scale_ab
        p_ab = np.where(live, scale_ab / total, np.where(lam > 0, 1.0, 0.0))
        p_served_wait = np.where(live, waited / (scale_0 + waited), 0.0)
        m1, m2 = _truncated_exp_moments(u, tau)
    p_ab = np.nan_to_num(np.clip(p_ab, 0.0, 1.0), nan=1.0)
    p_served_wait = np.nan_to_num(np.clip(p_served_wait, 0.0, 1.0), nan=0.0)
    util = np.where(cap > 0, np.minimum(lam * (1.0 - p_ab) / np.where(cap > 0, cap, 1.0), 1.0), 0.0)
    return Patience(p_ab, p_served_wait, p_served_wait * m1, p_served_wait * m2, util)


def _truncated_exp_moments(u: Array, tau: float) -> tuple[Array, Array]:
    """E[X], E[X²] of X on (0, τ) with density ∝ e^{−(u/τ)x} (u < 0: increasing; u = 0: uniform)."""
    small = np.abs(u) < _SERIES_BELOW
    us = np.where(small, 1.0, u)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = 1.0 / np.expm1(us)  # 1/(e^u − 1): 0 for large u, → −1 for large −u
        m1 = np.where(small, 0.5 - u / 12.0, 1.0 / us - inv)
        m2 = np.where(small, 1.0 / 3.0 - u / 12.0, 2.0 / (us * us) - (1.0 + 2.0 / us) * inv)
    m1 = np.clip(np.nan_to_num(m1, nan=0.5), 0.0, 1.0)
    m2 = np.clip(np.nan_to_num(m2, nan=1.0 / 3.0), m1 * m1, m1)
    return m1 * tau, m2 * tau * tau


def served_wait_cut(p: Patience) -> tuple[Array, Array]:
    """(p_wait, rate) of the served requests' wait, for the latency model with its cap at τ.

    The served wait is Bernoulli(p)·(truncated exponential on (0, τ)), which the latency model
    takes as P(wait > 0) and the rate whose inverse is the conditional mean, with the cap τ
    (`queueing_latency.Component.wait_cap_s`, `queueing_cut`): the truncated exponential is the
    maximum-entropy law on (0, τ) with that mean, so (p, mean, τ) give back its exponent exactly.
    The mean wait p/rate is the exact E[wait | served]; nothing beyond τ is served.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(p.mean_wait_served_s > 0, p.p_wait_served / p.mean_wait_served_s, 0.0)
    p_wait = np.where(rate > 0, p.p_wait_served, 0.0)
    return np.asarray(p_wait, dtype=np.float64), np.asarray(rate, dtype=np.float64)
