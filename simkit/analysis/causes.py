"""Why a target was missed: one line per missed check, from the run's own tables.

`explain(result)` returns the checks with the `cause` column filled for each missed target:

- availability: the workloads that had no ready pods (with the scheduler's last message for
  their pods, from `events`), else the fault whose window holds most of the errors (which zone,
  which failover, from `faults`), else the service with the most timeouts (its bottleneck figures);
- a route's P95: the service of the route that is slowest while the route misses its target
  (utilization, servers, backlog, timeouts), or one of its services with no ready pods;
- a queue's task age: its consumers (utilization, consumers, backlog, lost tasks);
- the monthly cost: the largest cost line items and by how much the total exceeds the budget;
- RTO/RPO (`simkit.dr.checks`): how many draws missed and the worst one.

Times are written in the one human format (`simkit.units.format_time`); the tables keep seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simkit.units import format_time

if TYPE_CHECKING:
    from simkit.results import RunResult

__all__ = ["explain", "availability_cause", "cost_cause", "latency_cause", "queue_cause"]

FAULT_SHARE = 0.5
"""A fault is named as the cause of an availability miss when its window holds this share of the errors."""


def explain(result: RunResult) -> pd.DataFrame:
    """The checks of `result` with a one-line `cause` for every missed target ("" for the met ones)."""
    checks = result.checks.copy()
    if "cause" not in checks:
        checks["cause"] = ""
    checks["cause"] = checks["cause"].fillna("").astype(str)
    for i, row in checks.iterrows():
        if bool(row["passed"]) or row["cause"]:
            continue
        checks.at[i, "cause"] = _cause(result, str(row["target"]), float(row["threshold"]))
    return checks


def _cause(result: RunResult, target: str, threshold: float) -> str:
    if target == "availability":
        return availability_cause(result)
    if target.startswith("p95 "):
        return latency_cause(result, target[4:], threshold)
    if target.startswith("task age "):
        return queue_cause(result, target[9:])
    if target == "cost per month":
        return cost_cause(result, threshold)
    return ""


# ------------------------------------------------------------------------------ availability
def availability_cause(result: RunResult) -> str:
    """Workloads without ready pods, else the fault behind most errors, else the bottleneck service."""
    down = _without_ready_pods(result)
    if down:
        return "; ".join(down)
    errors = _errors_by_tick(result)
    total = float(errors.sum())
    fault = _fault_behind(result, errors, total)
    if fault:
        return fault
    return _bottleneck(result, _route_services(result, None), None) or f"{total:,.0f} failed requests"


def _without_ready_pods(result: RunResult) -> list[str]:
    """'<workload> had no ready pods for <time> (<scheduler message>)' for each that had none."""
    rep = result.replicas
    if rep.empty:
        return []
    end = result.duration_s
    out = []
    for workload, g in rep.groupby("workload", sort=False):
        g = g.sort_values("t_s", kind="stable").drop_duplicates("t_s", keep="last")
        t = g["t_s"].to_numpy(dtype=float)
        spans = np.diff(np.append(t, end))
        zero = (g["ready"].to_numpy() == 0) & (g["desired"].to_numpy() > 0)
        if not zero.any():
            continue
        none_for = float(spans[zero].sum())
        if none_for <= 0:
            continue
        line = f"{workload} had no ready pods for {format_time(none_for)}"
        first = float(t[zero][0])
        if first > 0 or none_for < end:
            line += f" (from t={format_time(first)})"
        message = _scheduler_message(result, str(workload))
        out.append(f"{line}: {message}" if message else line)
    return out


def _scheduler_message(result: RunResult, workload: str) -> str:
    """The scheduler's last FailedScheduling message for a pod of `workload` ('' if none)."""
    ev = result.events
    if ev.empty:
        return ""
    hit = ev[(ev["reason"] == "FailedScheduling") & ev["object"].str.startswith(f"{workload}-")]
    return str(hit["message"].iloc[-1]) if len(hit) else ""


def _errors_by_tick(result: RunResult) -> pd.Series:
    routes = result.routes
    if routes.empty:
        return pd.Series(dtype=float)
    return routes.groupby("t_s")["errors"].sum()


