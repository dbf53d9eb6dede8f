"""M/G/c waits at high service-time variability (lognormal service, cv > 1).

Allen–Cunneen's W_q(M/G/c) ≈ W_q(M/M/c)·(C_a² + C_s²)/2 is the heavy-traffic limit for any c
(Köllerström, "Heavy traffic theory for queues with several servers. I", J. Appl. Prob. 11,
1974) and exact for M/G/1, but with several servers and C_s² > 1 it overstates the wait at
moderate load: one long job blocks one server, not all of them (mean wait +88 %, P95 +23 % at
lognormal cv 3, c 4-8; bench/ANALYSIS.md "Fidelity II"). No two-moment formula fixes this for
every distribution (Gupta, Harchol-Balter, Dai & Zwart, "On the inapproximability of M/G/K",
Queueing Systems 64, 2010), and the latency model's one exponential per visit cannot carry the
mean and the P95/P99 of these heavier tails at once. So:

- one server (`single_server_tail`): the exact Pollaczek–Khinchine wait (one FFT per load),
  P·Exp(θ) fitted to its sojourn P95 and P99, the mean kept as P-K's;
- several servers (`table_wait`): the same fit on a table of exact FCFS simulations
  (`data/mgc_lognormal.csv`, cv 1.5-4, c 2-32, ρ 0.3-0.9), interpolated between its points in
  normalised ratios, the mean kept as the table's.

`tail_weight`, the model before the table (light/heavy-traffic interpolation of the mean, below),
now only fills a table row of servers where no load could be fitted:

- light traffic (Burman & Smith, "A light-traffic theorem for multi-server queues", Math. Oper.
  Res. 8, 1983): a request that waits, waits for the first of c busy servers, the minimum of c
  equilibrium residual service times R; the ratio L = cμ·E[min(R₁..R_c)] (1 for exponential
  service, c/(c+1) for deterministic, from the service CDF for lognormal);
- heavy traffic: H = (C_a² + C_s²)/2;
- the conditional wait's scale (1 − ρ)·cμ·E[W | W > 0] is interpolated as L + (H − L)/(1 + kβ)
  in the Halfin–Whitt parameter β = (1 − ρ)√c (β → 0 is heavy traffic for any c), k = 2, and
  the weight P = ErlangC·r/H carries that mean at Allen–Cunneen's rate (cμ − λ)/H.
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import quad
from scipy.special import ndtr, ndtri

from simkit.traffic.erlang import erlang_c

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


# --------------------------------------------------------------------------------------------
# several servers: a table of exact FCFS simulations, each point fitted like one server's

TABLE_FILE = "mgc_lognormal.csv"
_TABLE_STATS = (
    "sojourn_p95",
    "sojourn_p99",
    "sojourn_p95_se",
    "sojourn_p99_se",
    "mean_wait",
    "mean_wait_se",
    "p_wait",
)
_FIT_MIN_SE = 3.0  # a quantile counts as moved by the waits when it is this many se above the service's
_MEAN_MAX_SE = 0.1  # a table mean with a larger relative standard error (few waits) is not used
_FIT_BINS = 4000  # grid of the fit: the sojourn's P99 over this many bins


class _Table(NamedTuple):
    """`data/mgc_lognormal.csv` on its grid: statistic arrays of shape (cv, servers, ρ)."""

    cvs: Array
    servers: Array
    rhos: Array
    stats: dict[str, Array]


@lru_cache(maxsize=1)
def _table() -> _Table:
    """Read the shipped table once (importlib.resources); it must fill its (cv, c, ρ) grid."""
    from simkit._data import packaged

    with packaged("catalog", TABLE_FILE).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keys = [(float(r["cv"]), int(r["servers"]), float(r["rho"])) for r in rows]
    cvs, cs, rhos = (sorted({k[i] for k in keys}) for i in range(3))
    shape = (len(cvs), len(cs), len(rhos))
    if len(set(keys)) != len(keys) or len(keys) != shape[0] * shape[1] * shape[2]:
        raise RuntimeError(f"{TABLE_FILE}: {len(keys)} rows do not fill a {shape} grid")
    stats = {name: np.empty(shape) for name in _TABLE_STATS}
    for (cv, c, rho), row in zip(keys, rows, strict=True):
        at = (cvs.index(cv), cs.index(c), rhos.index(rho))
        for name in _TABLE_STATS:
            stats[name][at] = float(row[name])
    return _Table(np.array(cvs), np.array(cs, dtype=np.float64), np.array(rhos), stats)


def _loads() -> Array:
    """The loads of the ratio arrays' columns: ρ = 0 (the light-traffic end), then the table's."""
    return np.r_[0.0, _table().rhos]


def _lognormal_quantile(cv: float, q: float) -> float:
    """The q-quantile of the mean-1 lognormal service time with this cv."""
    sigma = math.sqrt(math.log1p(cv * cv))
    return math.exp(-sigma * sigma / 2.0 + sigma * float(ndtri(q)))


def _erlang_c_at(servers: Array, rho: Array) -> Array:
    """Erlang C at load ρ (not the offered load ρc that `erlang.erlang_c` takes)."""
    c = np.asarray(servers, dtype=np.float64)
    return erlang_c(c, c * np.asarray(rho, dtype=np.float64))


@lru_cache(maxsize=16)
def _tail_ratios(index: int) -> tuple[Array, Array]:
    """(P/C, θ·H/(c(1 − ρ))) of one cv's table points, shape (c, `_loads`): 1 and 1 for M/M/c.

    C is Erlang C and H = (1 + cv²)/2, so θ is measured against Köllerström's heavy-traffic rate.
    (P, θ) are fitted to each point's sojourn P95 and P99 (`fit_sojourn_quantiles`). A point is
    not fitted where few requests wait, so that neither quantile is `_FIT_MIN_SE` standard errors
    above the service time's own (the fit would follow the noise: at cv 4, c 24, ρ 0.3 it gave
    P = 5,500 × Erlang C), nor kept where its weight P exceeds the point's P(W > 0). There the
    ratios are taken from the nearest fitted loads of the same c (linear between them), and where
    no load of that c fits, from `tail_weight` (rate ratio 1). The ρ = 0 column repeats the lowest
    load's.
    """
    t = _table()
    cv = float(t.cvs[index])
    heavy = (1.0 + cv * cv) / 2.0
    grid_c, grid_rho = np.meshgrid(t.servers, t.rhos, indexing="ij")
    erlang = _erlang_c_at(grid_c, grid_rho)
    ht_rate = grid_c * (1.0 - grid_rho) / heavy
    ratio_p = np.full(grid_c.shape, np.nan)
    ratio_t = np.full(grid_c.shape, np.nan)
    x95, x99 = t.stats["sojourn_p95"][index], t.stats["sojourn_p99"][index]
    moved = (x95 - _lognormal_quantile(cv, 0.95) > _FIT_MIN_SE * t.stats["sojourn_p95_se"][index]) | (
        x99 - _lognormal_quantile(cv, 0.99) > _FIT_MIN_SE * t.stats["sojourn_p99_se"][index]
    )
    mean, p_wait = t.stats["mean_wait"][index], t.stats["p_wait"][index]
    for i, j in zip(*np.nonzero(moved), strict=True):
        fit = fit_sojourn_quantiles(cv, x95[i, j], x99[i, j], x99[i, j] / _FIT_BINS, mean_wait=mean[i, j])
        if fit is not None and fit[0] <= p_wait[i, j]:
            ratio_p[i, j], ratio_t[i, j] = fit[0] / erlang[i, j], fit[1] / ht_rate[i, j]
    for i in range(grid_c.shape[0]):
        ok = np.isfinite(ratio_p[i])
        if ok.any():
            ratio_p[i] = np.interp(t.rhos, t.rhos[ok], ratio_p[i, ok])
            ratio_t[i] = np.interp(t.rhos, t.rhos[ok], ratio_t[i, ok])
        else:
            ratio_p[i] = tail_weight(grid_c[i], grid_rho[i], cv, np.full(t.rhos.size, heavy))
            ratio_t[i] = 1.0
    return np.column_stack([ratio_p[:, 0], ratio_p]), np.column_stack([ratio_t[:, 0], ratio_t])


@lru_cache(maxsize=1)
def _mean_ratios() -> Array:
    """Mean wait over M/M/c's, C/(c(1 − ρ)), at every table point: shape (cv, c, `_loads`).

    The ρ = 0 column is Burman & Smith's exact light-traffic limit L (`light_traffic_ratio`). A
    table mean whose standard error is above a tenth of it (few waits: at c 32 and ρ 0.3 none of
    2·10⁷ requests waited) is replaced by the value interpolated between that limit and the loads of
    that c whose mean is known. Then each (c, ρ) is made non-decreasing in cv by pool-adjacent-
    violators weighted by 1/se² (Barlow et al., Statistical Inference under Order Restrictions,
    1972): L rises with cv at every c, and so do all well-measured points; a few low-load points at
    c 16-32 (means of 10⁻⁵-10⁻³ with 2-7 % standard errors) fell by less than their noise.
    """
    t = _table()
    grid_c, grid_rho = np.meshgrid(t.servers, t.rhos, indexing="ij")
    mmc = _erlang_c_at(grid_c, grid_rho) / (grid_c * (1.0 - grid_rho))
    loads = _loads()
    out = np.empty((t.cvs.size, t.servers.size, loads.size))
    weight = np.empty_like(out)
    for n, cv in enumerate(t.cvs.tolist()):
        mean, se = t.stats["mean_wait"][n], t.stats["mean_wait_se"][n]
        sure = (mean > 0) & (se <= _MEAN_MAX_SE * mean)
        light = np.array([light_traffic_ratio(cv, int(k)) for k in t.servers])
        ratio = mean / mmc
        rel_se = np.where(sure, se / np.where(mean > 0, mean, 1.0), _MEAN_MAX_SE)
        for i in range(t.servers.size):
            known = np.r_[True, sure[i]]
            out[n, i] = np.interp(loads, loads[known], np.r_[light[i], ratio[i, sure[i]]])
        weight[n] = np.column_stack([np.full(t.servers.size, 1e6), 1.0 / np.maximum(rel_se, 1e-3) ** 2])
    for i, j in np.ndindex(out.shape[1:]):
        out[:, i, j] = _isotonic(out[:, i, j], weight[:, i, j])
    return out


def _isotonic(y: Array, w: Array) -> Array:
    """The non-decreasing sequence closest to y in weighted least squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [weighted mean, weight, count]
    for value, weight in zip(y.tolist(), w.tolist(), strict=True):
        blocks.append([value, weight, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            b = blocks.pop()
            a = blocks[-1]
            total = a[1] + b[1]
            blocks[-1] = [(a[0] * a[1] + b[0] * b[1]) / total, total, a[2] + b[2]]
    return np.concatenate([np.full(int(count), mean) for mean, _, count in blocks])


def _cv_weights(cv: float, power: float = 1.0) -> list[tuple[int | None, float]]:
    """Table cv slices and weights for `cv`, linear in cv^power (None is M/M/c: cv 1, ratios 1).

    Below the table's first cv the ratios go linearly to M/M/c's at cv 1; above its last they stay.
    P and θ use power 1 (leaving cv 2 out: max P99 error 3.5 %, against 4.2 % with cv²); the mean
    uses cv², in which Allen–Cunneen's H = (1 + cv²)/2 is linear, so it stays below H as the table.
    """
    cvs = _table().cvs ** power
    x = cv**power
    if x >= cvs[-1]:
        return [(len(cvs) - 1, 1.0)]
    if x <= cvs[0]:
        w = (x - 1.0) / (cvs[0] - 1.0)
        return [(None, 1.0 - w), (0, w)]
    k = int(np.searchsorted(cvs, x, side="right")) - 1
    w = (x - cvs[k]) / (cvs[k + 1] - cvs[k])
    return [(k, 1.0 - w), (k + 1, w)]


@lru_cache(maxsize=1024)
def _ratios_at(cv: float, servers: float) -> Array:
    """(P/C, θ·H/(c(1 − ρ)), mean over Allen–Cunneen's) over `_loads()` for one (cv, c): (3, ρ).

    Linear in log c between the table's servers, beyond them the edge's; in cv as `_cv_weights`.
    The mean is interpolated as mean/M/M/c's (non-decreasing in cv at every table point, so the
    interpolated mean is too) and handed on over Allen–Cunneen's, H = (1 + cv²)/2; beyond cv 4 its
    ratio to Allen–Cunneen's is kept, so it keeps growing like H.
    """
    t = _table()
    logc = np.log(t.servers)
    x = math.log(min(max(servers, t.servers[0]), t.servers[-1]))
    k = min(int(np.searchsorted(logc, x, side="right")) - 1, logc.size - 2)
    wc = (x - logc[k]) / (logc[k + 1] - logc[k])

    def at_c(ratio: Array) -> Array:
        return np.asarray((1.0 - wc) * ratio[k] + wc * ratio[k + 1], dtype=np.float64)

    out = np.zeros((3, t.rhos.size + 1))
    for index, w in _cv_weights(cv):
        if index is None:
            out[:2] += w
        else:
            out[0] += w * at_c(_tail_ratios(index)[0])
            out[1] += w * at_c(_tail_ratios(index)[1])
    for index, w in _cv_weights(cv, power=2.0):
        out[2] += w if index is None else w * at_c(_mean_ratios()[index])
    out[2] /= (1.0 + min(cv, float(t.cvs[-1])) ** 2) / 2.0
    return out


def table_wait(cv: float, servers: Array, rho: Array, heavy: Array) -> tuple[Array, Array, Array]:
    """(weight P, rate θ, mean wait) of the M/G/c wait as P·Exp(θ), mean service 1, lognormal cv > 1.

    From `data/mgc_lognormal.csv`: exact FCFS simulations (Kiefer–Wolfowitz recursion,
    `tests/fcfs_sim.py`; Poisson arrivals; 4 runs of 5·10⁶ requests per point) for cv 1.5-4,
    c 2-32, ρ 0.3-0.9. At each table point (P, θ) give that point's exact sojourn P95 and P99
    (like `single_server_tail` for c = 1), and the mean wait is the simulated one, kept apart as
    Pollaczek–Khinchine's is for c = 1 (one exponential cannot carry the mean and both
    quantiles). Between points normalised ratios (`_ratios_at`: P/Erlang C, θ over the
    heavy-traffic rate c(1 − ρ)/H, the mean over M/M/c's) are interpolated linearly in ρ, log c
    and cv, and towards M/M/c (ratios 1) between cv 1 and 1.5. Below ρ 0.3 the mean goes linearly
    to its exact light-traffic limit at ρ = 0 (Burman & Smith 1983), P and θ keep the ratios of
    ρ 0.3. Elsewhere outside the table the ratios of its nearest edge are kept: ρ > 0.9, cv > 4,
    c > 32. `heavy` is H = (C_a² + cv²)/2 per tick: with non-Poisson arrivals (C_a² != 1) the rate
    scales by H_Poisson/H and the mean by H/H_Poisson, the GI/G/c two-moment factor of
    `queueing.allen_cunneen_factor` (the table has Poisson arrivals only). `servers` >= 2
    (non-integer counts interpolate in log c), 0 < ρ < 1.
    """
    c = np.asarray(servers, dtype=np.float64)
    r = np.asarray(rho, dtype=np.float64)
    h = np.broadcast_to(np.asarray(heavy, dtype=np.float64), r.shape)
    loads = _loads()
    clipped = np.clip(r, 0.0, loads[-1])
    ratio = np.empty((3, r.size))
    uniq, inverse = np.unique(c, return_inverse=True)
    for n, k in enumerate(uniq.tolist()):
        at = inverse == n
        curves = _ratios_at(float(cv), float(k))
        for m in range(3):
            ratio[m, at] = np.interp(clipped[at], loads, curves[m])
    erlang = _erlang_c_at(c, r)
    ht_rate = c * (1.0 - r) / h
    p = np.clip(ratio[0] * erlang, 0.0, 1.0)
    return p, ratio[1] * ht_rate, ratio[2] * erlang / ht_rate
