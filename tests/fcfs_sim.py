"""A small exact FCFS multi-server simulator with give-ups at a fixed timeout (test reference).

Kiefer–Wolfowitz in its simplest form: a heap of the times the c servers become free; a request
arriving at t starts at max(t, earliest free time), or gives up if that start is more than
`timeout` after t (it then takes no server: with FCFS the requests ahead decide a request's start,
so leaving at the deadline or "lazily" is the same). Seeded, one Python loop: keep n small.
"""

from __future__ import annotations

import heapq
import math

import numpy as np


def service_times(rng: np.random.Generator, n: int, mean: float, cv: float) -> np.ndarray:
    """Exponential (cv 1), deterministic (cv 0) or lognormal service times with this mean and cv."""
    if cv == 0.0:
        return np.full(n, mean)
    if cv == 1.0:
        return rng.exponential(mean, n)
    sigma = math.sqrt(math.log1p(cv * cv))
    return rng.lognormal(math.log(mean) - sigma * sigma / 2.0, sigma, n)


def fcfs(
    arrivals: np.ndarray, service: np.ndarray, servers: int, timeout: float = math.inf
) -> tuple[np.ndarray, np.ndarray]:
    """(wait of each request, whether it gave up) for sorted arrival times and service times."""
    free = [0.0] * servers
    wait = np.empty(arrivals.size)
    gave_up = np.zeros(arrivals.size, dtype=bool)
    for i, (t, s) in enumerate(zip(arrivals.tolist(), service.tolist(), strict=True)):
        start = max(t, free[0])
        if start - t > timeout:
            gave_up[i], wait[i] = True, timeout
            continue
        heapq.heapreplace(free, start + s)
        wait[i] = start - t
    return wait, gave_up


def poisson_arrivals(
    rng: np.random.Generator, rates: list[float], dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrival times with a piecewise-constant rate (one per tick of `dt`), and their ticks."""
    times, ticks = [], []
    for k, lam in enumerate(rates):
        n = rng.poisson(lam * dt)
        times.append(np.sort(rng.uniform(k * dt, (k + 1) * dt, n)))
        ticks.append(np.full(n, k))
    return np.concatenate(times), np.concatenate(ticks)
