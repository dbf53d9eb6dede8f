"""Matplotlib views of a run: a timeline (load, replicas, nodes, latency), cost, and plan comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simkit.results import RunResult

HOUR = 3600.0


def _hours(t_s: Any) -> Any:
    return np.asarray(t_s, dtype=float) / HOUR


def _step_frame(df: pd.DataFrame, key: str, value: str, end_s: float) -> pd.DataFrame:
    """A step-function table (t_s, key, value) as a wide frame indexed by time, ending at `end_s`."""
    wide = df.pivot_table(index="t_s", columns=key, values=value, aggfunc="last").ffill()
    if not wide.empty and wide.index[-1] < end_s:
        wide.loc[end_s] = wide.iloc[-1]
    return wide


def plot_timeline(
    result: RunResult,
    services: Sequence[str] | None = None,
    window: tuple[float, float] | None = None,
    figsize: tuple[float, float] = (11, 11),
) -> Any:
    """Five stacked panels: load per route, desired vs ready replicas (with scale events), pending
    pods, nodes per pool and zone, P95 per route. `services` defaults to the autoscaled workloads;
    `window` = (start_s, end_s) zooms in.
    """
    if services is None:
        services = [w.name for w in result.scenario.workloads if w.hpa is not None] or [
            w.name for w in result.scenario.workloads
        ]
    fig, axes = plt.subplots(5, 1, figsize=figsize, sharex=True, constrained_layout=True)
    load = result.routes.pivot_table(index="t_s", columns="route", values="load_rps")
    axes[0].stackplot(_hours(load.index), load.T.to_numpy(), labels=list(load.columns), alpha=0.8)
    axes[0].set_ylabel("load (req/s)")
    axes[0].legend(loc="upper left", fontsize="small", ncol=4)

    ready = _step_frame(result.replicas, "workload", "ready", result.duration_s)
    desired = _step_frame(result.replicas, "workload", "desired", result.duration_s)
    for i, name in enumerate(s for s in services if s in ready.columns):
        colour = f"C{i % 10}"
        axes[1].step(_hours(ready.index), ready[name], where="post", color=colour, label=f"{name} ready")
        axes[1].step(_hours(desired.index), desired[name], where="post", color=colour, ls="--", lw=0.8)
    events = (
        result.decisions[result.decisions["from"] != result.decisions["to"]]
        if len(result.decisions)
        else None
    )
    if events is not None:
        for t, controller in zip(events["t_s"], events["controller"], strict=True):
            axes[1].axvline(t / HOUR, color="red" if controller != "hpa" else "grey", alpha=0.2, lw=0.8)
    axes[1].set_ylabel("replicas (-- desired)")
    axes[1].legend(loc="upper left", fontsize="x-small", ncol=3)

    pending = result.pending
    if len(pending):
        pend = pd.concat(
            [
                pending,
                pd.DataFrame(
                    {"t_s": [result.duration_s], "pending_pods": [pending["pending_pods"].iloc[-1]]}
                ),
            ]
        )
        axes[2].step(_hours(pend["t_s"]), pend["pending_pods"], where="post", color="C3")
    axes[2].set_ylabel("pending pods")

    nodes = _step_frame(
        result.nodes.assign(pz=result.nodes["pool"] + " / " + result.nodes["zone"]),
        "pz",
        "nodes",
        result.duration_s,
    )
    totals = nodes.T.groupby(lambda c: c.split(" / ")[0]).sum().T
    for pool in totals.columns:
        axes[3].step(_hours(totals.index), totals[pool], where="post", label=f"{pool} (all zones)")
    axes[3].set_ylabel("nodes")
    axes[3].legend(loc="upper left", fontsize="small")

    p95 = result.routes.pivot_table(index="t_s", columns="route", values="p95_ms")
    for route in p95.columns:
        axes[4].plot(_hours(p95.index), p95[route], lw=1, label=route)
    if result.scenario.slos.p95_latency is not None:
        axes[4].axhline(
            1000 * result.scenario.slos.p95_latency, color="red", ls="--", lw=1, label="P95 target"
        )
    axes[4].set_ylabel("P95 latency (ms)")
    axes[4].set_xlabel("simulated time (h)")
    axes[4].legend(loc="upper left", fontsize="small", ncol=5)
    if window is not None:
        axes[4].set_xlim(window[0] / HOUR, window[1] / HOUR)
    fig.suptitle(f"{result.scenario.name} — seed {result.seed}")
    return fig


def plot_nodes_by_zone(result: RunResult, figsize: tuple[float, float] = (11, 3)) -> Any:
    """Nodes per pool and zone over time (one line per pool/zone)."""
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    nodes = _step_frame(
        result.nodes.assign(pz=result.nodes["pool"] + " / " + result.nodes["zone"]),
        "pz",
        "nodes",
        result.duration_s,
    )
    for col in nodes.columns:
        ax.step(_hours(nodes.index), nodes[col], where="post", label=col, lw=1)
    ax.set_ylabel("nodes")
    ax.set_xlabel("simulated time (h)")
    ax.legend(fontsize="x-small", ncol=3)
    return fig


def plot_cost(result: RunResult, ax: Any = None) -> Any:
    """Monthly cost per component as horizontal bars, with the budget if there is one."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * len(result.cost) + 1), constrained_layout=True)
    df = result.cost.sort_values("monthly_usd")
    ax.barh(df["component"], df["monthly_usd"])
    ax.set_xlabel("USD per month (730 h)")
    ax.set_title(f"{result.scenario.name}: ${df['monthly_usd'].sum():,.0f}/month")
    return ax


def compare(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """Side-by-side headline figures of several runs (columns are the run labels), rounded to read."""
    rows: dict[str, dict[str, object]] = {}
    for label, r in results.items():
        s = r.summary
        row: dict[str, object] = {
            "requests": f"{s.get('requests', 0):,.0f}",
            "availability %": round(100 * s.get("availability", 1.0), 4),
            "cost USD/month": round(s.get("cost_usd_month", float("nan")), 0),
            "nodes USD/month": round(s.get("node_cost_usd_month", float("nan")), 0),
            "USD per million requests": round(s.get("cost_per_million_requests_usd", float("nan")), 2),
        }
        row.update(
            {f"P95 {k.split('.', 1)[1]} (ms)": round(v, 1) for k, v in s.items() if k.startswith("p95_ms.")}
        )
        row["targets met"] = r.passed
        rows[label] = row
    return pd.DataFrame(rows)


def plot_compare(results: Mapping[str, RunResult], figsize: tuple[float, float] = (11, 4)) -> Any:
    """Load and P95 of the busiest route for several runs on shared axes."""
    fig, (ax_load, ax_p95) = plt.subplots(1, 2, figsize=figsize, constrained_layout=True)
    for label, r in results.items():
        load = r.routes.groupby("t_s")["load_rps"].sum()
        ax_load.plot(_hours(load.index), load, label=label, lw=1)
        worst = max((k for k in r.summary if k.startswith("p95_ms.")), key=lambda k: r.summary[k])
        route = worst.split(".", 1)[1]
        p95 = r.routes[r.routes["route"] == route].set_index("t_s")["p95_ms"]
        ax_p95.plot(_hours(p95.index), p95, label=f"{label}: {route}", lw=1)
    ax_load.set_ylabel("load (req/s)")
    ax_p95.set_ylabel("P95 latency (ms)")
    for ax in (ax_load, ax_p95):
        ax.set_xlabel("simulated time (h)")
        ax.legend(fontsize="small")
    return fig
