"""Extra node-hours of plans whose windows overlap, shared between them so that they add up.

A plan alone counts, per pool, the node-hours above the pool's node count at its start over its
window (`simkit.analysis.plans.node_window`). Two plans running at once (a rollout during a node-pool
upgrade, two rollouts) would each count every node added in the common part, so the sum over plans
would exceed what the cluster added. Here the union of the windows is cut at every plan's start and
end; in each piece, with the set K of plans running throughout it, per pool and at each instant:

- what is shared is the most that any plan of K would count alone at that instant, its nodes above
  its own baseline (the pool's count at its own start): the nodes above the earliest-started plan's
  baseline (before any of them could have added a node), unless the pool shrank after that plan
  started and a later plan's count is the higher (a scale-down under a long upgrade: the nodes a
  later plan then adds would otherwise be charged to none); when K is one plan, its own count, so
  a plan's time alone is counted as before;
- it is shared between the plans of K in proportion to what each would count alone then.

Why that split and not an equal one or one by extra pods: the engine does not record why a node was
added (the cluster autoscaler scales a pool for all its pending pods at once, a node-pool upgrade's
surge nodes are asked for by no pod), so there is no per-plan pod or CPU figure that means the same
for every kind of plan; what each plan counts alone is the one per-plan node figure there is. With
it: the shares are >= 0; they sum, over the plans, to that largest lone count over the union of the
windows (at least what any one plan counted alone); no plan's share exceeds what it counted alone
(the weights add up to at least their largest, the whole shared), so nodes that were already there
when a plan started are not charged to it; plans that start together split equally. The
`concurrent_with` column of `result.plans` says whose windows a plan shared. This attributes what the
cluster added during the plans; it is not a counterfactual run without some of them. No upstream
tool defines a plan's cost (Kubernetes, the providers, Argo Rollouts and Flagger report none), so
this definition is simkit's own (issue 12).
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
    changes, times = levels
    shares: list[dict[str, float]] = [{} for _ in windows]
    totals: list[dict[str, float]] = []
    own = [level_at(levels, s) for s, _ in windows]  # each plan's baseline, as it counts alone
    for a, b, active in pieces(windows):
        total: dict[str, float] = {}
        i = int(np.searchsorted(times, a, side="right")) - 1
        j = int(np.searchsorted(times, b, side="left"))  # the changes inside (a, b)
        cur = changes[i][1] if i >= 0 else {}
        t_prev = a
        for t_next, nxt in [*changes[i + 1 : j], (b, {})]:
            h = (t_next - t_prev) / 3600
            for pool, n in cur.items():
                weights = [max(0, n - own[k].get(pool, 0)) for k in active]
                above = max(weights)  # the earliest plan's, unless the pool shrank after it started
                if above == 0 or h == 0:
                    continue
                total[pool] = total.get(pool, 0.0) + above * h
                whole = sum(weights)  # >= above
                for k, w in zip(active, weights, strict=True):
                    if w:
                        shares[k][pool] = shares[k].get(pool, 0.0) + above * h * w / whole
            cur, t_prev = nxt, t_next
        totals.append(total)
    return shares, totals


def priced(hours: dict[str, float], prices: dict[str, float]) -> tuple[float, float]:
    """(node-hours, USD) of per-pool node-hours at per-pool prices (a pool without one costs 0)."""
    return sum(hours.values()), sum(h * prices.get(pool, 0.0) for pool, h in hours.items())
