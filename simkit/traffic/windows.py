"""Latency and availability over windows: true window quantiles, failures in the distribution, budgets.

The P95 of a window is the 0.95-quantile of the latency of *all* the requests offered in it: the
request-weighted mixture of its ticks' latency distributions (served requests), plus the failed
requests at the route's timeout (a request that timed out or was turned away waited at least that
long), plus the served requests of ticks whose latency cannot be computed (no server) at +inf. The
client-facing timeout also caps the served requests' latency (one not answered by then is a timeout
to its client), so a failure is never faster than a success and more overload only moves mass to
the right: the window and whole-run P95 do not decrease with load at the same capacity.

Everything is vectorised over windows: the ticks' CDFs (one row per distinct tick, see
`engine.traffic._unique_ticks`) are pooled into every window at once by a sparse (windows x rows)
matrix of request weights, block by block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Pooled:
    """Per window: the requests' latency, as the pieces of the mixture that `mixture` puts together."""

    cdf_sum: np.ndarray  # (windows, grid): sum over ticks of served_t * F_t(grid)
    served: np.ndarray  # (windows,) served requests of ticks with a latency distribution
    failed: np.ndarray  # (windows,) requests that failed: at the timeout
    lost: np.ndarray  # (windows,) served requests of ticks without a distribution (no server): at +inf

    @property
    def requests(self) -> np.ndarray:
        """All the requests of each window."""
        return self.served + self.failed + self.lost

    def quantile(self, grid: np.ndarray, fail_at_s: float, q: float) -> np.ndarray:
        """Each window's q-quantile of the latency of all its requests (NaN: no request; inf: beyond).

        Latency is capped at `fail_at_s`, the route's timeout (a point of `grid`): a request not
        answered by then is a timed-out request to its client, at that time. So a failed request is
        never faster than a served one, and moving requests from served to failed moves mass right.
        The quantile is the first grid point where the pooled CDF reaches q, linear between grid
        points; it is <= a grid point x_j exactly when the CDF at x_j reaches q (the same order of
        comparisons), so a verdict read at a target on the grid is exact.
        """
        total = self.requests
        need = q * total
        cut = int(np.searchsorted(grid, fail_at_s, side="left"))  # grid[cut:] >= the timeout
        head = self.cdf_sum[:, :cut]
        reach = head >= need[:, None]
        k = np.argmax(reach, axis=1) if cut else np.zeros(total.size, dtype=np.intp)
        inside = reach[np.arange(total.size), k] if cut else np.zeros(total.size, dtype=bool)
        at_cap = ~inside & (self.served + self.failed >= need) & (cut < grid.size)
        k = np.where(at_cap, cut, k)
        rows = np.arange(total.size)
        f_hi = np.where(at_cap, self.served + self.failed, head[rows, np.minimum(k, cut - 1)] if cut else 0.0)
        lo = np.maximum(k - 1, 0)
        f_lo = np.where(k > 0, head[rows, np.minimum(lo, cut - 1)] if cut else 0.0, 0.0)
        x_lo = np.where(k > 0, grid[lo], 0.0)
        span = f_hi - f_lo
        frac = np.where(span > 0, (need - f_lo) / np.where(span > 0, span, 1.0), 1.0)
        x = x_lo + np.clip(frac, 0.0, 1.0) * (grid[np.minimum(k, grid.size - 1)] - x_lo)
        x = np.where(inside | at_cap, x, np.inf)
        return np.where(total > 0, x, np.nan)


def window_bins(t_s: np.ndarray, window_s: float) -> tuple[np.ndarray, int]:
    """The window of each tick (fixed windows from t = 0) and how many windows there are."""
    bins = np.floor(np.asarray(t_s, dtype=float) / window_s + 1e-9).astype(np.int64)
    return bins, int(bins.max()) + 1 if bins.size else 0


