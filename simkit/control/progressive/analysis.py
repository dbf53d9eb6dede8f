"""Canary analysis: thresholds on the canary version's success rate and P95, measured every interval.

Argo Rollouts v1.9.1 AnalysisRun semantics (`analysis/analysis.go`, `utils/analysis/helpers.go`):
a metric measured `count` times every `interval`; the run fails when failed measurements exceed
`failureLimit` (default 0: the first failure fails the run), succeeds when all `count` are taken.
Flagger v1.44.0 (`pkg/controller/scheduler.go` advanceCanary): a failed metric check increments
`failedChecks`; the canary is rolled back when it reaches `threshold` (default 1,
`canary.go` GetAnalysisThreshold). The metric provider here is the simulation itself: the canary
version's own success rate and P95 (`canary_p95_s`), as a Prometheus query on the canary's
pods would report them.

A measurement while the canary version receives no requests (no canary pod ready yet, or weight 0)
has no data: the exported query (export/argo_analysis.py) returns an empty vector, `result[0]`
cannot be evaluated and Argo records the measurement as Error, not as a pass or a failure
(argo-rollouts v1.9.1 `analysis/analysis.go` assessMetricStatus: more than `consecutiveErrorLimit`
errors in a row, default 4 (`utils/defaults/defaults.go` DefaultConsecutiveErrorLimit), end the
run in Error, which aborts the rollout like a failure does). An error does not count towards
`count`: no data never makes a run Successful (an assumption on Argo's count bookkeeping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from simkit.traffic.queueing import mmc_metrics
from simkit.traffic.queueing_latency import Component, latency_quantiles, pooled_quantile, sojourn_cdf

RUNNING = "Running"
SUCCESSFUL = "Successful"
FAILED = "Failed"
CONSECUTIVE_ERROR_LIMIT = 4  # argo-rollouts v1.9.1 utils/defaults/defaults.go DefaultConsecutiveErrorLimit


@dataclass(frozen=True)
class Thresholds:
    """A measurement passes when success rate >= `min_success_rate` and P95 <= `max_p95_s`."""

    min_success_rate: float | None = None
    max_p95_s: float | None = None

    def passes(self, success_rate: float, p95_s: float) -> bool:
        if self.min_success_rate is not None and not success_rate >= self.min_success_rate:
            return False
        return self.max_p95_s is None or p95_s <= self.max_p95_s


@dataclass(frozen=True)
class AnalysisRun:
    """An Argo AnalysisRun in progress: measurements taken, failures, its phase."""

    started_s: float
    taken: int = 0
    failed: int = 0
    phase: str = RUNNING
    last_s: float | None = None
    errors: int = 0  # consecutive measurements without data


def measure(
    run: AnalysisRun,
    thresholds: Thresholds,
    count: int | None,
    failure_limit: int,
    ok: bool | None,
    now: float,
) -> AnalysisRun:
    """One measurement: Failed once failures exceed `failure_limit`; Successful after `count`
    measurements (None: runs until the rollout ends, as a background analysis without count).
    `ok` None: no data (an Error measurement): Failed once more than CONSECUTIVE_ERROR_LIMIT in a row."""
    if run.phase != RUNNING:
        return run
    if ok is None:
        errors = run.errors + 1
        phase = FAILED if errors > CONSECUTIVE_ERROR_LIMIT else RUNNING
        return replace(run, errors=errors, phase=phase, last_s=now)
    taken, failed = run.taken + 1, run.failed + (0 if ok else 1)
    phase = RUNNING
    if failed > failure_limit:
        phase = FAILED
    elif count is not None and taken >= count:
        phase = SUCCESSFUL
    return replace(run, taken=taken, failed=failed, phase=phase, last_s=now, errors=0)


def canary_p95_s(lam_rps: float, servers: float, service_s: float, cv: float) -> float:
    """P95 of one version's sojourn time: pointwise-stationary M/G/c (simkit.traffic.queueing) with
    the share of the arrivals routed to it. inf when it has no servers or is overloaded."""
    if lam_rps <= 0:  # no requests: no queue, the service time alone
        comp = Component(np.zeros(1), np.ones(1), service_s, service_cv=cv)
        return float(latency_quantiles([comp], [0.95])[0, 0])
    if servers <= 0 or lam_rps >= servers / service_s:
        return math.inf
    m = mmc_metrics(np.array([lam_rps]), np.array([float(servers)]), service_s, cv)
    comp = Component(m.p_wait, m.wait_rate_per_s, service_s, service_cv=cv)
    return float(latency_quantiles([comp], [0.95])[0, 0])


def _version_cdf(
    lam: float, servers: float, service_s: float, cv: float, grid: np.ndarray
) -> np.ndarray | None:
    """One version's sojourn CDF on `grid` (None: it cannot keep up: no servers or overloaded)."""
    if lam <= 0:
        comp = Component(np.zeros(1), np.ones(1), service_s, service_cv=cv)
    else:
        if servers <= 0 or lam >= servers / service_s:
            return None
        m = mmc_metrics(np.array([lam]), np.array([float(servers)]), service_s, cv)
        comp = Component(m.p_wait, m.wait_rate_per_s, service_s, service_cv=cv)
    return np.asarray(sojourn_cdf([comp], grid))[0]


