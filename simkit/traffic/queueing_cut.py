"""Waits cut at a bound: the truncated exponential a served request's wait follows under give-ups.

With give-ups at a fixed timeout τ a *served* request waited at most τ. In the stationary M/M/c+D
queue its wait is an atom at 0 and, given it is positive, a truncated exponential: density
∝ e^{−δx} on (0, τ) with δ = cμ − λ of either sign (Baccelli & Hébuterne, "On queues with
impatient customers", Performance '81, 1981; Zeltyn & Mandelbaum, Queueing Systems 51, 2005,
eq. (2.2)-(2.4); `abandonment.py`). The latency model (`queueing_latency.Component.wait_cap_s`)
takes such a wait as (P(wait > 0), rate, cap): the conditional wait is the law on (0, cap) with
mean 1/rate and the most entropy, which is exactly this truncated exponential (the maximum-entropy
law on an interval with a given mean; Cover & Thomas, Elements of Information Theory, 2nd ed.,
2006, §12.1), and Exp(rate) itself when cap = ∞. So every reader of (p_wait, rate) that only
needs the mean wait p/rate (queue depth, repeated-visit correlation) stays exact, and the
latency spectra get the bounded shape from `cut_spectrum`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

_SMALL_U = 1e-6  # |δL| below this: the truncated exponential is uniform to within 1e-6
_BISECTIONS = 64


def mean_fraction(u: ArrayLike) -> Array:
    """E[X]/L of X on (0, L) with density ∝ e^{−(u/L)x}: 1/u − 1/(eᵘ − 1) (1/2 at u = 0)."""
    u = np.asarray(u, dtype=np.float64)
    small = np.abs(u) < _SMALL_U
    us = np.where(small, 1.0, u)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out = np.where(small, 0.5 - u / 12.0, 1.0 / us - 1.0 / np.expm1(us))
    return np.asarray(np.clip(np.nan_to_num(out, nan=0.5), 0.0, 1.0), dtype=np.float64)


def truncated_exponent(fraction: ArrayLike) -> Array:
    """u = δL of the truncated exponential on (0, L) whose mean is `fraction`·L (0 < fraction < 1).

    `mean_fraction` decreases from 1 (u → −∞) to 0 (u → ∞); since it is below 1/u for u > 0 and
    symmetric (f(−u) = 1 − f(u)), the root lies in [−1/(1 − q), 1/q] and is found by bisection.
    """
    q = np.clip(np.asarray(fraction, dtype=np.float64), 1e-12, 1.0 - 1e-12)
    lo, hi = -1.0 / (1.0 - q), 1.0 / q
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = mean_fraction(mid) > q  # the mean is still too large: the exponent must grow
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return np.asarray(0.5 * (lo + hi), dtype=np.float64)


def truncated_cdf(u: ArrayLike, t: ArrayLike) -> Array:
    """CDF at t·L (0 <= t <= 1) of the truncated exponential with exponent u = δL (either sign)."""
    u = np.asarray(u, dtype=np.float64)
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    a = np.abs(u)
    small = a < _SMALL_U
    a_s = np.where(small, 1.0, a)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        norm = -np.expm1(-a_s)
        rising = (np.exp(a_s * (t - 1.0)) - np.exp(-a_s)) / norm  # u < 0: mass near the bound
        falling = -np.expm1(-a_s * t) / norm
    out = np.where(small, t, np.where(u < 0, rising, falling))
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def cut_spectrum(
    p: Array, u: Array, cap_s: Array, step_s: Array, bins: int, alpha: float, kmax: int
) -> NDArray[np.complex64]:
    """Spectra (rows × kmax) of waits Bernoulli(p)·X, X truncated exponential on (0, cap), per row.

    The wait is rounded to the nearest bin of width `step_s` (bin k holds [(k − ½)h, (k + ½)h),
    bin 0 [0, h/2), as `queueing_latency` rounds its exponential waits), tilted by α^k and
    transformed by one rFFT of `bins` points: the same convention as the closed-form spectra of
    `queueing_latency._wait_terms`, so the two multiply. The cap lies inside the horizon.
    """
    edges = (np.arange(bins) + 0.5)[None, :] * step_s[:, None]
    cdf = (1.0 - p)[:, None] + p[:, None] * truncated_cdf(u[:, None], edges / cap_s[:, None])
    masses = np.diff(np.concatenate([np.zeros((p.size, 1)), cdf], axis=1), axis=1)
    masses[:, -1] += 1.0 - cdf[:, -1]  # nothing beyond the horizon (the cap lies inside it)
    spectrum = np.fft.rfft(masses * alpha ** np.arange(bins), axis=1)[:, :kmax]
    return np.asarray(spectrum, dtype=np.complex64)
