"""A run over time: the timeline (load, replicas per service, pending pods, ready nodes, availability,
P95 vs target), an AZ outage's window, and ready nodes per zone as small multiples per pool.

Each figure's title states what it shows (the P95 peak against its target, the nodes a pool added,
the errors of an outage), so it answers its question without reading the axes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from simkit.plots._axes import (
    fmt_ms,
    integer_axis,
    legend_outside,
    target_line,
    time_axis,
    versus,
)
from simkit.results import RunResult

_SHORTFALL_PAD_S = 1800.0


def _range(values: pd.Series) -> str:
    """'3–20' for a count that moved, 'steady at 3' for one that did not."""
    low, high = int(values.min()), int(values.max())
    return f"{low}–{high}" if high != low else f"steady at {low}"


def _window(result: RunResult, window: tuple[float, float] | None) -> tuple[float, float]:
    lo, hi = window if window is not None else (0.0, float(result.duration_s))
    return max(0.0, float(lo)), min(float(result.duration_s), float(hi))


def steps_in(df: pd.DataFrame, key: str, value: str, lo: float, hi: float) -> pd.DataFrame:
    """A change-per-row table (t_s, key, value) as a wide step frame over [lo, hi]: the value in
    force at `lo` first, each change inside, the last value again at `hi`."""
    wide = df.pivot_table(index="t_s", columns=key, values=value, aggfunc="last").sort_index().ffill()
    if wide.empty:
        return wide

    def at(t: float) -> pd.DataFrame:  # the row in force at t (before the first change: the first)
        upto = wide[wide.index <= t]
        return (upto.iloc[[-1]] if len(upto) else wide.iloc[[0]]).set_axis([t])

    inside = wide[(wide.index > lo) & (wide.index < hi)]
    out = pd.concat([at(lo), inside, at(hi)])
    return out.fillna(0)


def p95_targets(result: RunResult) -> dict[str, float]:
    """Each route's P95 target (ms) as the checks state it (`p95 <route>` rows; simkit.analysis.slo)."""
    checks = result.checks
    return {
        str(t).removeprefix("p95 "): float(v)
        for t, v in zip(checks["target"], checks["threshold"], strict=True)
        if str(t).startswith("p95 ")
    }


def p95_finding(routes: pd.DataFrame, targets: dict[str, float]) -> str:
    """'P95 peaks at 168 ms on api-write, 32 ms under the 200 ms target': the route closest to (or
    furthest past) its target, else the highest peak."""
    peaks = routes.replace([np.inf], np.nan).groupby("route")["p95_ms"].max().dropna()
    if peaks.empty:
        return "no requests in the window"
    with_target = [r for r in peaks.index if r in targets]
    if with_target:
        route = min(with_target, key=lambda r: targets[r] - peaks[r])
        return f"P95 peaks at {fmt_ms(peaks[route])} on {route}, {versus(peaks[route], targets[route], 'ms')}"
    route = str(peaks.idxmax())
    return f"P95 peaks at {fmt_ms(peaks[route])} on {route} (no P95 target)"


def _fault_spans(result: RunResult) -> list[tuple[float, float, str]]:
    """(start, end, label) of each zone outage, from the faults table (az-outage .. az-recovered)."""
    faults = result.faults
    spans = []
    outages = faults[faults["kind"] == "az-outage"]
    for t, zone in zip(outages["t_s"].astype(float), outages["target"].astype(str), strict=True):
        back = faults[(faults["kind"] == "az-recovered") & (faults["target"] == zone) & (faults["t_s"] >= t)]
        end = float(back["t_s"].min()) if len(back) else float(result.duration_s)
        spans.append((t, end, f"{zone} unreachable"))
    return spans


def _shade(axes: Any, spans: list[tuple[float, float, str]]) -> None:
    for i, (a, b, label) in enumerate(spans):
        for j, ax in enumerate(axes):
            ax.axvspan(a, b, color="grey", alpha=0.15, lw=0, label=label if j == 0 and i == 0 else None)


def _stacked_steps(ax: Axes, wide: pd.DataFrame, label_fmt: str = "{}") -> None:
    """Bands stacked per column of a step frame: the total and each part visible, none hidden."""
    x = wide.index.to_numpy(dtype=float)
    base = np.zeros(len(wide))
    for i, col in enumerate(wide.columns):
        top = base + wide[col].to_numpy(dtype=float)
        ax.fill_between(
            x, base, top, step="post", alpha=0.55, color=f"C{i % 10}", label=label_fmt.format(col)
        )
        base = top
    ax.step(x, base, where="post", color="black", lw=0.8, label="total")


def _ready_nodes(result: RunResult, by: str, lo: float, hi: float) -> pd.DataFrame:
    nodes = result.nodes
    per = steps_in(nodes.assign(pz=nodes["pool"] + "|" + nodes["zone"]), "pz", "ready_nodes", lo, hi)
    level = 0 if by == "pool" else 1
    return per.T.groupby(lambda c: str(c).split("|")[level], sort=True).sum().T


