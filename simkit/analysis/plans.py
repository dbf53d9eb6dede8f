"""Deployment plans after the run: one row per plan, one per step, and the plan's checks.

Definitions (per plan, over its window [start_s, end_s]; end_s is the run's end if it did not end):
- `peak_nodes`: the most nodes alive at once in the window, all pools.
- `extra_node_hours`: per pool, node-hours above the pool's node count at the plan's start
  (nodes the plan's surge brought, or any other scale-up during it), summed over pools;
  `extra_cost_usd_total` prices each pool's share at its catalog price (simkit/catalog, the pool's
  instance and capacity type). Not a counterfactual no-plan run: what the cluster added during it.
  Plans whose windows overlap share: at each instant of the overlap the most node-hours any of the
  plans running then counts above its own start (the earliest plan's count unless the pool shrank
  since) are shared between them in proportion to what each counts above its own start, so the column adds up
  over plans instead of counting the overlap once per plan, and no plan gets more than it counted
  alone (simkit/analysis/plan_overlap.py); a plan that overlaps none keeps the figures above.
- `concurrent_with`: the plans whose windows overlap this one (", "-separated, "" if none): its
  extra node-hours and cost are then a share.
- `requests`, `errors`: of what `measured_on` names, in the ticks overlapping the window: the
  queues the target consumes (tasks, lost tasks), else the routes that cross it, else all routes (a
  node pool; a service on no route); `errors` adds the new version's `error_rate` times its share
  of ready capacity (engine/plans.py), averaged over each tick (`tick_shares`), to the traffic
  model's errors and timeouts.
- `p95_ms`: the highest per-tick P95 of those in the window (the worst minute of the plan); for a
  queue, of a task's time in the system (its wait, plus its processing: `_queue_window`).
  A plan of a queue consumer that is on no route was judged on all the routes until 2026-12-07:
  traffic the plan does not touch (rollout-at-peak showed the API's 168 ms for 8-9 s tasks).

Progressive plans (canary, blue-green) split the target's traffic by weight (Argo/Flagger with
trafficRouting, blue-green's active Service) or by ready capacity (a basic canary's Service, a
queue's competing consumers); the engine's traffic model pools the target's pods, so each tick's
P95 gets the split's effect added: `split_p95_s` (each version its own M/G/c queue fed its share,
the latency the weighted mixture) minus the same model with every pod pooled at the current
version's speed. A queue consumer's figures are its queue's: tasks, lost tasks plus the canary's
share of errors, and the P95 of a task's time in the system (wait and processing) under the split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from simkit.analysis.plan_overlap import concurrent, priced, shared_node_hours
from simkit.analysis.route_ticks import RouteArrays, RouteTicks
from simkit.analysis.slo import Check, _check
from simkit.control.progressive.analysis import split_p95_s, split_p95_series
from simkit.engine.traffic import pod_servers
from simkit.scenario.model import Scenario

COMPLETE = "Complete"


class PlanRow(NamedTuple):
    """One row of `result.plans` (columns declared in simkit/tables.py, in this order)."""

    plan: str
    kind: str
    target: str
    start_s: float
    end_s: float
    duration_s: float
    outcome: str
    peak_pods: int
    min_available: int
    peak_nodes: int
    extra_node_hours: float
    extra_cost_usd_total: float
    concurrent_with: str  # the plans whose windows overlap this one: the two columns above are a share
    requests: float
    errors: float
    availability: float
    p95_ms: float
    message: str  # why it did not complete: the last step's wait (the PDB and node, the pending pods)
    measured_on: str  # what requests/errors/p95 are of (`measured_on`)
    # progressive plans: each version on its own (`version_figures`); NaN for the other kinds
    new_requests: float = float("nan")
    new_errors: float = float("nan")
    new_p95_ms: float = float("nan")
    old_requests: float = float("nan")
    old_errors: float = float("nan")
    old_p95_ms: float = float("nan")


def _pool_levels(node_rows: Sequence[tuple[float, str, str, int, int]]) -> list[tuple[float, dict[str, int]]]:
    """Nodes per pool after each change, in time order."""
    zones: dict[tuple[str, str], int] = {}
    out: list[tuple[float, dict[str, int]]] = []
    for t, pool, zone, nodes, _ in node_rows:
        zones[(pool, zone)] = nodes
        per_pool: dict[str, int] = {}
        for (p, _z), n in zones.items():
            per_pool[p] = per_pool.get(p, 0) + n
        if out and out[-1][0] == t:
            out[-1] = (t, per_pool)
        else:
            out.append((t, per_pool))
    return out


def pool_levels(
    node_rows: Sequence[tuple[float, str, str, int, int]],
) -> tuple[list[tuple[float, dict[str, int]]], np.ndarray]:
    """`_pool_levels` and their times as an array, read once for several `node_window`s."""
    levels = _pool_levels(node_rows)
    return levels, np.asarray([t for t, _ in levels], dtype=float)


def node_window(
    node_rows: Sequence[tuple[float, str, str, int, int]],
    start: float,
    end: float,
    prices: dict[str, float],
    levels_times: tuple[list[tuple[float, dict[str, int]]], np.ndarray] | None = None,
) -> tuple[int, float, float]:
    """(peak nodes, extra node-hours, extra cost USD) in [start, end] (see the module docstring).

    `levels_times`: `pool_levels(node_rows)`, when the caller reads several windows of the same rows.
    """
    levels, times = pool_levels(node_rows) if levels_times is None else levels_times
    i = int(np.searchsorted(times, start, side="right")) - 1
    at_start = dict(levels[i][1]) if i >= 0 else {}
    cur = dict(at_start)
    peak = sum(cur.values())
    extra_h: dict[str, float] = {}
    t_prev = start
    for t, per_pool in levels[i + 1 :]:
        if t > end:
            break
        for pool, n in cur.items():
            extra_h[pool] = extra_h.get(pool, 0.0) + max(0, n - at_start.get(pool, 0)) * (t - t_prev) / 3600
        cur, t_prev = dict(per_pool), t
        peak = max(peak, sum(cur.values()))
    for pool, n in cur.items():
        extra_h[pool] = extra_h.get(pool, 0.0) + max(0, n - at_start.get(pool, 0)) * (end - t_prev) / 3600
    hours = sum(extra_h.values())
    return peak, hours, sum(h * prices.get(pool, 0.0) for pool, h in extra_h.items())


def _routes_of(scenario: Scenario, target: str) -> list[str]:
    crossing = [r.name for r in scenario.traffic.routes if any(s.service == target for s in r.path)]
    return crossing or [r.name for r in scenario.traffic.routes]


def _crossing(scenario: Scenario, target: str) -> list[str]:
    return [r.name for r in scenario.traffic.routes if any(s.service == target for s in r.path)]


def judged_on_queues(scenario: Scenario, target: str, split: bool) -> list[str]:
    """The queues a plan of `target` is judged on, or [] for routes: a queue consumer's tasks when
    it is on no route (a rollout of it touches nothing else), and, for a plan that splits traffic
    (canary, blue-green), whenever it consumes a queue (the split is of its tasks). A service on a
    route that also consumes a queue keeps its routes: what its clients see."""
    queues = consumed_queues(scenario, target)
    return queues if queues and (split or not _crossing(scenario, target)) else []


def measured_on(scenario: Scenario, target: str, split: bool = False) -> str:
    """What a plan's requests, errors and P95 are of, in words (the `measured_on` column)."""
    queues = judged_on_queues(scenario, target, split)
    if queues:
        return "tasks of queue " + ", ".join(queues)
    crossing = _crossing(scenario, target)
    if crossing:
        return "routes " + ", ".join(crossing)
    return "all routes (none crosses the target)" if scenario.traffic.routes else "no routes"