def _plan_behind(result: RunResult, errors: pd.Series) -> str:
    """The deployment plan whose window holds most of these errors (a plan's own disruption)."""
    plans = result.plans
    total = float(errors.sum())
    if plans.empty or total <= 0:
        return ""
    t = errors.index.to_numpy(dtype=float)
    tick = float(t[1] - t[0]) if t.size > 1 else 0.0
    best, caught = None, 0.0
    for row in plans.to_dict("records"):
        inside = (t + tick > float(row["start_s"])) & (t < float(row["end_s"]))
        n = float(errors.to_numpy()[inside].sum())
        if n > caught:
            best, caught = row, n
    if best is None or caught < FAULT_SHARE * total:
        return ""
    start, end = float(best["start_s"]), float(best["end_s"])
    faults = result.faults
    related = faults[(faults["t_s"] >= start) & (faults["t_s"] <= end + 60) & (faults["kind"] == "failover")]
    line = (
        f"plan {best['plan']} ({best['kind']} of {best['target']}, t={format_time(start)} to "
        f"{format_time(end)}): {caught:,.0f} of {total:,.0f} failed requests"
    )
    for r in related.to_dict("records"):
        line += f"; {r['target']} failover ({r['detail']})"
    return line


def _fault_behind(result: RunResult, errors: pd.Series, total: float) -> str:
    """The fault whose window (its start until every workload was back) holds most errors."""
    faults = result.faults
    if faults.empty or total <= 0:
        return ""
    t = errors.index.to_numpy(dtype=float)
    best: dict[str, Any] | None = None
    best_errors = 0.0
    tick = float(t[1] - t[0]) if t.size > 1 else 0.0
    for row in faults.to_dict("records"):
        restore = float(row["restore_s"])
        end = float(row["t_s"]) + (restore if np.isfinite(restore) and restore > 0 else 0.0)
        inside = (t + tick > float(row["t_s"])) & (t < end)
        caught = float(errors.to_numpy()[inside].sum())
        if caught > best_errors:
            best, best_errors = {str(k): v for k, v in row.items()}, caught
    if best is None or best_errors < FAULT_SHARE * total:
        return ""
    start, end = float(best["t_s"]), float(best["t_s"]) + max(0.0, float(best["restore_s"]))
    related = faults[(faults["t_s"] > start) & (faults["t_s"] <= end) & (faults["kind"] == "failover")]
    line = (
        f"{best['kind']} of {best['target']} at t={format_time(start)} ({best['detail']}): "
        f"{best_errors:,.0f} of {total:,.0f} failed requests until every workload was back "
        f"({format_time(float(best['restore_s']))})"
    )
    for r in related.to_dict("records"):
        line += f"; {r['target']} failover after {format_time(float(r['t_s']) - start)} ({r['detail']})"
    return line


# ---------------------------------------------------------------------------------- latency
def _route_services(result: RunResult, route: str | None) -> list[str]:
    routes = result.scenario.traffic.routes
    names = [s.service for r in routes if route is None or r.name == route for s in r.path]
    return list(dict.fromkeys(names))


def latency_cause(result: RunResult, route: str, target_ms: float) -> str:
    """The route's slowest service while the route is over its target (or one with no ready pods)."""
    services = _route_services(result, route)
    down = [line for line in _without_ready_pods(result) if line.split(" ", 1)[0] in services]
    if down:
        return "; ".join(down)
    routes = result.routes
    mine = routes[routes["route"] == route]
    over = mine[~(mine["p95_ms"] <= target_ms)]["t_s"]
    ticks = set(over.to_numpy(dtype=float)) if len(over) else None
    # failed requests count at the timeout in a window's P95: a fault that failed them is the cause
    errors = mine.groupby("t_s")["errors"].sum()
    fault = _fault_behind(result, errors, float(errors.sum())) or _plan_behind(result, errors)
    if fault:
        return f"failed requests (counted at the timeout) from {fault}"
    return _path_cause(result, route, target_ms, services, ticks) or _bottleneck(result, services, ticks)


QUEUEING_UTILIZATION = 0.7
"""Below this utilization, with no timeouts, waiting adds little: a miss comes from the path itself."""


