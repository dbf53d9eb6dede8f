"""Monte Carlo verdicts: how likely each target is to hold, with confidence intervals.

`summarize_runs` turns `simkit.replicate`'s per-run rows into one row per target: the share of seeds
in which it held with a Wilson score interval, and the mean (Student-t interval) and percentiles of
its measured value. A target passes when the interval's lower bound clears the required probability,
so a handful of lucky seeds cannot pass a plan: with no miss at all, n seeds give a lower bound of
n / (n + z^2), and 0.95 needs 73 of them (`seeds_needed`).

Runs of a zone batch (`zone: each`, a `zone` column) count once per seed, at their worst zone: a
target holds in a seed only if it held whichever zone was lost.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import ndtri, stdtrit  # already loaded by the traffic model; scipy.stats is not

PLAN_PREFIX = "plan."
"""Per deployment plan of a run row: `plan.<name>.<field>`, one per `PLAN_FIELDS`."""
PLAN_FIELDS = ("outcome", "duration_s", "extra_cost_usd_total", "p95_ms")
OUTCOME_ORDER = (
    "Complete",
    "ProgressDeadlineExceeded",
    "PodEvictionFailure",
    "DrainTimeout",
    "Aborted",
    "Unfinished",
    "NotStarted",
)

PREFIXES = ("passed.", "value.", "margin.", "threshold.", "unit.")
"""The per-target columns of a run row: `passed.<target>`, `value.<target>`, ..."""

ALL_TARGETS = "all targets"

SUMMARY_COLUMNS = (
    "target",
    "unit",
    "threshold",
    "n",
    "met",
    "p_met",
    "ci_low",
    "ci_high",
    "mean",
    "mean_ci_low",
    "mean_ci_high",
    "p5",
    "p50",
    "p95",
    "require",
    "passed",
)


def wilson_interval(met: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion `met / n`.

    Closed form (E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", JASA 22 (1927) 209-212; Brown, Cai & DasGupta, Statistical Science 16 (2001), eq. 4):
    (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z the normal quantile of (1+confidence)/2.
    It stays inside [0, 1] and is informative at 0/n and n/n, where the Wald interval collapses;
    it equals `scipy.stats.binomtest(met, n).proportion_ci(confidence, method="wilson")`.
    """
    if n <= 0:
        return (math.nan, math.nan)
    z = float(ndtri(0.5 + confidence / 2))
    p = met / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if met == 0 else max(0.0, center - half)  # exact at the edges (no rounding residue)
    high = 1.0 if met == n else min(1.0, center + half)
    return (low, high)


def seeds_needed(require: float, confidence: float = 0.95) -> int:
    """The fewest seeds, all meeting a target, whose Wilson lower bound n/(n+z^2) reaches `require`."""
    z = float(ndtri(0.5 + confidence / 2))
    return math.ceil(require * z * z / (1 - require) - 1e-9)


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """The mean and its Student-t interval (NaN bounds with fewer than two values).

    For a quantity that cannot be negative (every value >= 0: latency, errors, cost) the interval is
    intersected with [0, inf): a skewed or bimodal sample (a few seeds with a failover, most
    without) otherwise gives a negative lower bound for a mean that cannot be below zero.
    """
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(values.mean())
    if n < 2:
        return (mean, math.nan, math.nan)
    half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * float(values.std(ddof=1)) / math.sqrt(n)
    low = mean - half
    if values.min() >= 0:
        low = max(low, 0.0)
    return (mean, low, mean + half)


def targets(runs: pd.DataFrame) -> list[str]:
    """The targets checked in these runs, in the order of their columns."""
    return [c.removeprefix("passed.") for c in runs.columns if c.startswith("passed.")]