def _services(
    result: RunResult, services: Sequence[str] | None, lo: float, hi: float, limit: int
) -> list[str]:
    have = set(result.replicas["workload"])
    if services is not None:
        return [s for s in services if s in have]
    auto = [w.name for w in result.scenario.workloads if w.hpa is not None and w.name in have]
    if auto:
        return auto[:limit]
    ready = steps_in(result.replicas, "workload", "ready", lo, hi)
    desired = steps_in(result.replicas, "workload", "desired", lo, hi)
    moved = ((desired - ready).abs().max() + desired.max() - desired.min()).sort_values(ascending=False)
    return [str(s) for s in moved.index[:limit]]


def _replica_panel(ax: Axes, result: RunResult, name: str, lo: float, hi: float, first: bool) -> None:
    rep = result.replicas[result.replicas["workload"] == name]
    ready = steps_in(rep, "workload", "ready", lo, hi)[name]
    desired = steps_in(rep, "workload", "desired", lo, hi)[name]
    x = ready.index.to_numpy(dtype=float)
    ax.fill_between(x, 0, ready.to_numpy(dtype=float), step="post", color="C0", alpha=0.35, label="ready")
    ax.step(desired.index, desired, where="post", color="black", ls="--", lw=1.2, label="desired")
    ax.set_ylim(0, max(1.0, float(desired.max()), float(ready.max())) * 1.15)
    integer_axis(ax)
    ax.set_ylabel("pods")
    ax.set_title(
        f"{name}: {_range(ready)} ready, desired {_range(desired)}",
        loc="left",
        fontsize="small",
    )
    if first:
        legend_outside(ax)


def plot_timeline(
    result: RunResult,
    services: Sequence[str] | None = None,
    window: tuple[float, float] | None = None,
    by: str = "pool",
    max_services: int = 6,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """A run (or `window` = (start_s, end_s) of it) as stacked panels on one time axis: load per
    route; ready vs desired replicas, one small panel per service (`services`, default the
    autoscaled workloads); pending pods (only if any); ready nodes stacked per pool (`by="zone"`:
    per zone); availability vs its target (only if any request failed); P95 per route vs target.
    Zone outages are shaded. The title states the P95 peak against its target."""
    lo, hi = _window(result, window)
    routes = result.routes[(result.routes["t_s"] >= lo) & (result.routes["t_s"] <= hi)]
    names = _services(result, services, lo, hi, max_services)
    pending = steps_in(result.pending.assign(k="pending"), "k", "pending_pods", lo, hi)
    has_pending = not pending.empty and bool((pending["pending"] > 0).any())
    has_errors = bool(routes["errors"].sum() > 0)
    panels = ["load", *[f"rep:{n}" for n in names]]
    panels += ["pending"] * has_pending + ["nodes"] + ["availability"] * has_errors + ["p95"]
    heights = [{"load": 1.6, "nodes": 1.4, "p95": 1.8, "availability": 1.4}.get(p, 1.0) for p in panels]
    size = figsize or (11.0, 1.3 + 1.35 * sum(heights))
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=size,
        sharex=True,
        constrained_layout=True,
        gridspec_kw={"height_ratios": heights},
    )
    axes = np.atleast_1d(axes)
    by_name = dict(zip(panels, axes, strict=True))

    ax = by_name["load"]
    load = routes.pivot_table(index="t_s", columns="route", values="load_rps")
    ax.stackplot(load.index.to_numpy(dtype=float), load.T.to_numpy(), labels=list(load.columns), alpha=0.8)
    ax.set_ylabel("load (req/s)")
    ax.set_title(
        f"load per route, stacked: peak {load.sum(axis=1).max():,.0f} req/s", loc="left", fontsize="small"
    )

    for i, name in enumerate(names):
        _replica_panel(by_name[f"rep:{name}"], result, name, lo, hi, first=i == 0)

    if has_pending:
        ax = by_name["pending"]
        ax.fill_between(pending.index, 0, pending["pending"], step="post", color="C3", alpha=0.5)
        ax.set_ylabel("pending pods")
        ax.set_title(
            f"pods waiting for a node: up to {int(pending['pending'].max())}", loc="left", fontsize="small"
        )
        integer_axis(ax)

    ax = by_name["nodes"]
    ready = _ready_nodes(result, by, lo, hi)
    _stacked_steps(ax, ready)
    ax.set_ylabel("ready nodes")
    total = ready.sum(axis=1)
    ax.set_title(
        f"ready nodes per {by}, stacked: {int(total.min())}–{int(total.max())} in all",
        loc="left",
        fontsize="small",
    )
    integer_axis(ax)
    legend_outside(ax)

    finding = p95_finding(routes, p95_targets(result))
    if has_errors:
        ax = by_name["availability"]
        per_tick = routes.groupby("t_s")[["requests", "errors"]].sum()
        avail = 100 * (1 - per_tick["errors"] / per_tick["requests"].where(per_tick["requests"] > 0))
        ax.step(avail.index, avail, where="post", color="C3", label="availability per tick")
        target_line(
            ax,
            100 * result.scenario.slos.availability,
            f"target {100 * result.scenario.slos.availability:g} %",
        )
        ax.set_ylabel("availability (%)")
        ax.set_ylim(min(float(avail.min()), 100 * result.scenario.slos.availability) - 1, 100.5)
        failed = routes["errors"].sum()
        share = 100 * (1 - failed / max(routes["requests"].sum(), 1.0))
        ax.set_title(
            f"{failed:,.0f} requests failed: {share:.2f} % available in the window",
            loc="left",
            fontsize="small",
        )
        legend_outside(ax)
        finding = f"{failed:,.0f} requests failed ({share:.2f} % available); {finding}"

    ax = by_name["p95"]
    _p95_panel(ax, routes, p95_targets(result))

    _shade(axes, _fault_spans(result))
    legend_outside(axes[0])
    time_axis(axes[-1], lo, hi, result.scenario)
    fig.suptitle(f"{finding}\n{result.scenario.name}, seed {result.seed}", fontsize="medium")
    return fig


