"""Erlang B and Erlang C, the M/M/c blocking and waiting probabilities (numerically stable for any c).

Their own module so that both `queueing` and `mgc` (which `queueing` imports) read the same one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, pdtr

Array = NDArray[np.float64]

TINY_CDF = 1e-280  # below this the Poisson cdf is too close to underflow to divide by
_SERIES_MAX_TERMS = 1_000_000
PMF_CDF_IS_ONE = 1e-13


def erlang_b(c: ArrayLike, a: ArrayLike) -> Array:
    """Erlang B blocking probability for `c` servers and offered load `a` = λ/μ (Erlangs).

    Uses B(c, a) = pmf(c; a) / cdf(c; a) of a Poisson(a) variable (Jagerman 1974; Whitt,
    "Heavy-traffic approximations for service systems with blocking", 1984), with the pmf in
    log-gamma form and the cdf from `scipy.special.pdtr`: stable for c up to 1e5 and beyond.
    Where the cdf underflows (a far above c) the ratio is summed as the convergent series
    1/B = Σ_j c!/((c-j)! a^j). B(0, a) = 1 (nothing can be served).
    """
    c_arr, a_arr = np.broadcast_arrays(np.asarray(c, dtype=np.float64), np.asarray(a, dtype=np.float64))
    out = np.ones(c_arr.shape, dtype=np.float64)
    live = c_arr > 0
    cc, aa = c_arr[live], a_arr[live]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_pmf = np.where(aa > 0, cc * np.log(np.where(aa > 0, aa, 1.0)) - aa - gammaln(cc + 1), -np.inf)
        pmf = np.exp(log_pmf)
        # far below capacity the cdf is 1 within ~pmf·a/(c−a+1): skip the costly pdtr there
        cdf = np.ones_like(pmf)
        need = (pmf >= PMF_CDF_IS_ONE) | (aa >= cc)
        cdf[need] = pdtr(cc[need], aa[need])
        b = pmf / np.maximum(cdf, TINY_CDF)
    under = cdf < TINY_CDF
    if np.any(under):
        b[under] = 1.0 / _inverse_b_series(cc[under], aa[under])
    out[live] = np.clip(b, 0.0, 1.0)
    return out


def _inverse_b_series(c: Array, a: Array) -> Array:
    """1/B = Σ_{j=0}^{c} Π_{i<j} (c-i)/a, summed until the terms vanish (used only when a >> c)."""
    total = np.ones_like(a)
    term = np.ones_like(a)
    for j in range(_SERIES_MAX_TERMS):
        term = term * np.maximum(c - j, 0.0) / a
        total += term
        if not np.any(term > 1e-17 * total):
            break
    return total


def erlang_c(c: ArrayLike, a: ArrayLike) -> Array:
    """Erlang C probability of waiting in M/M/c, offered load `a` = λ/μ; 1 when a >= c or c = 0.

    C = B / (1 - ρ (1 - B)) with ρ = a/c (Kleinrock, Queueing Systems Vol. 1, 1975, eq. 3.40).
    """
    c_arr, a_arr = np.broadcast_arrays(np.asarray(c, dtype=np.float64), np.asarray(a, dtype=np.float64))
    out = np.ones(c_arr.shape, dtype=np.float64)
    stable = (c_arr > 0) & (a_arr < c_arr)
    cc, aa = c_arr[stable], a_arr[stable]
    b = erlang_b(cc, aa)
    rho = aa / cc
    out[stable] = np.clip(b / (1.0 - rho * (1.0 - b)), 0.0, 1.0)
    return out
