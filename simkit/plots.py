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


def plot_timeline(result: RunResult, services: Sequence[str] | None = None, figsize: tuple[float, float] = (11, 9)) -> Any:
    """Four stacked panels over time: load per route, ready replicas, nodes per pool, P95 per route.

    Scale events from the `decisions` table, when present, are marked on the replica panel.
    """
    fig, axes = plt.subplots(4, 1, figsize=figsize, sharex=True, constrained_layout=True)
    load = result.routes.pivot_table(index="t_s", columns="route", values="load_rps")
    axes[0].stackplot(_hours(load.index), load.T.to_numpy(), labels=list(load.columns), alpha=0.8)
    axes[0].set_ylabel("load (req/s)")
    axes[0].legend(loc="upper left", fontsize="small", ncol=4)

    replicas = _step_frame(result.replicas, "workload", "ready", result.duration_s)
    if services is not None:
        replicas = replicas[[c for c in replicas.columns if c in set(services)]]
    for name in replicas.columns:
        axes[1].step(_hours(replicas.index), replicas[name], where="post", label=name)
    if not result.decisions.empty:
        for t in result.decisions["t_s"]:
            axes[1].axvline(t / HOUR, color="grey", alpha=0.15, lw=0.8)
    axes[1].set_ylabel("ready replicas")
    axes[1].legend(loc="upper left", fontsize="x-small", ncol=4)

    nodes = result.nodes_by_pool()
    for pool in nodes.columns:
        axes[2].step(_hours(nodes.index), nodes[pool], where="post", label=pool)
    axes[2].set_ylabel("nodes")
    axes[2].legend(loc="upper left", fontsize="small")

    p95 = result.routes.pivot_table(index="t_s", columns="route", values="p95_ms")
    for route in p95.columns:
        axes[3].plot(_hours(p95.index), p95[route], lw=1, label=route)
    if result.scenario.slos.p95_latency is not None:
        axes[3].axhline(1000 * result.scenario.slos.p95_latency, color="red", ls="--", lw=1, label="P95 target")
    axes[3].set_ylabel("P95 latency (ms)")
    axes[3].set_xlabel("simulated time (h)")
    axes[3].legend(loc="upper left", fontsize="small", ncol=5)
    fig.suptitle(f"{result.scenario.name} — seed {result.seed}")
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
    """Side-by-side headline figures of several runs (columns are the run labels)."""
    keys = ["requests", "availability", "cost_usd_month", "node_cost_usd_month", "cost_per_million_requests_usd"]
    rows: dict[str, dict[str, float]] = {}
    for label, r in results.items():
        row = {k: r.summary.get(k, float("nan")) for k in keys}
        row.update({k: v for k, v in r.summary.items() if k.startswith("p95_ms.")})
        row["targets met"] = float(r.passed)
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
