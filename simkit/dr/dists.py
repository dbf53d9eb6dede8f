"""Drawing phase durations (`PhaseTime`) as numpy arrays, one value per Monte Carlo draw."""

from __future__ import annotations

import math

import numpy as np

from simkit.scenario.dr import PhaseTime

__all__ = ["sample", "Z90"]

Z90 = 1.2815515655446004  # standard normal quantile at 0.90: lognormal sigma = ln(p90 / median) / Z90


def sample(t: PhaseTime, rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` draws of `t` in seconds (fixed, uniform, triangular or lognormal)."""
    kind = t.kind
    if kind == "fixed":
        return np.full(n, float(t.fixed or 0.0))
    if kind == "lognormal":
        median, p90 = float(t.median or 0.0), float(t.p90 or 0.0)
        sigma = math.log(p90 / median) / Z90
        return np.full(n, median) if sigma == 0 else rng.lognormal(math.log(median), sigma, n)
    lo, hi = float(t.min or 0.0), float(t.max or 0.0)
    if lo == hi:
        return np.full(n, lo)
    if kind == "uniform":
        return rng.uniform(lo, hi, n)
    return rng.triangular(lo, float(t.mode or lo), hi, n)
