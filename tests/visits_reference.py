"""A small exact FCFS simulation of routes through c-server stations, the reference for repeated visits.

Requests arrive as one Poisson stream; each follows the same path of stations (a station may repeat:
`calls: 2` is (a, a), a→b→a is (a, b, a)). Each visit queues FCFS at its station for one of `c`
servers and holds it for an exponential (or lognormal / deterministic) service time; the request then
joins the next station's queue at once. Event-driven with a heap; used by tests/test_repeated_visits.py.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence

import numpy as np


def simulate_route(
    path: Sequence[str],
    servers: dict[str, int],
    mean_service_s: dict[str, float],
    lam_rps: float,
    n_requests: int,
    seed: int,
    warmup: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """(sojourn of each request through the whole path, total wait of each request), after warm-up."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam_rps, n_requests))
    service = {s: rng.exponential(m, (n_requests, len(path))) for s, m in mean_service_s.items()}
    free = dict(servers)
    queue: dict[str, deque[tuple[int, int, float]]] = {s: deque() for s in servers}
    wait = np.zeros(n_requests)
    done = np.zeros(n_requests)
    events: list[tuple[float, int, int, int]] = [(float(t), 0, i, 0) for i, t in enumerate(arrivals)]
    heapq.heapify(events)
    seq = 0
    while events:
        now, kind, rid, hop = heapq.heappop(events)
        if kind == 1:  # a service completion at path[hop]
            st = path[hop]
            if queue[st]:
                nid, nhop, since = queue[st].popleft()
                wait[nid] += now - since
                heapq.heappush(events, (now + service[st][nid, nhop], 1, nid, nhop))
            else:
                free[st] += 1
            hop += 1
            if hop == len(path):
                done[rid] = now
                continue
        st = path[hop]  # the request joins station `st` for visit `hop`
        seq += 1
        if free[st] > 0:
            free[st] -= 1
            heapq.heappush(events, (now + service[st][rid, hop], 1, rid, hop))
        else:
            queue[st].append((rid, hop, now))
    return (done - arrivals)[warmup:], wait[warmup:]
