"""An exact FCFS c-server queue under piecewise-constant Poisson load: the backlog ramp's reference.

FCFS with c servers serves requests in arrival order, each starting at max(arrival, the earliest
time a server frees up) (Kiefer & Wolfowitz 1955), so the sojourn of every request follows from a
heap of the servers' free times. Used by tests/test_backlog_ramp.py.
"""

from __future__ import annotations

import heapq

import numpy as np


def simulate_ticks(
    lam_rps: np.ndarray, servers: int, mean_service_s: float, dt_s: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(arrival tick, sojourn s) per request: Poisson arrivals at lam_rps[i] in tick i, Exp service."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(lam_rps * dt_s)
    tick = np.repeat(np.arange(lam_rps.size), counts)
    arrivals = np.sort(tick * dt_s + rng.uniform(0.0, dt_s, tick.size))
    tick = np.floor(arrivals / dt_s).astype(int)
    service = rng.exponential(mean_service_s, arrivals.size)
    free = [0.0] * servers
    sojourn = np.empty(arrivals.size)
    for i, (t, s) in enumerate(zip(arrivals.tolist(), service.tolist(), strict=True)):
        start = max(t, heapq.heappop(free))
        heapq.heappush(free, start + s)
        sojourn[i] = start + s - t
    return tick, sojourn