def pool(
    row_cdf: Callable[[int, int], np.ndarray],
    n_rows: int,
    inverse: np.ndarray,
    served: np.ndarray,
    failed: np.ndarray,
    sets: Sequence[tuple[np.ndarray, int]],
    grid_size: int,
    chunk: int,
) -> list[Pooled]:
    """Pool the ticks into each set of windows (`sets`: the window of each tick, how many windows).

    `row_cdf(a, b)` gives the CDFs of the distinct rows a..b-1 on the grid (a NaN row: no
    distribution); `inverse` maps each tick to its row; `served`, `failed`: requests per tick.
    """
    served = np.clip(np.asarray(served, dtype=float), 0.0, None)
    failed = np.clip(np.asarray(failed, dtype=float), 0.0, None)
    mats = [sparse.csc_matrix((served, (bins, inverse)), shape=(n, n_rows)) for bins, n in sets]
    acc = [np.zeros((n, grid_size)) for _, n in sets]
    lost = [np.zeros(n) for _, n in sets]
    for a in range(0, n_rows, chunk):
        b = min(n_rows, a + chunk)
        cdf = row_cdf(a, b)
        bad = ~np.isfinite(cdf).all(axis=1)
        if bad.any():
            cdf = np.where(bad[:, None], 0.0, cdf)
        for k, m in enumerate(mats):
            part = m[:, a:b]
            acc[k] += part @ cdf
            if bad.any():
                lost[k] += part @ bad.astype(float)
    out = []
    for k, (bins, n) in enumerate(sets):
        s = np.bincount(bins, weights=served, minlength=n)[:n]
        f = np.bincount(bins, weights=failed, minlength=n)[:n]
        out.append(Pooled(acc[k], np.clip(s - lost[k], 0.0, None), f, lost[k]))
    return out


def time_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest v with at least a share q of the weight at values <= v (NaN values left out)."""
    ok = ~np.isnan(values) & (weights > 0)
    if not ok.any():
        return float("nan")
    order = np.argsort(values[ok], kind="stable")
    v, w = values[ok][order], weights[ok][order]
    share = np.cumsum(w) / w.sum()
    return float(v[min(int(np.searchsorted(share, q - 1e-12, side="left")), v.size - 1)])


@dataclass(frozen=True)
class Budget:
    """Availability over its window: the worst window's, its error budget and the share used."""

    availability: float  # of the worst window (of the run, prorated, if the run is shorter)
    error_budget: float  # errors the window allows: (1 - target) x its requests
    used: float  # errors / budget in that window (> 1: missed)
    window_start_s: float  # where that window starts


def availability_budget(
    t_s: np.ndarray,
    tick_s: np.ndarray,
    requests: np.ndarray,
    errors: np.ndarray,
    target: float,
    window_s: float,
) -> Budget:
    """The error budget over a rolling window of `window_s` (ticks whole; the worst window wins).

    A run no longer than the window is held to the window's budget prorated to its length: it may
    fail (1 - target) of its own requests, and the budget shown is the window's, extrapolated from
    the run's request rate (requests x window / run).
    """
    allowed = 1.0 - target
    duration = float(tick_s.sum())
    if duration <= window_s * (1 + 1e-9) or t_s.size == 0:
        req, err = float(requests.sum()), float(errors.sum())
        avail = 1.0 - err / req if req > 0 else 1.0
        used = err / (allowed * req) if req > 0 and allowed > 0 else 0.0
        return Budget(avail, allowed * req * window_s / duration if duration > 0 else 0.0, used, 0.0)
    k = max(1, int(round(window_s / float(np.median(tick_s)))))
    creq = np.concatenate([[0.0], np.cumsum(requests)])
    cerr = np.concatenate([[0.0], np.cumsum(errors)])
    req_w, err_w = creq[k:] - creq[:-k], cerr[k:] - cerr[:-k]
    with np.errstate(invalid="ignore", divide="ignore"):
        bad = np.where(req_w > 0, err_w / req_w, 0.0)
    i = int(np.argmax(bad))
    budget = allowed * float(req_w[i])
    used = float(err_w[i]) / budget if budget > 0 else 0.0
    return Budget(1.0 - float(bad[i]), budget, used, float(t_s[i]))