def split_p95_s(
    lam_rps: float,
    weight: float,
    stable: tuple[float, float, float],
    canary: tuple[float, float, float],
    q: float = 0.95,
) -> float:
    """P95 of a service whose arrivals are split: `weight` to the canary, the rest to the stable.

    `stable` / `canary`: (servers, mean service s, service cv) of each version. Each version is its
    own pointwise-stationary M/G/c queue (simkit.traffic.queueing) fed its share of the arrivals; the
    service's latency is the mixture of the two sojourn distributions weighted by the split. inf when
    a version that gets traffic cannot keep up."""
    w = min(max(weight, 0.0), 1.0)
    top = 40.0 * max(stable[1], canary[1])
    grid = np.linspace(0.0, top, 4001)
    cdfs, weights = [], []
    for share, (servers, service_s, cv) in ((1.0 - w, stable), (w, canary)):
        if share <= 0:
            continue
        cdf = _version_cdf(lam_rps * share, servers, service_s, cv, grid)
        if cdf is None:
            return math.inf
        cdfs.append(cdf)
        weights.append(share)
    return float(pooled_quantile(grid, np.vstack(cdfs), np.array(weights), [q])[0])


def _cdfs(lam: np.ndarray, servers: np.ndarray, service_s: float, cv: float, grid: np.ndarray) -> np.ndarray:
    """Per-tick sojourn CDFs of one version on `grid` (rows of NaN where it cannot keep up)."""
    out = np.full((lam.size, grid.size), np.nan)
    idle = lam <= 0
    ok = ~idle & (servers > 0) & (lam < servers / service_s)
    if idle.any():
        comp = Component(np.zeros(1), np.ones(1), service_s, service_cv=cv)
        out[idle] = np.asarray(sojourn_cdf([comp], grid))[0]
    if ok.any():
        m = mmc_metrics(lam[ok], servers[ok], service_s, cv)
        comp = Component(m.p_wait, m.wait_rate_per_s, service_s, service_cv=cv)
        out[ok] = np.asarray(sojourn_cdf([comp], grid))
    return out


def split_p95_series(
    lam_rps: np.ndarray,
    weight: np.ndarray,
    stable: tuple[np.ndarray, float, float],
    canary: tuple[np.ndarray, float, float],
    q: float = 0.95,
) -> np.ndarray:
    """`split_p95_s` for many ticks at once (arrays of arrivals, weights and servers per version):
    one M/G/c CDF evaluation per version for all ticks, then each tick's mixture quantile."""
    lam = np.asarray(lam_rps, dtype=float)
    w = np.clip(np.asarray(weight, dtype=float), 0.0, 1.0)
    top = 40.0 * max(stable[1], canary[1])
    grid = np.linspace(0.0, top, 4001)
    f_s = _cdfs(lam * (1 - w), np.asarray(stable[0], dtype=float), stable[1], stable[2], grid)
    f_c = _cdfs(lam * w, np.asarray(canary[0], dtype=float), canary[1], canary[2], grid)
    bad = ((1 - w) > 0) & np.isnan(f_s[:, 0]) | (w > 0) & np.isnan(f_c[:, 0])
    mix = (1 - w)[:, None] * np.nan_to_num(f_s) + w[:, None] * np.nan_to_num(f_c)
    mix = np.maximum.accumulate(mix, axis=1)
    k = np.argmax(mix >= q, axis=1)
    reached = mix[np.arange(lam.size), k] >= q
    lo = np.maximum(k - 1, 0)
    f_lo = np.where(k > 0, mix[np.arange(lam.size), lo], 0.0)
    f_hi = mix[np.arange(lam.size), k]
    x_lo = np.where(k > 0, grid[lo], 0.0)
    frac = np.where(f_hi > f_lo, (q - f_lo) / np.where(f_hi > f_lo, f_hi - f_lo, 1.0), 1.0)
    out = x_lo + frac * (grid[k] - x_lo)
    out[~reached] = np.inf
    out[bad] = np.inf
    return out
