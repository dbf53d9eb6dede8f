"""Transient diffusion model of a service's backlog for ticks near critical load (ρ ≈ 1).

Near ρ = 1 neither of the per-tick models of `queueing` holds: the stationary M/G/c queue is
reached only after the relaxation time ~1/(cμ(1 − √ρ)²), far longer than a tick, and the
deterministic fluid has no queue at ρ = 1 and too little spread just above it. In that band the
backlog Q (requests waiting) is modelled as a Brownian motion with drift m = λ − cμ and variance
σ² = λ + cμ·cv_s² per second (Poisson arrivals, c busy servers whose departures have the service
time's squared coefficient of variation), reflected at 0 and at b = cμ·timeout: a request that
would wait longer than the timeout gives up, so the upper regulator (local time) is the timeout
count (Harrison, "Brownian Motion and Stochastic Flow Systems", 1985, §2.4 and ch. 5; Ward &
Glynn, "A diffusion approximation for a GI/GI/1 queue with balking or reneging", Queueing
Systems 50, 2005, for the upper barrier at the timeout's workload).

The density is carried tick to tick on a grid as the Markov-chain approximation of the diffusion
(Kushner & Dupuis, "Numerical Methods for Stochastic Control Problems in Continuous Time", 2001,
ch. 5): a birth-death chain on the nodes i·h with up/down rates chosen so that its drift is m
and its variance σ², i.e. a conservative finite-difference Fokker–Planck operator, stepped with
implicit Euler (positive, mass-conserving, unconditionally stable). Because the chain's
boundary fluxes are counted exactly, arrivals = served + timed out + Δ E[Q] holds per tick.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import lapack
from scipy.special import gammainc

Array = NDArray[np.float64]

BAND_RELAXATION_TICKS = 1.0  # a tick is in the band when the relaxation time is at least this many ticks
BAND_MAX_DEVIATION = 0.05  # ... and ρ is within 5 % of 1 (heavy traffic, where the diffusion scaling holds)
# Grid and time step: 64 cells and 4 s steps give table 2b within 0.1 % of 256 cells and 1 s steps
# (bench/ANALYSIS.md), at a quarter of the cost (a month at 10x load has ~35,000 band ticks).
GRID_CELLS = 64  # cells of the backlog density
MAX_STEP_S = 4.0  # implicit Euler sub-step
MIN_STEPS = 4
_REACH_SDS = 10.0  # without a timeout barrier in reach, the grid covers this many sds of a tick's spread
_NEGLIGIBLE_MASS = 1e-12


def near_critical(lam_rps: Array, capacity_rps: Array, dt_s: float) -> NDArray[np.bool_]:
    """Ticks whose queue does not settle within a tick: relaxation time 1/(cμ(1 − √ρ)²) >= dt.

    Only ticks in heavy traffic, |1 − ρ| < 5 %, qualify: further out the diffusion scaling is not
    accurate, and with few slow servers (long relaxation even at ρ = 0.75) the queue is a handful
    of requests, which the stationary and fluid models handle.

    The relaxation time of the M/M/c queue length near ρ = 1 (Abate & Whitt, "Transient behavior of
    regulated Brownian motion", Adv. Appl. Prob. 19, 1987: 2σ²/m² for RBM; the square-root form is
    the birth-death chain's spectral gap, cμ(1 − √ρ)², as for M/M/1). Symmetric in √ρ around 1.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(capacity_rps > 0, lam_rps / np.where(capacity_rps > 0, capacity_rps, 1.0), 0.0)
        root = np.sqrt(rho)
        gap = capacity_rps * (1.0 - root) ** 2
    live = (capacity_rps > 0) & (lam_rps > 0)
    slow = gap * dt_s * BAND_RELAXATION_TICKS <= 1.0
    return np.asarray(live & slow & (np.abs(1.0 - rho) < BAND_MAX_DEVIATION), dtype=bool)


class BandTicks(NamedTuple):
    """Per-tick results of the diffusion model over consecutive band ticks."""

    served: Array
    timed_out: Array  # upper-barrier flux, plus backlog made unservable by a drop in capacity
    backlog_end: Array  # mean backlog at the end of the tick
    mean_wait_s: Array  # mean wait of the requests served
    second_moment_s2: Array  # E[W²] of the requests served
    backlog_var: Array  # variance of the backlog at the end of the tick (carried into the next chunk)


class _Density:
    """Probabilities of the cells [i·h, (i+1)·h) of the backlog (requests waiting), at their centres."""

    def __init__(self, h: float, p: Array) -> None:
        self.h, self.p = h, p

    @property
    def x(self) -> Array:
        return (np.arange(self.p.size, dtype=np.float64) + 0.5) * self.h

    def mean(self) -> float:
        return float(self.p @ self.x)

    def var(self) -> float:
        x = self.x
        m = float(self.p @ x)
        return max(float(self.p @ (x * x)) - m * m, 0.0)

    def upper_quantile(self) -> float:
        """Where all but a negligible mass lies below (the grid need not reach further)."""
        tail = np.cumsum(self.p[::-1])
        above = int(np.searchsorted(tail, _NEGLIGIBLE_MASS))  # cells from the top holding < that mass
        return float((self.p.size - above) * self.h)


def _regrid(dens: _Density, top: float, nodes: int) -> tuple[_Density, float]:
    """The density on `nodes` cells over [0, top], and the requests beyond `top` that time out.

    Mass beyond `top` is moved into the last cell (its excess times out, as in the fluid model);
    the rest is split linearly between the two neighbouring new cell centres, which keeps mass
    and, away from the ends (within half a cell), the mean.
    """
    x = dens.x
    dropped = float(dens.p @ np.maximum(x - top, 0.0))
    h = top / nodes
    pos = np.clip(x / h - 0.5, 0.0, nodes - 1.0)
    lo = np.minimum(np.floor(pos).astype(np.intp), nodes - 2)
    frac = pos - lo
    p = np.bincount(lo, weights=dens.p * (1.0 - frac), minlength=nodes).astype(np.float64)
    p += np.bincount(lo + 1, weights=dens.p * frac, minlength=nodes)
    return _Density(h, p), dropped


def _rates(m: float, var: float, h: float) -> tuple[float, float]:
    """Up and down rates of the chain on spacing h with drift m and variance var (upwind if needed)."""
    up, down = var / (2 * h * h) + m / (2 * h), var / (2 * h * h) - m / (2 * h)
    if up < 0 or down < 0:  # drift dominates a cell: upwind differences (variance slightly inflated)
        up, down = var / (2 * h * h) + max(m, 0.0) / h, var / (2 * h * h) + max(-m, 0.0) / h
    return up, down


def _start(mean: float, var: float) -> _Density:
    """The backlog before the first tick: a gamma law with this mean and variance (a point mass at
    the mean when the variance is 0), so that a band stretch that the engine computes in two chunks
    (its ready servers changed in between) carries the spread of the queue, not only its mean."""
    if mean <= 0.0:
        return _Density(0.0, np.array([1.0]))
    if var <= 0.0:
        return _Density(2.0 * mean, np.array([1.0]))
    shape, scale = mean * mean / var, var / mean
    top = mean + _REACH_SDS * np.sqrt(var)
    edges = np.linspace(0.0, top, GRID_CELLS + 1)
    p = np.diff(gammainc(shape, edges / scale))  # the gamma CDF (scipy.stats would cost 0.4 s to import)
    p[-1] += max(1.0 - float(p.sum()), 0.0)  # the far tail, if any, in the last cell
    return _Density(top / GRID_CELLS, p / p.sum())


def diffusion_ticks(
    lam_rps: Array,
    capacity_rps: Array,
    service_cv: float,
    dt_s: float,
    timeout_s: float,
    initial: float = 0.0,
    initial_var: float = 0.0,
) -> BandTicks:
    """Reflected-diffusion backlog over consecutive ticks, from a backlog of mean `initial` and
    variance `initial_var` (see `_start`).

    Per tick: drift m = λ − cμ, variance σ² = λ + cμ·cv², barriers 0 and b = cμ·timeout (the grid
    stops earlier when b is out of reach within the tick, e.g. task queues without a TTL).
    Timeouts are the chain's flux through the upper barrier; the served requests' wait is Q/(cμ)
    at their arrival, averaged over the tick (its mean and second moment are returned).
    """
    n = lam_rps.size
    out = [np.zeros(n) for _ in range(6)]
    served, timed_out, backlog_end, mean_wait, second, backlog_var = out
    previous = max(float(initial), 0.0)
    dens = _start(previous, max(float(initial_var), 0.0))
    steps = max(MIN_STEPS, int(np.ceil(dt_s / MAX_STEP_S)))
    step = dt_s / steps
    for t in range(n):
        lam, cap = float(lam_rps[t]), float(capacity_rps[t])
        m, var = lam - cap, lam + cap * service_cv * service_cv
        barrier = cap * timeout_s
        reach = dens.upper_quantile() + max(m, 0.0) * dt_s + _REACH_SDS * np.sqrt(var * dt_s)
        top = min(barrier, reach)
        dens, dropped = _regrid(dens, top, GRID_CELLS)
        up, down = _rates(m, var, dens.h)
        # (I − step·Q)ᵀ pᵀ_{k+1} = pᵀ_k, Q the chain's generator (rows: from-state)
        k = GRID_CELLS
        diag = np.full(k, 1.0 + step * (up + down))
        diag[0] = 1.0 + step * up
        diag[-1] = 1.0 + step * down
        lower = np.full(k - 1, -step * up)  # (i+1, i): inflow to i+1 from i going up
        upper = np.full(k - 1, -step * down)  # (i, i+1): inflow to i from i+1 going down
        dl, d, du, du2, ipiv, _ = lapack.dgttrf(lower, diag, upper)
        p = dens.p.reshape(-1, 1)
        occ = np.zeros(k)
        for _ in range(steps):
            p, _ = lapack.dgttrs(dl, d, du, du2, ipiv, p)
            occ += p[:, 0]
        occ *= step
        dens = _Density(dens.h, np.clip(p[:, 0], 0.0, None))
        flux = up * dens.h * occ[-1]  # requests pushed over the upper barrier during the tick
        b_end = dens.mean()
        timed_out[t] = flux + dropped
        # by conservation from the previous tick's backlog (absorbs the regrid's half-cell shifts)
        served[t] = lam * dt_s - timed_out[t] - (b_end - previous)
        if served[t] < 0.0:  # only if a cell shift outweighs a whole tick's service (tiny load)
            served[t], timed_out[t] = 0.0, max(lam * dt_s - (b_end - previous), 0.0)
        backlog_end[t] = previous = b_end
        backlog_var[t] = dens.var()
        # served arrivals: λ·occupation, minus the ones turned away at the barrier
        weight = lam * occ
        weight[-1] = max(weight[-1] - flux, 0.0)
        total = float(weight.sum())
        wait = dens.x / cap
        mean_wait[t] = float(weight @ wait) / total if total > 0 else 0.0
        second[t] = float(weight @ (wait * wait)) / total if total > 0 else 0.0
    return BandTicks(served, timed_out, backlog_end, mean_wait, second, backlog_var)


def wait_shape(mean_s: Array, second_s2: Array) -> tuple[Array, Array, Array]:
    """(p_wait, rate, shift) of the latency model's wait, shift + Bernoulli(p)·Exp(rate), by moments.

    The latency model (`queueing_latency`) takes a deterministic shift plus a zero-inflated
    exponential. The band's wait has mean M₁ and second moment M₂: when its squared coefficient of
    variation is >= 1 it is matched by a zero-inflated exponential (rate 2M₁/M₂, p = M₁·rate, no
    shift), otherwise by a shifted exponential (rate 1/sd, shift M₁ − sd, p = 1). Both match M₁ and
    M₂ and meet at cv = 1; the mean wait is kept exactly.
    """
    var = np.maximum(second_s2 - mean_s * mean_s, 0.0)
    sd = np.sqrt(var)
    spread = second_s2 >= 2.0 * mean_s * mean_s
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_zi = np.where(second_s2 > 0, 2.0 * mean_s / np.where(second_s2 > 0, second_s2, 1.0), 0.0)
        rate_sh = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 0.0)
    p = np.where(spread, np.clip(mean_s * rate_zi, 0.0, 1.0), np.where(sd > 0, 1.0, 0.0))
    rate = np.where(spread, rate_zi, rate_sh)
    shift = np.where(spread, 0.0, np.where(sd > 0, mean_s - sd, mean_s))
    p = np.where(mean_s > 0, p, 0.0)
    return p, np.where(p > 0, rate, 0.0), shift