def worst_per_seed(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per seed: for a zone batch (a `zone` column), each target at its worst zone (the
    smallest margin) and `passed` only if it held in every zone; other runs as they are."""
    if "zone" not in runs.columns:
        return runs
    rows = []
    for seed, group in runs.groupby("seed", sort=True):
        row: dict[str, object] = {"seed": seed, "passed": bool(group["passed"].all())}
        for target in targets(runs):
            margin = group.get(f"margin.{target}")
            at = group.index[0] if margin is None or margin.isna().all() else margin.idxmin()
            row[f"zone.{target}"] = group.at[at, "zone"]
            for prefix in PREFIXES:
                if f"{prefix}{target}" in group:
                    row[f"{prefix}{target}"] = group.at[at, f"{prefix}{target}"]
            row[f"passed.{target}"] = bool(group[f"passed.{target}"].all())
        rows.append(row)
    return pd.DataFrame(rows)


def summarize_runs(
    runs: pd.DataFrame, require: float | None = 0.95, confidence: float = 0.95
) -> pd.DataFrame:
    """Per target (and `all targets`): seeds met, P(met) with its Wilson interval, the value's mean
    with its t interval and its 5th/50th/95th percentiles, and the verdict.

    `passed` is `ci_low >= require`; with `require=None` a target passes only if it held in every
    run (the rule for a single seed, where an interval says nothing).
    """
    per_seed = worst_per_seed(runs)
    rows = []
    for target in [ALL_TARGETS, *targets(per_seed)]:
        met_col = "passed" if target == ALL_TARGETS else f"passed.{target}"
        met_flags = per_seed[met_col].astype(bool)
        n, met = int(met_flags.size), int(met_flags.sum())
        low, high = wilson_interval(met, n, confidence)
        values = pd.to_numeric(per_seed.get(f"value.{target}", pd.Series(dtype=float)), errors="coerce")
        values_arr = values.to_numpy(dtype=float)
        mean, mean_low, mean_high = mean_interval(values_arr, confidence)
        finite = values_arr[~np.isnan(values_arr)]
        p5, p50, p95 = np.percentile(finite, [5, 50, 95]) if finite.size else (math.nan,) * 3
        rows.append(
            {
                "target": target,
                "unit": _first(per_seed, f"unit.{target}", ""),
                "threshold": _first(per_seed, f"threshold.{target}", math.nan),
                "n": n,
                "met": met,
                "p_met": met / n if n else math.nan,
                "ci_low": low,
                "ci_high": high,
                "mean": mean,
                "mean_ci_low": mean_low,
                "mean_ci_high": mean_high,
                "p5": float(p5),
                "p50": float(p50),
                "p95": float(p95),
                "require": math.nan if require is None else require,
                "passed": met == n if require is None else bool(low >= require),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def plan_names(runs: pd.DataFrame) -> list[str]:
    """The deployment plans these runs carry (`plan.<name>.outcome` columns), in column order."""
    suffix = ".outcome"
    return [
        c[len(PLAN_PREFIX) : -len(suffix)]
        for c in runs.columns
        if c.startswith(PLAN_PREFIX) and c.endswith(suffix)
    ]


def plan_stats(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per deployment plan over the runs (`simkit.replicate` rows; every run of a zone batch counts):
    its duration's P50/P95/max, the P95 of its extra cost and of its worst-minute P95 latency, and
    per outcome the share of runs that ended so (`p.<outcome>`) with the Wilson interval of
    `Complete`. A plan that did not end (`Unfinished`) counts its duration up to the run's end.
    """
    rows = []
    for name in plan_names(runs):
        col = f"{PLAN_PREFIX}{name}."
        outcomes = runs[col + "outcome"].astype(str)
        n = int(outcomes.size)
        duration, cost, p95 = (
            _numbers(runs, col + f) for f in ("duration_s", "extra_cost_usd_total", "p95_ms")
        )
        complete = int((outcomes == "Complete").sum())
        low, high = wilson_interval(complete, n, confidence)
        row: dict[str, object] = {
            "plan": name,
            "n": n,
            "duration_p50_s": _percentile(duration, 50),
            "duration_p95_s": _percentile(duration, 95),
            "duration_max_s": _percentile(duration, 100),
            "extra_cost_p95_usd": _percentile(cost, 95),
            "p95_latency_p95_ms": _percentile(p95, 95),
            "complete_ci_low": low,
            "complete_ci_high": high,
        }
        seen = set(outcomes)
        for outcome in [*OUTCOME_ORDER, *sorted(seen - set(OUTCOME_ORDER))]:
            if outcome == "Complete" or outcome in seen:
                row[f"p.{outcome}"] = float((outcomes == outcome).mean()) if n else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _numbers(runs: pd.DataFrame, column: str) -> np.ndarray:
    if column not in runs:
        return np.full(len(runs), math.nan)
    return pd.to_numeric(runs[column], errors="coerce").to_numpy(dtype=float)


def _percentile(values: np.ndarray, q: float) -> float:
    finite = values[~np.isnan(values)]
    return float(np.percentile(finite, q)) if finite.size else math.nan


def _first(frame: pd.DataFrame, column: str, default: object) -> object:
    if column not in frame or frame[column].dropna().empty:
        return default
    return frame[column].dropna().iloc[0]


__all__ = [
    "ALL_TARGETS",
    "SUMMARY_COLUMNS",
    "OUTCOME_ORDER",
    "PLAN_FIELDS",
    "PLAN_PREFIX",
    "mean_interval",
    "plan_names",
    "plan_stats",
    "seeds_needed",
    "summarize_runs",
    "targets",
    "wilson_interval",
    "worst_per_seed",
]