def _p95_panel(ax: Axes, routes: pd.DataFrame, targets: dict[str, float]) -> None:
    """P95 per route from 0 (an honest axis) with the target line(s)."""
    p95 = routes.pivot_table(index="t_s", columns="route", values="p95_ms").replace([np.inf], np.nan)
    colours = {}
    for i, route in enumerate(p95.columns):
        colours[route] = f"C{i % 10}"
        ax.plot(p95.index, p95[route], lw=1, color=colours[route], label=route)
    shown = {r: v for r, v in targets.items() if r in colours}
    if len(set(shown.values())) == 1:
        value = next(iter(shown.values()))
        target_line(ax, value, f"P95 target {value:g} ms")
    else:
        for route, value in shown.items():
            ax.axhline(value, color=colours[route], ls="--", lw=1, label=f"target {route} {value:g} ms")
    top = max([float(np.nanmax(p95.to_numpy())) if p95.size else 0.0, *shown.values(), 1.0])
    ax.set_ylim(0, top * 1.1)
    ax.set_ylabel("P95 latency (ms)")
    ax.set_title("P95 per route (per tick) vs target", loc="left", fontsize="small")
    legend_outside(ax)


def plot_outage(
    result: RunResult,
    window: tuple[float, float] | None = None,
    services: Sequence[str] | None = None,
    max_services: int = 4,
) -> Any:
    """An AZ outage's window: the timeline with ready nodes stacked per zone (the lost zone's band
    disappears), the availability panel, and the services that fell short of their desired replicas.
    `window` defaults to 30 min before the first outage until 30 min after the last recovery."""
    spans = _fault_spans(result)
    if window is None and spans:
        window = (spans[0][0] - _SHORTFALL_PAD_S, spans[-1][1] + _SHORTFALL_PAD_S)
    lo, hi = _window(result, window)
    if services is None:
        ready = steps_in(result.replicas, "workload", "ready", lo, hi)
        desired = steps_in(result.replicas, "workload", "desired", lo, hi)
        short = (desired - ready).clip(lower=0).max().sort_values(ascending=False)
        services = [str(s) for s in short[short > 0].index[:max_services]] or None
    return plot_timeline(result, services=services, window=(lo, hi), by="zone", max_services=max_services)


def plot_nodes_by_zone(
    result: RunResult, window: tuple[float, float] | None = None, figsize: tuple[float, float] | None = None
) -> Any:
    """Ready nodes per zone as small multiples, one panel per pool, zones stacked (so equal zones do
    not hide each other); the title says which pools scaled and by how much."""
    lo, hi = _window(result, window)
    nodes = result.nodes
    pools = sorted(nodes["pool"].unique())
    fig, axes = plt.subplots(
        len(pools), 1, figsize=figsize or (11.0, 1.0 + 1.7 * len(pools)), sharex=True, constrained_layout=True
    )
    axes = np.atleast_1d(axes)
    moved: list[str] = []
    steady: list[str] = []
    for i, (ax, pool) in enumerate(zip(axes, pools, strict=True)):
        rows = nodes[nodes["pool"] == pool]
        wide = steps_in(rows, "zone", "ready_nodes", lo, hi)
        _stacked_steps(ax, wide)
        total = wide.sum(axis=1)
        low, high = int(total.min()), int(total.max())
        ax.set_ylim(0, max(1, high) * 1.2)
        integer_axis(ax)
        ax.set_ylabel("ready nodes")
        ax.set_title(f"{pool}: {_range(total)} ready nodes", loc="left", fontsize="small")
        (moved if high != low else steady).append(
            f"{pool} {low}→{high}" if high != low else f"{pool} steady at {low}"
        )
        if i == 0:
            legend_outside(ax)
    time_axis(axes[-1], lo, hi, result.scenario)
    head = "; ".join(moved + steady) + " ready nodes"
    fig.suptitle(
        f"{head}\nready nodes per zone, one panel per pool ({result.scenario.name})", fontsize="medium"
    )
    return fig
