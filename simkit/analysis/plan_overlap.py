"""Extra node-hours of plans whose windows overlap, shared between them so that they add up.

A plan alone counts, per pool, the node-hours above the pool's node count at its start over its
window (`simkit.analysis.plans.node_window`). Two plans running at once (a rollout during a node-pool
upgrade, two rollouts) would each count every node added in the common part, so the sum over plans
would exceed what the cluster added. Here the union of the windows is cut at every plan's start and
end; in each piece, with the set K of plans active throughout it:

- the baseline is defined once for the piece, per pool: the pool's node count at the start of the
  earliest-started plan of K (the count before any of them could have added a node; where K is one
  plan this is that plan's own baseline, so a plan's time alone is counted as it is today);
- the node-hours above that baseline in the piece are split equally between the plans of K.

Equal shares, not shares by each plan's extra pods or requested CPU: the engine does not record why a
node was added (the cluster autoscaler scales a pool for all its pending pods at once, a node-pool
upgrade's surge nodes are asked for by no pod), so any finer split would be a guess at causes; an
equal share is the one that needs no such guess, and the `concurrent_with` column of `result.plans`
says whose windows a plan shared. Consequences: the shares are >= 0 and sum, over the plans, to the
node-hours above the piece-wise baseline over the union of the windows; at each instant that is at
most what the plans counted on their own (the earliest plan's own excess is one of their terms), so
the overlap is counted once instead of once per plan. This is an attribution of what the cluster
added during the plans, not a counterfactual run without some of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Levels = tuple[list[tuple[float, dict[str, int]]], np.ndarray]  # `plans.pool_levels`: (changes, times)


def concurrent(windows: Sequence[tuple[float, float]]) -> list[list[int]]:
    """For each window (start, end), the indices of the other windows that overlap it for a positive
    time (windows that only touch, or have no length, overlap nothing)."""
    out: list[list[int]] = [[] for _ in windows]
    for i, (s1, e1) in enumerate(windows):
        for j in range(i + 1, len(windows)):
            s2, e2 = windows[j]
            if max(s1, s2) < min(e1, e2):
                out[i].append(j)
                out[j].append(i)
    return out


def level_at(levels: Levels, t: float) -> dict[str, int]:
    """Nodes per pool at `t` (a change at exactly `t` included), as `node_window` reads a plan's start."""
    changes, times = levels
    i = int(np.searchsorted(times, t, side="right")) - 1
    return dict(changes[i][1]) if i >= 0 else {}


def hours_above(levels: Levels, start: float, end: float, base: dict[str, int]) -> dict[str, float]:
    """Per pool, node-hours above `base` (0 for a pool not in it) over [start, end]."""
    changes, times = levels
    i = int(np.searchsorted(times, start, side="right")) - 1
    cur = dict(changes[i][1]) if i >= 0 else {}
    out: dict[str, float] = {}
    t_prev = start
    for t, per_pool in changes[i + 1 :]:
        if t >= end:
            break
        for pool, n in cur.items():
            out[pool] = out.get(pool, 0.0) + max(0, n - base.get(pool, 0)) * (t - t_prev) / 3600
        cur, t_prev = per_pool, t
    for pool, n in cur.items():
        out[pool] = out.get(pool, 0.0) + max(0, n - base.get(pool, 0)) * (end - t_prev) / 3600
    return out


def pieces(windows: Sequence[tuple[float, float]]) -> list[tuple[float, float, list[int]]]:
    """The union of the windows cut at every start and end: (start, end, indices of the windows
    covering the whole piece), pieces covered by none left out."""
    cuts = sorted({x for s, e in windows if e > s for x in (s, e)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        active = [k for k, (s, e) in enumerate(windows) if s <= a and e >= b and e > s]
        if active:
            out.append((a, b, active))
    return out


def shared_node_hours(
    levels: Levels, windows: Sequence[tuple[float, float]]
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Each window's share of the extra node-hours, per pool (see the module docstring), and the
    node-hours above the baseline per piece of the union, per pool (what the shares sum to)."""
    shares: list[dict[str, float]] = [{} for _ in windows]
    totals: list[dict[str, float]] = []
    for a, b, active in pieces(windows):
        first = min(active, key=lambda k: windows[k][0])
        above = hours_above(levels, a, b, level_at(levels, windows[first][0]))
        totals.append(above)
        for k in active:
            for pool, h in above.items():
                shares[k][pool] = shares[k].get(pool, 0.0) + h / len(active)
    return shares, totals


def priced(hours: dict[str, float], prices: dict[str, float]) -> tuple[float, float]:
    """(node-hours, USD) of per-pool node-hours at per-pool prices (a pool without one costs 0)."""
    return sum(hours.values()), sum(h * prices.get(pool, 0.0) for pool, h in hours.items())