def tick_shares(new_share: Sequence[tuple[float, float]], t: np.ndarray, dt: float) -> np.ndarray:
    """The new version's mean share over each tick [t, t + dt): `new_share` is a step function of
    (time, share) changes, 0 before its first. Time-weighted, not the share at the tick's start: a
    version that serves from mid-tick (or stops) serves that part of the tick's requests, whatever
    the resolution."""
    ts = np.array([x[0] for x in new_share], dtype=float)
    shares = np.array([x[1] for x in new_share], dtype=float)
    area = np.concatenate([[0.0], np.cumsum(shares[:-1] * np.diff(ts))])  # integral up to each change

    def integral(x: np.ndarray) -> np.ndarray:
        i = np.searchsorted(ts, x, side="right") - 1
        j = np.clip(i, 0, None)
        return np.where(i >= 0, area[j] + shares[j] * (x - ts[j]), 0.0)

    t = np.asarray(t, dtype=float)
    return (integral(t + dt) - integral(t)) / dt


def _route_window(
    ticks: RouteTicks | RouteArrays,
    names: list[str],
    start: float,
    end: float,
    dt: float,
    error_rate: float,
    new_share: Sequence[tuple[float, float]],
) -> tuple[float, float, float]:
    """(requests, errors, worst per-tick P95 ms) of `names` in the ticks overlapping [start, end]."""
    if ticks.empty:
        return 0.0, 0.0, float("nan")
    t, offered, errs, p95 = ticks.rows(names, start, end, dt)
    if not t.size:
        return 0.0, 0.0, float("nan")
    requests = float(pd.Series(offered).sum())  # as the DataFrame sums it (NaN skipped)
    errors = float(pd.Series(errs).sum())
    if error_rate > 0 and new_share:
        errors += float((offered * tick_shares(new_share, t, dt)).sum() * error_rate)
    return requests, min(errors, requests), float(pd.Series(p95).max())


