"""The rows of the routes table a plan's window reads: requests, errors and per-tick P95 of some routes
in the ticks that overlap the window.

Two readers, the same rows in the same order: `RouteTicks` reads a built routes table, `RouteArrays`
reads the traffic model's per-route arrays before the table is built (`engine.traffic._route_table`'s
inputs). A month's table has ~10^5 rows and a plan reads a few hundred, so building the table only
for the plans' windows cost more than all of them (bench 3b); a table the user reads later is built
then, as for a run without plans.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["RouteArrays", "RouteTicks", "Rows"]

Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(t_s, requests, errors, p95_ms) of the rows selected, in table order (route by route, then time)."""

RouteColumns = tuple[str, np.ndarray, np.ndarray, np.ndarray]
"""One route's (name, requests, errors, P95 seconds) per tick."""


def _span(t: np.ndarray, ordered: bool, start: float, stop: float, dt: float) -> slice:
    """The rows of time-ordered ticks `t` that can overlap [start, stop): those before start - 2 dt end
    before `start`, those from `stop` on start after it (the exact test is applied inside)."""
    if not ordered:
        return slice(0, t.size)
    return slice(int(np.searchsorted(t, start - 2 * dt)), int(np.searchsorted(t, stop)))


def _in_time_order(t: np.ndarray) -> bool:
    return bool(np.all(t[1:] >= t[:-1]))


class RouteTicks:
    """A built routes table's columns as arrays, read once for every plan's window."""

    def __init__(self, routes: pd.DataFrame) -> None:
        self.empty = routes.empty
        self.route = routes["route"] if not self.empty else pd.Series(dtype=object)
        cols = ("t_s", "requests", "errors", "p95_ms")
        self.t, self.requests, self.errors, self.p95 = (
            routes[c].to_numpy() if not self.empty else np.empty(0) for c in cols
        )
        self._masks: dict[tuple[str, ...], np.ndarray] = {}
        self._ordered = _in_time_order(self.t)  # the engine writes one route at a time, ticks in order

    def rows(self, names: Sequence[str], start: float, end: float, dt: float) -> Rows:
        """The rows of `names` in the ticks overlapping [start, end] (`t + dt > start`, `t < end`)."""
        key = tuple(names)
        if key not in self._masks:
            self._masks[key] = self.route.isin(names).to_numpy()
        stop = max(end, start + 1e-9)
        span = _span(self.t, self._ordered, start, stop, dt)
        t = self.t[span]
        sel = self._masks[key][span] & (t + dt > start) & (t < stop)
        return t[sel], self.requests[span][sel], self.errors[span][sel], self.p95[span][sel]


class RouteArrays:
    """The routes table's rows before it is built: its tick times and, per route in table order,
    (name, requests, errors, P95 seconds) arrays. The P95 column is `1000 * p95_s`, as the table has it."""

    def __init__(self, t_s: np.ndarray, routes: Sequence[RouteColumns]) -> None:
        self.t = np.asarray(t_s)
        self.routes = list(routes)
        self.empty = not self.routes or self.t.size == 0
        self._ordered = _in_time_order(self.t)

    def rows(self, names: Sequence[str], start: float, end: float, dt: float) -> Rows:
        """The rows `RouteTicks(the built table).rows(...)` selects, the same values in the same order."""
        stop = max(end, start + 1e-9)
        span = _span(self.t, self._ordered, start, stop, dt)
        t = self.t[span]
        sel = (t + dt > start) & (t < stop)
        picked = [(r, e, p) for name, r, e, p in self.routes if name in names]
        if not picked:
            return np.empty(0), np.empty(0), np.empty(0), np.empty(0)
        ts = t[sel]
        return (
            np.concatenate([ts] * len(picked)),
            np.concatenate([r[span][sel] for r, _, _ in picked]),
            np.concatenate([e[span][sel] for _, e, _ in picked]),
            np.concatenate([1000 * p[span][sel] for _, _, p in picked]),
        )