def _path_cause(
    result: RunResult, route: str, target_ms: float, services: list[str], ticks: set[float] | None
) -> str:
    """When no service queues (utilization < 0.7, no timeouts) the route is slow by construction: its
    visits' service times and network hops. Say so, with the biggest contributors, instead of naming a
    'bottleneck' that is idle."""
    sv = result.services
    sv = sv[sv["service"].isin(services)]
    if ticks:
        sv = sv[sv["t_s"].isin(ticks)]
    if sv.empty or float(sv["timeouts"].sum()) > 0 or float(sv["utilization"].max()) >= QUEUEING_UTILIZATION:
        return ""
    r = next(r for r in result.scenario.traffic.routes if r.name == route)
    parts = [
        (s.service, s.calls, 1000 * result.scenario.workload(s.service).serving.service_time) for s in r.path
    ]
    base_ms = sum(calls * ms for _, calls, ms in parts) + 1000 * r.network_overhead * sum(
        c for _, c, _ in parts
    )
    top = sorted(parts, key=lambda p: -p[1] * p[2])[:3]
    named = ", ".join(
        f"{name} {calls} x {ms:,.0f} ms" if calls > 1 else f"{name} {ms:,.0f} ms" for name, calls, ms in top
    )
    busiest, visits = float(sv["utilization"].max()), sum(c for _, c, _ in parts)
    return (
        f"no service queues (utilization at most {busiest:.2f}, no timeouts): the route's {visits} visits "
        f"take {base_ms:,.0f} ms of mean service and network time before any wait, and their spread puts "
        f"the P95 over {target_ms:,.0f} ms; largest: {named}"
    )


def _bottleneck(result: RunResult, services: list[str], ticks: set[float] | None) -> str:
    """The service (of `services`) with the most timeouts, else the highest P95, in `ticks` (all if None)."""
    sv = result.services
    sv = sv[sv["service"].isin(services)]
    if ticks is not None and ticks:
        sv = sv[sv["t_s"].isin(ticks)]
    if sv.empty:
        return ""
    by = sv.groupby("service", sort=False)
    timeouts = by["timeouts"].sum()
    worst = str(timeouts.idxmax()) if timeouts.max() > 0 else str(by["latency_p95_ms"].mean().idxmax())
    g = sv[sv["service"] == worst]
    busy = g.iloc[int(np.argmax(g["utilization"].to_numpy()))]
    when = f" over {format_time(len(g) * _tick(result))} above the target" if ticks else ""
    fewest, p95 = float(g["ready_replicas"].min()), float(g["latency_p95_ms"].max())
    servers = (
        f"on {float(busy['ready_replicas']):,.2f} server-pods (fewest {fewest:,.2f})"
        if float(busy["ready_replicas"]) > 0
        else "with no ready server (no ready pod, or a data service without its primary)"
    )
    latency = f"P95 up to {p95:,.1f} ms, " if np.isfinite(p95) else ""
    return (
        f"bottleneck {worst}{when}: utilization up to {float(busy['utilization']):.2f} {servers}, "
        f"{latency}backlog up to {float(g['backlog'].max()):,.0f} requests, "
        f"{float(g['timeouts'].sum()):,.0f} timeouts"
    )


def _tick(result: RunResult) -> float:
    return float(result.scenario.simulation.resolution)


# ------------------------------------------------------------------------------------ queues
def queue_cause(result: RunResult, queue: str) -> str:
    """The consumers of `queue`: how busy, how many, how deep the backlog got, tasks lost."""
    q = result.queues
    q = q[q["queue"] == queue]
    if q.empty:
        return ""
    worst = q.iloc[int(np.argmax(q["oldest_s"].to_numpy()))]
    line = (
        f"consumers of {queue}: utilization up to {float(q['utilization'].max()):.2f} on "
        f"{float(worst['consumers']):,.0f} consumers (fewest {float(q['consumers'].min()):,.0f}), "
        f"backlog up to {float(q['backlog'].max()):,.0f} tasks, oldest task "
        f"{format_time(float(worst['oldest_s']))} at t={format_time(float(worst['t_s']))}"
    )
    lost = float(q["lost"].sum())
    return line + (f", {lost:,.0f} tasks lost" if lost else "")


# -------------------------------------------------------------------------------------- cost
def cost_cause(result: RunResult, budget: float) -> str:
    """The largest cost line items, until they alone exceed the budget, and the excess."""
    cost = result.cost
    if cost.empty:
        return ""
    items = cost.sort_values("monthly_usd", ascending=False, kind="stable")
    total = float(items["monthly_usd"].sum())
    shown, running = [], 0.0
    for row in items.to_dict("records"):
        shown.append(f"{row['component']} ${float(row['monthly_usd']):,.0f}")
        running += float(row["monthly_usd"])
        if running > budget or len(shown) == 3:
            break
    return f"${total - budget:,.0f}/month over the ${budget:,.0f} budget; largest items: {', '.join(shown)}"