def split_p95s(rec: Any, t: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(split P95, pooled P95) of the target in the ticks starting at `t`, seconds: the split model
    (`split_p95_series`) and the same pods pooled at the current version's speed; NaN before the
    plan's first split or where the pooled model is overloaded (the traffic model carries that)."""
    model, split = rec.split_model, rec.split
    times = np.array([row[0] for row in split])
    i = np.searchsorted(times, t + dt / 2, side="right") - 1
    have = i >= 0
    rows = np.array([row[1:] for row in split]) if split else np.zeros((1, 3))
    weight, old, new = (rows[np.clip(i, 0, None), c] for c in range(3))
    k = np.minimum(len(model.lam_rps) - 1, (t // model.dt_s).astype(int))
    lam = np.asarray(model.lam_rps, dtype=float)[k]
    (p_old, s_old, cv_old), (p_new, s_new, cv_new) = model.stable, model.canary
    mix = split_p95_series(lam, weight, (old * p_old, s_old, cv_old), (new * p_new, s_new, cv_new))
    pooled_servers = old * p_old + new * p_new * s_old / s_new
    zero = np.zeros_like(lam)
    pooled = split_p95_series(lam, zero, (pooled_servers, s_old, cv_old), (zero, s_new, cv_new))
    drop = ~have | ~np.isfinite(pooled)
    return np.where(drop, np.nan, mix), np.where(drop, np.nan, pooled)


def _split_p95_ms(rec: Any, t: np.ndarray, p95_ms: np.ndarray, dt: float, queue: bool = False) -> float:
    """The worst per-tick P95 (ms) of rows (t, p95) with the split's effect of each tick added.

    Routes: p95 + (split − pooled). A queue's rows hold the task wait P95; the task's time in the
    system is the split P95 plus whatever wait the traffic model has beyond the pooled model's
    (a backlog): split + max(0, wait − (pooled − service-only P95))."""
    if t.size == 0:
        return float("nan")
    model = rec.split_model
    service = split_p95_s(0.0, 0.0, (1.0, *model.stable[1:]), (0.0, *model.canary[1:]))
    ticks, back = np.unique(t, return_inverse=True)
    mix, pooled = (a[back] for a in split_p95s(rec, ticks, dt))
    base = np.asarray(p95_ms, dtype=float)
    known = ~np.isnan(pooled)
    if queue:
        extra = np.maximum(0.0, base / 1000 - (pooled - service))
        out = np.where(known, 1000 * (mix + np.where(known, extra, 0.0)), base + 1000 * service)
    else:
        out = np.where(known, base + 1000 * (mix - pooled), base)
    return float(pd.Series(out).max())


class VersionFigures(NamedTuple):
    """A progressive plan's figures per version at its target (the new and the current version)."""

    new_requests: float
    new_errors: float
    new_p95_ms: float
    old_requests: float
    old_errors: float
    old_p95_ms: float


def version_figures(rec: Any, start: float, end: float) -> VersionFigures:
    """What an analysis of each version on its own would measure, over the ticks overlapping
    [start, end] (as the plan's `requests`): the target's arrivals split by the version's
    time-weighted share of each tick (`tick_shares` of the split timeline), the new version's
    `error_rate` on its share (the current version's errors are its own: none beyond the pooled
    traffic model's timeouts, in `errors`), and each version's own P95 - its M/G/c queue fed its
    share with its ready pods (control/progressive/analysis.py, the same model as the canary
    analysis measures) - worst over the ticks it had requests (NaN if it had none).
    The pooled figures (`requests`, `errors`, `p95_ms`) are not changed by these."""
    model, split = rec.split_model, rec.split
    dt = float(model.dt_s)
    lam_all = np.asarray(model.lam_rps, dtype=float)
    k0 = max(0, int(start // dt))
    k1 = min(lam_all.size, max(k0 + 1, int(np.ceil(max(end, start + 1e-9) / dt))))
    t = np.arange(k0, k1) * dt
    lam = lam_all[k0:k1]
    if not split:
        nan = float("nan")
        return VersionFigures(0.0, 0.0, nan, float((lam * dt).sum()), 0.0, nan)
    share = tick_shares([(row[0], row[1]) for row in split], t, dt)
    new_req, old_req = lam * dt * share, lam * dt * (1 - share)
    times = np.array([row[0] for row in split])
    i = np.clip(np.searchsorted(times, t + dt / 2, side="right") - 1, 0, None)
    rows = np.array([row[1:] for row in split])
    weight, old_pods, new_pods = rows[i, 0], rows[i, 1], rows[i, 2]
    (p_old, s_old, cv_old), (p_new, s_new, cv_new) = model.stable, model.canary
    none = np.zeros_like(lam)
    ones = np.ones_like(lam)
    p95_new = split_p95_series(lam * weight, ones, (none, s_old, cv_old), (new_pods * p_new, s_new, cv_new))
    p95_old = split_p95_series(
        lam * (1 - weight), none, (old_pods * p_old, s_old, cv_old), (none, s_new, cv_new)
    )

    def worst(p95: np.ndarray, served: np.ndarray) -> float:
        return float(1000 * p95[served].max()) if served.any() else float("nan")

    rate = rec.plan.serving.error_rate
    return VersionFigures(
        float(new_req.sum()),
        float(new_req.sum() * rate),
        worst(p95_new, share > 0),
        float(old_req.sum()),
        0.0,
        worst(p95_old, share < 1),
    )


def consumed_queues(scenario: Scenario, target: str) -> list[str]:
    """The task queues `target` consumes: a plan of it is judged on their tasks, not on routes."""
    return [q.name for q in scenario.traffic.queues if q.consumer == target]


def queue_ticks(queues: pd.DataFrame) -> RouteTicks:
    """The queue table's rows (`engine.traffic.queue_rows`) read as routes are: a queue as a route,
    its arrivals as requests, its lost tasks as errors, 1000 x its wait P95 as the P95 in ms."""
    if queues.empty:
        return RouteTicks(pd.DataFrame())
    named = queues.rename(columns={"queue": "route", "arrivals": "requests", "lost": "errors"})
    return RouteTicks(named.assign(p95_ms=1000 * queues["wait_p95_s"].to_numpy()))


def _queue_window(
    rec: Any, q: RouteTicks, names: list[str], scenario: Scenario, start: float, end: float, dt: float
) -> tuple[float, float, float]:
    """(tasks, errors, worst P95 ms of a task's time in the system) of the consumer's queues `names`.

    With a traffic split (progressive plans) the P95 has the split's effect (`_split_p95_ms`).
    Without one (a rollout, a StatefulSet update) the traffic model already runs the new version
    as ready capacity (engine/plans.py); a task's time is its wait P95 plus the processing P95 of
    its queue's task on the slower of the two versions (`task_p95_s`): a slower new version shows.
    """
    if q.empty:
        return 0.0, 0.0, float("nan")
    t, arrivals, lost, wait_ms = q.rows(names, start, end, dt)
    if not t.size:
        return 0.0, 0.0, float("nan")
    errors = float(lost.sum())
    rate = rec.plan.serving.error_rate
    if rate > 0 and rec.new_share:
        errors += float((arrivals * tick_shares(rec.new_share, t, dt)).sum() * rate)
    tasks = float(arrivals.sum())
    if getattr(rec, "split_model", None) is not None:
        p95 = _split_p95_ms(rec, t, wait_ms, dt, queue=True)
    else:
        p95 = -math.inf
        for name in names:  # each queue's wait with its own task's processing
            _, _, _, wait = q.rows([name], start, end, dt)
            if wait.size:
                p95 = max(p95, float(pd.Series(wait + 1000 * task_p95_s(scenario, rec.plan, name)).max()))
        p95 = p95 if p95 > -math.inf else float("nan")
    return tasks, min(errors, tasks), p95


def task_p95_s(scenario: Scenario, plan: Any, queue: str) -> float:
    """The P95 of processing one task of `queue` alone (no wait), on the slower of the target's
    current version and the plan's new one, as the traffic model serves it (engine/traffic.py
    `_queue_stream`): the queue's `task_time` (stretched by a CPU limit, `pod_servers`) and
    `task_time_cv`; the new version's task takes its `serving.service_time` over the current one's
    longer (the capacity weight engine/plans.py gives it), with its `service_time_cv` if set."""
    w = scenario.workload(plan.target)
    spec = next(x for x in scenario.traffic.queues if x.name == queue)
    _, mean_s = pod_servers(w, float(spec.task_time))
    old, change = w.serving, plan.serving
    ratio = float(change.service_time) / float(old.service_time) if change.service_time is not None else 1.0
    new_cv = change.service_time_cv if change.service_time_cv is not None else spec.task_time_cv
    versions = ((mean_s, float(spec.task_time_cv)), (mean_s * ratio, float(new_cv)))
    return max(_processing_p95_s(*v) for v in versions)


@lru_cache(maxsize=256)
def _processing_p95_s(service_s: float, cv: float) -> float:
    """P95 of a service time of this mean and cv (`split_p95_s` at no load; the same for every plan)."""
    version = (1.0, service_s, cv)
    return split_p95_s(0.0, 0.0, version, version)


def plan_tables(
    scenario: Scenario,
    records: Sequence[Any],
    node_rows: Sequence[tuple[float, str, str, int, int]],
    routes: pd.DataFrame | RouteTicks | RouteArrays | None,
    duration_s: float,
    queues: pd.DataFrame | None = None,
) -> tuple[list[PlanRow], list[tuple[Any, ...]]]:
    """The rows of `result.plans` and `result.plan_steps` from the engine's `PlanRecord`s."""
    plans: list[PlanRow] = []
    steps: list[tuple[Any, ...]] = []
    dt = scenario.simulation.resolution
    if not isinstance(routes, RouteTicks | RouteArrays):
        routes = RouteTicks(routes if routes is not None else pd.DataFrame())
    ticks = routes
    qticks: RouteTicks | None = None  # the consumers' queue rows, read once for every plan
    levels = pool_levels(node_rows)
    windows = [(rec.start_s, rec.end_s if rec.end_s is not None else duration_s) for rec in records]
    others = concurrent(windows)
    shares = shared_node_hours(levels, windows)[0] if any(others) else []
    for i, rec in enumerate(records):
        plan = rec.plan
        end = windows[i][1]
        peak_nodes, extra_h, extra_usd = node_window(node_rows, rec.start_s, end, rec.prices, levels)
        if others[i]:  # overlapping plans share the node-hours of the overlap (plan_overlap.py)
            extra_h, extra_usd = priced(shares[i], rec.prices)
        model = getattr(rec, "split_model", None)
        split = model is not None and model.queue_consumer  # a progressive plan's split of the tasks
        consumed = judged_on_queues(scenario, plan.target, split)
        if consumed and queues is not None:
            qticks = qticks if qticks is not None else queue_ticks(queues)
            requests, errors, p95 = _queue_window(rec, qticks, consumed, scenario, rec.start_s, end, dt)
        else:
            names = _routes_of(scenario, plan.target)
            requests, errors, p95 = _route_window(
                ticks, names, rec.start_s, end, dt, plan.serving.error_rate, rec.new_share
            )
            if model is not None and not ticks.empty:
                t, _, _, p95s = ticks.rows(names, rec.start_s, end, dt)
                p95 = _split_p95_ms(rec, t, p95s, dt)
        min_avail = rec.min_available if rec.min_available < 10**9 else 0
        waits = [step[-1] for step in rec.steps if step[-1]]
        plans.append(
            PlanRow(
                plan.name,
                plan.kind,
                plan.target,
                rec.start_s,
                end,
                end - rec.start_s,
                rec.outcome,
                rec.peak_pods,
                min_avail,
                peak_nodes,
                extra_h,
                extra_usd,
                ", ".join(records[j].plan.name for j in others[i]),
                requests,
                errors,
                1 - errors / requests if requests else float("nan"),
                p95,
                "" if rec.outcome == COMPLETE or not waits else str(waits[-1]),
                measured_on(scenario, plan.target, split),
                *(version_figures(rec, rec.start_s, end) if model is not None else ()),
            )
        )
        for s in rec.steps:
            steps.append((plan.name, s[0], s[1] if s[1] is not None else end, *s[2:]))
    return plans, steps


def plan_checks(scenario: Scenario, rows: Sequence[PlanRow]) -> list[Check]:
    """Per plan: it completed, and each of its `targets` (duration, extra cost, availability, P95)."""
    checks: list[Check] = []
    for plan, row in zip(scenario.plans, rows, strict=True):
        name = plan.name
        outcome, duration, extra_usd, avail, p95 = (
            row.outcome,
            row.duration_s,
            row.extra_cost_usd_total,
            row.availability,
            row.p95_ms,
        )
        done = _check(f"plan {name} completes", float(outcome == COMPLETE), 1.0, "", True, f"plan {name}")
        if not done.passed:
            why = f"plan {name} ended {outcome}, not Complete" + (f": {row.message}" if row.message else "")
            done = Check(done.target, 1.0, 0.0, "", False, -1.0, why)
        checks.append(done)
        t = plan.targets
        if t.max_duration is not None:
            checks.append(
                _check(
                    f"plan {name} duration", duration, t.max_duration, " s", False, f"plan {name} duration"
                )
            )
        if t.max_extra_cost_usd is not None:
            checks.append(
                _check(
                    f"plan {name} extra cost",
                    extra_usd,
                    t.max_extra_cost_usd,
                    " USD",
                    False,
                    f"plan {name} extra cost",
                )
            )
        if t.availability is not None and avail == avail:
            checks.append(
                _check(
                    f"plan {name} availability",
                    100 * avail,
                    100 * t.availability,
                    "%",
                    True,
                    f"availability during plan {name}",
                )
            )
        if t.p95_latency is not None and p95 == p95:
            checks.append(
                _check(f"plan {name} p95", p95, 1000 * t.p95_latency, " ms", False, f"P95 during plan {name}")
            )
    return checks
