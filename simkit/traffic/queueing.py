"""Vectorised per-tick queueing model: Erlang B/C, M/M/c and M/G/c waits, fluid backlog.

The hybrid time model (design.md, "Hybrid time model for speed") treats every tick as a
pointwise-stationary M/M/c or M/G/c queue, since the number of ready servers is constant between
two events. When the offered load exceeds capacity a deterministic fluid backlog builds up and
drains later; a request that would wait longer than the service's timeout is a timed-out error.

Everything here is pure numpy/scipy: arrays in, float64 arrays out, one element per tick. The
latency distributions of routes (sums of visits) live in `queueing_latency` and are re-exported.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, pdtr

from simkit.traffic.abandonment import mmc_patience, served_wait_cut
from simkit.traffic.critical_band import (
    BAND_MAX_DEVIATION,
    BAND_RELAXATION_TICKS,
    diffusion_ticks,
    near_critical,
    wait_shape,
)
from simkit.traffic.erlang import PMF_CDF_IS_ONE, TINY_CDF, erlang_b, erlang_c
from simkit.traffic.mgc import single_server_tail, table_wait
from simkit.traffic.queueing_latency import (
    Component,
    latency_quantiles,
    pooled_quantile,
    sojourn_cdf,
)

__all__ = [
    "Component",
    "FluidBacklog",
    "QueueMetrics",
    "ServiceTicks",
    "allen_cunneen_factor",
    "erlang_b",
    "erlang_c",
    "fluid_backlog",
    "gives_up_within_tick",
    "latency_quantiles",
    "mmc_metrics",
    "pooled_quantile",
    "service_ticks",
    "sojourn_cdf",
    "stationary_arrivals",
]

Array = NDArray[np.float64]


def allen_cunneen_factor(cv: ArrayLike, arrival_scv: ArrayLike = 1.0) -> Array:
    """Waiting-time factor (C_a² + C_s²)/2; with Poisson arrivals (C_a² = 1) it is (1 + cv²)/2.

    Allen–Cunneen approximation W_q(M/G/c) ≈ W_q(M/M/c)·(1 + cv²)/2 (A. O. Allen, Probability,
    Statistics and Queueing Theory, 2nd ed., 1990, §6; Whitt, "Approximations for the GI/G/m
    queue", Production and Operations Management 2(2), 1993); exact for M/G/1 (Pollaczek–Khinchine).
    """
    cv_arr = np.asarray(cv, dtype=np.float64)
    return np.asarray((np.asarray(arrival_scv, dtype=np.float64) + cv_arr * cv_arr) / 2.0, dtype=np.float64)


class QueueMetrics(NamedTuple):
    """Per-tick pointwise-stationary queue metrics (arrays, one value per tick)."""

    utilization: Array  # busy fraction of the c servers, min(λ/(cμ), 1)
    p_wait: Array  # P(wait > 0): Erlang C; 1 in overload
    wait_rate_per_s: Array  # rate of the conditional wait W | W > 0 ~ Exp(rate); 0 if c = 0
    mean_wait_s: Array  # stationary mean wait p_wait / rate (inf if c = 0 and λ > 0)
    mean_sojourn_s: Array  # mean wait + mean service time


def mmc_metrics(
    lam_rps: ArrayLike,
    servers: ArrayLike,
    mean_service_s: float,
    cv: float = 1.0,
    arrival_scv: ArrayLike = 1.0,
) -> QueueMetrics:
    """Pointwise-stationary M/M/c (cv = 1) or M/G/c metrics per tick.

    The wait is zero-inflated exponential: P(W > 0) = Erlang C and W | W > 0 ~ Exp(cμ − λ)
    (Kleinrock 1975, §3.5). For cv != 1 the conditional rate is divided by the Allen–Cunneen
    factor (1 + cv²)/2, so the mean wait scales by that factor and waits stay exponential.
    For cv > 1 and several servers that overstates the wait at moderate load: (`p_wait`, rate)
    then come from `mgc.table_wait` (exact FCFS simulations, fitted to their sojourn P95/P99) and
    the mean wait is the table's, kept apart from p_wait/rate (`_several_servers`).
    `arrival_scv` (C_a², per tick or scalar; 1 = Poisson) makes it GI/G/c: factor (C_a² + cv²)/2.
    In overload (λ >= cμ) the stationary queue does not exist: the fluid backlog carries the
    queue, and the remaining wait is the time until a server frees up, Exp(cμ), with p_wait = 1.
    """
    lam = np.asarray(lam_rps, dtype=np.float64)
    c = np.asarray(servers, dtype=np.float64)
    lam, c = np.broadcast_arrays(lam, c)
    mu = 1.0 / mean_service_s
    cap = c * mu
    stable = lam < cap
    p_wait = erlang_c(c, lam * mean_service_s)
    heavy = allen_cunneen_factor(cv, arrival_scv)
    rate = np.where(stable, (cap - lam) / heavy, cap)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, np.minimum(lam / np.where(cap > 0, cap, 1.0), 1.0), (lam > 0) * 1.0)
        mean_wait = np.where(p_wait > 0, p_wait / rate, 0.0)
    if cv != 1.0:
        p_wait, rate = _single_server(lam * mean_service_s, c, mean_service_s, cv, arrival_scv, p_wait, rate)
    if cv > 1.0:  # several servers, C_s² > 1: the exact table of `mgc` (Allen–Cunneen at c = 1)
        given = (p_wait, rate, mean_wait)
        p_wait, rate, mean_wait = _several_servers(lam, c, mean_service_s, cv, heavy, given)
    return QueueMetrics(util, p_wait, rate, mean_wait, mean_wait + mean_service_s)


def _single_server(
    rho: Array, c: Array, mean_service_s: float, cv: float, arrival_scv: ArrayLike, p: Array, rate: Array
) -> tuple[Array, Array]:
    """One server, Poisson arrivals, 0.1 <= ρ <= 0.99: the exact M/G/1 wait's tail (`mgc`).

    The weight and rate reproduce Pollaczek–Khinchine's P95 and P99 of wait + service; the mean
    wait (computed before) stays Pollaczek–Khinchine's. Elsewhere (p, rate) are returned as given.
    """
    one = (c == 1) & (np.asarray(arrival_scv, dtype=np.float64) == 1.0) & (rho < 1.0)
    if not one.any():
        return p, rate
    tail_p, theta, fitted = single_server_tail(cv, rho[one])
    idx = np.flatnonzero(one)[fitted]
    p, rate = p.copy(), rate.copy()
    p[idx], rate[idx] = tail_p[fitted], theta[fitted] / mean_service_s
    return p, rate


def _several_servers(
    lam: Array, c: Array, mean_service_s: float, cv: float, heavy: Array, given: tuple[Array, Array, Array]
) -> tuple[Array, Array, Array]:
    """Several servers (c >= 2), λ < cμ, cv > 1: the wait from the exact table (`mgc.table_wait`).

    (p, rate) give the table's exact sojourn P95/P99, the mean wait is the table's (rates per
    second, means in seconds); `heavy` carries C_a² into both. Elsewhere `given` is returned.
    """
    several = (c >= 2) & (lam > 0) & (lam * mean_service_s < c)
    if not several.any():
        return given
    p, rate, mean = (x.copy() for x in given)
    cs = c[several]
    h = np.broadcast_to(heavy, lam.shape)[several]
    tp, theta, mw = table_wait(cv, cs, lam[several] * mean_service_s / cs, h)
    p[several], rate[several], mean[several] = tp, theta / mean_service_s, mw * mean_service_s
    return p, rate, mean


class FluidBacklog(NamedTuple):
    """Per-tick fluid queue accounting; arrivals = served + timed_out + Δbacklog, tick by tick."""

    backlog_end: Array  # requests queued at the end of the tick
    served: Array  # requests served during the tick
    timed_out: Array  # requests that gave up (their wait would exceed the timeout)
    fluid_wait_s: Array  # time-averaged backlog / capacity: the deterministic queueing delay
    backlog_start: Array  # requests still queued at the start of the tick (after unservable ones left)
    delay_start_s: Array  # backlog_start / capacity: the delay of a request arriving as the tick starts
    delay_slope_s: Array  # (λ − cμ)·dt / cμ: how much that delay grows over the tick, before clamping
    delay_sd_s: Array  # spread of the delay at the tick's start (see `fluid_backlog`); 0 away from overloads


def fluid_backlog(
    lam_rps: ArrayLike,
    capacity_rps: ArrayLike,
    dt_s: float,
    timeout_s: float,
    initial: float = 0.0,
    service_cv: float = 1.0,
) -> FluidBacklog:
    """Deterministic fluid queue per tick: B grows at λ − cμ, drains at cμ − λ, never below 0.

    The backlog is capped at capacity × timeout (what can still be served within the timeout);
    the excess, including backlog made unservable by a drop in capacity, is timed out. Ticks
    where the queue is empty and λ <= cμ are handled vectorised; the sequential recursion runs
    only from each overloaded tick until the backlog has drained.

    Within a tick the backlog is a clamped ramp, so the delay of a request arriving at s·dt is
    clamp(delay_start_s + s·delay_slope_s, 0, timeout_s): `fluid_wait_s` is its time average
    (arrivals are uniform within a tick) and `queueing_latency` mixes over the ramp itself.
    The real backlog spreads around the fluid one: from the first overloaded tick until the tick
    after the fluid has drained, its variance grows by (λ + cμ·cv²)·dt per tick (the Brownian
    approximation of arrivals minus departures; Chen & Yao, Fundamentals of Queueing Networks, 2001,
    ch. 6). `delay_sd_s` is its standard deviation at each tick's start over cμ; in the tick after a
    drain `delay_start_s` is the fluid's unclamped (negative) level over cμ, so that the spread shows
    the requests that still find a queue (the drain ends late in some runs). Elsewhere both are as
    without spread, and `fluid_wait_s` is always the fluid's own mean.
    """
    lam = np.asarray(lam_rps, dtype=np.float64)
    cap = np.broadcast_to(np.asarray(capacity_rps, dtype=np.float64), lam.shape)
    arrivals = lam * dt_s
    served = arrivals.copy()
    timed_out = np.zeros_like(lam)
    b_start = np.zeros_like(lam)
    b_end = np.zeros_like(lam)
    var = np.zeros_like(lam)
    virtual = np.full_like(lam, np.nan)  # the unclamped level at the start of the tick after a drain
    cv2 = float(service_cv) ** 2
    _run_backlog(
        lam, cap, dt_s, timeout_s, float(initial), (served, timed_out, b_start, b_end, var, virtual), cv2
    )
    slope = lam - cap
    mean_b = _mean_clamped_ramp(b_start, slope, cap * timeout_s, dt_s)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        safe = np.where(cap > 0, cap, 1.0)
        wait = np.where(cap > 0, mean_b / safe, 0.0)
        start = np.where(cap > 0, np.where(np.isfinite(virtual), virtual, b_start) / safe, 0.0)
        growth = np.where(cap > 0, slope * dt_s / safe, 0.0)
        sd = np.where(cap > 0, np.sqrt(var) / safe, 0.0)
    return FluidBacklog(b_end, served, timed_out, wait, b_start, start, growth, sd)


def _run_backlog(
    lam: Array,
    cap: Array,
    dt: float,
    timeout: float,
    backlog: float,
    out: tuple[Array, ...],
    cv2: float = 1.0,
) -> None:
    """Sequential backlog recursion, visiting only overloaded ticks and the drain after them.

    Also the backlog's variance at each visited tick's start and at the start of the tick after each
    drain, with the fluid's unclamped level there (see `fluid_backlog`).
    """
    served, timed_out, b_start, b_end, var_start, virtual = out
    var = 0.0
    n = lam.size
    overloaded = np.flatnonzero(lam > cap)
    t = 0 if backlog > 0 else (int(overloaded[0]) if overloaded.size else n)
    lam_l, cap_l = lam.tolist(), cap.tolist()
    while t < n:
        lam_t, cap_t = lam_l[t], cap_l[t]
        limit = cap_t * timeout
        kept = min(backlog, limit)  # backlog beyond what the capacity serves in time gives up now
        level = kept + (lam_t - cap_t) * dt
        excess = max(level - limit, 0.0)
        dropped = backlog - kept
        backlog = min(max(level, 0.0), limit)
        served[t] = lam_t * dt + kept - backlog - excess
        timed_out[t] = excess + dropped
        b_start[t], b_end[t] = kept, backlog
        var_start[t] = var if kept > 0 else 0.0
        var = var + (lam_t + cap_t * cv2) * dt if (kept > 0 or lam_t > cap_t) else 0.0
        t += 1
        if backlog <= 0.0:
            if t < n and lam_l[t] <= cap_l[t] and var > 0:
                var_start[t], virtual[t] = var, level  # the drain's spread reaches into this tick
            nxt = int(np.searchsorted(overloaded, t))
            t = int(overloaded[nxt]) if nxt < overloaded.size else n
            backlog, var = 0.0, 0.0


def _mean_clamped_ramp(x0: Array, slope: Array, hi: Array, duration: float) -> Array:
    """Time average over [0, T] of clamp(x0 + slope·s, 0, hi): the fluid backlog within a tick."""
    with np.errstate(divide="ignore", invalid="ignore"):
        up_tau = np.where(slope > 0, np.clip((hi - x0) / slope, 0.0, duration), duration)
        down_tau = np.where(slope < 0, np.clip(x0 / -slope, 0.0, duration), duration)
    tau = np.where(slope > 0, up_tau, down_tau)
    area = x0 * tau + 0.5 * slope * tau * tau + np.where(slope > 0, hi * (duration - tau), 0.0)
    return np.asarray(area / duration, dtype=np.float64)


class ServiceTicks(NamedTuple):
    """Everything the latency model needs about one service, per tick (see `service_ticks`)."""

    utilization: Array
    p_wait: Array  # P(stationary wait > 0)
    wait_rate_per_s: Array  # conditional stationary wait ~ Exp(rate)
    fluid_wait_s: Array  # deterministic fluid-backlog delay
    mean_wait_s: Array  # stationary mean wait + fluid wait
    backlog_end: Array
    served: Array  # requests served within the timeout
    timed_out: Array  # fluid excess + stationary waits beyond the timeout
    mean_service_s: float
    service_cv: float
    band: NDArray[np.bool_]  # tick from the near-critical diffusion: backlog_end is the whole queue
    backlog_var: Array  # the diffusion's backlog variance at the end of a band tick (0 elsewhere)
    fluid_start_s: Array  # the fluid delay's ramp within the tick (`FluidBacklog.delay_start_s`)
    fluid_slope_s: Array  # and its growth over the tick (0 where the delay is one value: band ticks)
    fluid_sd_s: Array  # and the spread of its start (`FluidBacklog.delay_sd_s`; 0 in band ticks)
    wait_cap_s: float = math.inf  # give-ups within the tick: a served request waited at most this

    def visit(self, calls: int = 1, timeout_s: float = float("inf")) -> Component:
        """This service as a latency component of a route that calls it `calls` times."""
        return Component(
            p_wait=self.p_wait,
            wait_rate_per_s=self.wait_rate_per_s,
            fluid_delay_s=self.fluid_wait_s,
            mean_service_s=self.mean_service_s,
            service_cv=self.service_cv,
            calls=calls,
            utilization=self.utilization,
            fluid_start_s=self.fluid_start_s,
            fluid_slope_s=self.fluid_slope_s,
            fluid_sd_s=self.fluid_sd_s,
            fluid_cap_s=timeout_s,
            wait_cap_s=self.wait_cap_s,
        )


def stationary_arrivals(lam_rps: Array, capacity_rps: Array, backlog_start: Array, dt_s: float) -> Array:
    """Arrivals per tick that find the fluid queue empty, so the stationary M/G/c wait applies.

    Zero when λ >= cμ (no stationary queue exists). With λ < cμ a backlog B₀ left from an
    overload drains at cμ − λ, after τ = B₀/(cμ − λ); only the λ·(dt − τ) requests arriving after
    that see the stationary queue (all λ·dt when B₀ = 0, none when it does not drain in the tick).
    """
    stable = lam_rps < capacity_rps
    with np.errstate(divide="ignore", invalid="ignore"):
        drain_s = np.where(stable & (backlog_start > 0), backlog_start / (capacity_rps - lam_rps), 0.0)
    after = np.clip(dt_s - drain_s, 0.0, dt_s)
    return np.asarray(np.where(stable, lam_rps * after, 0.0), dtype=np.float64)


def service_ticks(
    lam_rps: ArrayLike,
    servers: ArrayLike,
    mean_service_s: float,
    service_cv: float,
    dt_s: float,
    timeout_s: float,
    initial_backlog: float = 0.0,
    initial_var: float = 0.0,
    *,
    arrival_scv: ArrayLike = 1.0,
) -> ServiceTicks:
    """One service over all ticks: stationary/fluid model, and a diffusion near critical load.

    Ticks whose queue does not settle within a tick (`critical_band.near_critical`, ρ within about
    ±1-2 % of 1 for a few servers) use the transient reflected diffusion of `critical_band`,
    started from the backlog before them and handing its mean backlog back afterwards; the other
    ticks use `_regular_ticks`, or `_patience_ticks` (stationary M/M/c+D with give-ups) when the
    timeout is short against the tick (`gives_up_within_tick`). Without band ticks this is exactly
    `_regular_ticks` (or `_patience_ticks`). A caller that computes a run in chunks passes the last
    tick's `backlog_end` and `backlog_var` on, so a band stretch cut in two keeps the spread of its
    queue (`initial_var`; the fluid has none). `arrival_scv` is the arrivals' squared coefficient
    of variation C_a² (scalar or per tick; 1 = Poisson, the default, leaves every result as it was),
    used in the GI/G/c two-moment factor of the stationary waits (the diffusion keeps Poisson).
    """
    lam = np.asarray(lam_rps, dtype=np.float64)
    if lam.shape == (1,) and initial_backlog == 0.0:  # one tick: the scalar path when it applies
        c0, scv0 = np.asarray(servers, dtype=np.float64), np.asarray(arrival_scv, dtype=np.float64)
        if c0.ndim == 0 and scv0.ndim == 0:
            fast = _one_calm_tick(
                float(lam[0]), float(c0), mean_service_s, service_cv, dt_s, timeout_s, float(scv0)
            )
            if fast is not None:
                return fast
    c = np.broadcast_to(np.asarray(servers, dtype=np.float64), lam.shape)
    scv = np.broadcast_to(np.asarray(arrival_scv, dtype=np.float64), lam.shape)
    patient = gives_up_within_tick(timeout_s, dt_s)
    regular = _patience_ticks if patient else _regular_ticks
    band = near_critical(lam, c / mean_service_s, dt_s)
    if patient:  # the give-up barrier at cμτ bounds the queue: it relaxes within ~cμτ²/π²
        band &= c / mean_service_s * timeout_s**2 / np.pi**2 >= dt_s
    if not band.any():
        return regular(lam, c, mean_service_s, service_cv, dt_s, timeout_s, initial_backlog, scv)
    edges = np.flatnonzero(np.diff(band.astype(np.int8))) + 1
    parts: list[ServiceTicks] = []
    backlog, var = float(initial_backlog), float(initial_var)
    for a, b in zip(np.r_[0, edges], np.r_[edges, lam.size], strict=True):
        args = (lam[a:b], c[a:b], mean_service_s, service_cv, dt_s, timeout_s, backlog)
        part = _band_ticks(*args, var) if band[a] else regular(*args, scv[a:b])
        parts.append(part)
        backlog, var = float(part.backlog_end[-1]), float(part.backlog_var[-1])
    fields = {k: np.concatenate([getattr(p, k) for p in parts]) for k in ServiceTicks._fields[:8]}
    return ServiceTicks(
        **fields,
        mean_service_s=float(mean_service_s),
        service_cv=float(service_cv),
        band=np.concatenate([p.band for p in parts]),
        backlog_var=np.concatenate([p.backlog_var for p in parts]),
        fluid_start_s=np.concatenate([p.fluid_start_s for p in parts]),
        fluid_slope_s=np.concatenate([p.fluid_slope_s for p in parts]),
        fluid_sd_s=np.concatenate([p.fluid_sd_s for p in parts]),
        wait_cap_s=float(timeout_s) if patient else math.inf,
    )


def _one_calm_tick(
    lam: float,
    c: float,
    mean_service_s: float,
    service_cv: float,
    dt_s: float,
    timeout_s: float,
    arrival_scv: float,
) -> ServiceTicks | None:
    """`service_ticks` of one tick in its commonest case, in scalars (None: not that case).

    The case: servers busy but not overloaded (0 < λ < cμ), no backlog handed in, no give-ups
    within the tick, away from the critical band, cv <= 1 and not M/G/1 with cv != 1. Then the
    fluid queue stays empty and `_regular_ticks` reduces to Erlang C and a few products; each
    value below is the same IEEE operation in the same order as the array code (transcendental
    functions through the same numpy/scipy ufuncs), so the result is bit for bit the same; it
    only saves the array set-up that dominates a one-tick call (`TrafficModel._split_tick`'s
    stretches of a tick whose ready count changes). tests/test_queueing_fast.py compares both.
    """
    if not (lam > 0.0 and c > 0.0 and service_cv <= 1.0 and (c != 1.0 or service_cv == 1.0)):
        return None
    heavy = (arrival_scv + service_cv * service_cv) / 2.0  # allen_cunneen_factor
    if gives_up_within_tick(timeout_s, dt_s) or not mean_service_s > 0.0 or not heavy > 0.0:
        return None
    cap = c / mean_service_s  # the fluid's and the band's capacity
    if not lam < cap or not lam < c * (1.0 / mean_service_s):  # mmc_metrics' own `stable`
        return None
    rho_band = lam / cap  # near_critical
    root = float(np.sqrt(rho_band))
    gap = cap * ((1.0 - root) * (1.0 - root))
    if gap * dt_s * BAND_RELAXATION_TICKS <= 1.0 and abs(1.0 - rho_band) < BAND_MAX_DEVIATION:
        return None
    a = lam * mean_service_s
    if not 0.0 < a < c:  # erlang_c: waiting certain (a >= c), or an underflowed load: the array code
        return None
    log_pmf = c * float(np.log(a)) - a - float(gammaln(c + 1))
    pmf = float(np.exp(log_pmf))
    cdf = float(pdtr(c, a)) if (pmf >= PMF_CDF_IS_ONE or a >= c) else 1.0
    if cdf < TINY_CDF:
        return None
    b = min(max(pmf / max(cdf, TINY_CDF), 0.0), 1.0)
    rho = a / c
    p_wait = min(max(b / (1.0 - rho * (1.0 - b)), 0.0), 1.0)
    rate = (c * (1.0 / mean_service_s) - lam) / heavy
    util = min(lam / (c * (1.0 / mean_service_s)), 1.0)
    mean_wait = p_wait / rate if p_wait > 0 else 0.0
    late = p_wait * float(np.exp(-rate * timeout_s)) if p_wait > 0 else 0.0
    served = lam * dt_s
    late_n = min(lam * dt_s * min(max(late, 0.0), 1.0), served)
    growth = (lam - cap) * dt_s / cap
    return ServiceTicks(
        utilization=np.array([util]),
        p_wait=np.array([p_wait]),
        wait_rate_per_s=np.array([rate]),
        fluid_wait_s=np.zeros(1),
        mean_wait_s=np.array([mean_wait + 0.0]),
        backlog_end=np.zeros(1),
        served=np.array([served - late_n]),
        timed_out=np.array([0.0 + late_n]),
        mean_service_s=float(mean_service_s),
        service_cv=float(service_cv),
        band=np.zeros(1, dtype=bool),
        backlog_var=np.zeros(1),
        fluid_start_s=np.zeros(1),
        fluid_slope_s=np.array([growth]),
        fluid_sd_s=np.zeros(1),
    )


PATIENCE_TICK_FRACTION = 0.1  # timeout <= this x tick: the give-up queue settles within a tick


def gives_up_within_tick(timeout_s: float, dt_s: float) -> bool:
    """Whether a timeout is short enough against the tick for the stationary M/M/c+D queue.

    With give-ups the queue never holds more than the timeout's worth of work, so away from
    critical load it fills or drains within about τ/|1 − ρ|: with τ <= a tenth of the tick the
    stationary give-up queue holds for most of the tick. Longer timeouts keep the fluid backlog.
    Near critical load the bounded queue relaxes within about cμτ²/π² (the spectral gap of a
    Brownian motion with variance 2cμ reflected on [0, cμτ]); only where that exceeds the tick
    does `service_ticks` still use the band's diffusion.
    """
    return bool(np.isfinite(timeout_s) and timeout_s <= PATIENCE_TICK_FRACTION * dt_s)


def _patience_ticks(
    lam: Array,
    c: Array,
    mean_service_s: float,
    service_cv: float,
    dt_s: float,
    timeout_s: float,
    initial_backlog: float,
    arrival_scv: Array,
) -> ServiceTicks:
    """Ticks of a service whose timeout is short against the tick: stationary M/M/c+D.

    The fraction `abandonment.mmc_patience(...).p_abandon` of each tick's arrivals times out, the
    rest is served with the served requests' wait (`abandonment.served_wait_cut`: at most τ); there is no
    fluid backlog and no stationary tail on top of it, so nothing is counted twice. A backlog
    handed in (from a band stretch before) is served up to what the capacity serves within the
    timeout, the rest times out. Conservation: λ·dt + backlog in = served + timed_out.
    """
    cap = c / mean_service_s
    factor = allen_cunneen_factor(service_cv, arrival_scv)
    pat = mmc_patience(lam, c, mean_service_s, timeout_s, erlang_b(c, lam * mean_service_s), factor)
    p, rate = served_wait_cut(pat)
    none = np.zeros(lam.shape)
    arrivals = lam * dt_s
    timed_out = arrivals * pat.p_abandon
    served = arrivals - timed_out
    if initial_backlog > 0 and lam.size:
        kept = min(float(initial_backlog), float(cap[0]) * timeout_s)
        served[0] += kept
        timed_out[0] += float(initial_backlog) - kept
    return ServiceTicks(
        utilization=pat.utilization,
        p_wait=p,
        wait_rate_per_s=rate,
        fluid_wait_s=none,
        mean_wait_s=pat.mean_wait_served_s,
        backlog_end=np.zeros(lam.shape),
        served=served,
        timed_out=timed_out,
        mean_service_s=float(mean_service_s),
        service_cv=float(service_cv),
        band=np.zeros(lam.shape, dtype=bool),
        backlog_var=np.zeros(lam.shape),
        fluid_start_s=none,  # no fluid queue: no ramp, no spread
        fluid_slope_s=none,
        fluid_sd_s=none,
        wait_cap_s=float(timeout_s),
    )


def _band_ticks(
    lam: Array,
    c: Array,
    mean_service_s: float,
    service_cv: float,
    dt_s: float,
    timeout_s: float,
    initial_backlog: float,
    initial_var: float = 0.0,
) -> ServiceTicks:
    """Consecutive near-critical ticks: `critical_band.diffusion_ticks`, its wait mapped by moments.

    The wait of the requests served in a tick (Q/cμ at arrival, over the tick's backlog density) is
    handed to the latency model as fluid shift + P(wait)·Exp(rate) with the same first two moments
    (`critical_band.wait_shape`); utilization stays min(λ/cμ, 1).
    """
    cap = c / mean_service_s
    diff = diffusion_ticks(lam, cap, service_cv, dt_s, timeout_s, initial_backlog, initial_var)
    p, rate, shift = wait_shape(diff.mean_wait_s, diff.second_moment_s2)
    util = np.where(cap > 0, np.minimum(lam / np.where(cap > 0, cap, 1.0), 1.0), 1.0)
    return ServiceTicks(
        utilization=util,
        p_wait=p,
        wait_rate_per_s=rate,
        fluid_wait_s=shift,
        mean_wait_s=diff.mean_wait_s,
        backlog_end=diff.backlog_end,
        served=diff.served,
        timed_out=diff.timed_out,
        mean_service_s=float(mean_service_s),
        service_cv=float(service_cv),
        band=np.ones(lam.shape, dtype=bool),
        backlog_var=diff.backlog_var,
        fluid_start_s=shift,
        fluid_slope_s=np.zeros(lam.shape),
        fluid_sd_s=np.zeros(lam.shape),
    )


def _regular_ticks(
    lam_rps: ArrayLike,
    servers: ArrayLike,
    mean_service_s: float,
    service_cv: float,
    dt_s: float,
    timeout_s: float,
    initial_backlog: float = 0.0,
    arrival_scv: ArrayLike = 1.0,
) -> ServiceTicks:
    """Ticks away from critical load: stationary M/G/c waits on top of the fluid backlog.

    While the fluid queue is non-empty (overload, or a backlog still draining) it is the queue:
    its timeouts are the fluid excess, and the stationary tail is not added on top (that would
    count the same late requests twice). Requests arriving to an empty fluid queue with λ < cμ
    (see `stationary_arrivals`) wait in the stationary M/G/c queue; the fraction
    p_wait·exp(−rate·timeout) of them waits longer than `timeout_s` and is moved from served to
    timed out. Conservation holds per tick: λ·dt = served + timed_out + Δbacklog.
    """
    lam = np.asarray(lam_rps, dtype=np.float64)
    c = np.broadcast_to(np.asarray(servers, dtype=np.float64), lam.shape)
    q = mmc_metrics(lam, c, mean_service_s, service_cv, arrival_scv)
    fluid = fluid_backlog(lam, c / mean_service_s, dt_s, timeout_s, initial_backlog, service_cv)
    with np.errstate(invalid="ignore", over="ignore"):
        late = np.where(q.p_wait > 0, q.p_wait * np.exp(-q.wait_rate_per_s * timeout_s), 0.0)
    stationary = stationary_arrivals(lam, c / mean_service_s, fluid.backlog_start, dt_s)
    late_n = np.minimum(stationary * np.clip(late, 0.0, 1.0), fluid.served)
    return ServiceTicks(
        utilization=q.utilization,
        p_wait=q.p_wait,
        wait_rate_per_s=q.wait_rate_per_s,
        fluid_wait_s=fluid.fluid_wait_s,
        mean_wait_s=q.mean_wait_s + fluid.fluid_wait_s,
        backlog_end=fluid.backlog_end,
        served=fluid.served - late_n,
        timed_out=fluid.timed_out + late_n,
        mean_service_s=float(mean_service_s),
        service_cv=float(service_cv),
        band=np.zeros(lam.shape, dtype=bool),
        backlog_var=np.zeros(lam.shape),
        fluid_start_s=fluid.delay_start_s,
        fluid_slope_s=fluid.delay_slope_s,
        fluid_sd_s=fluid.delay_sd_s,
    )
