"""Cost against the budget, and several runs side by side (headline table and load/P95 figure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from simkit.plots._axes import fmt_ms, legend_outside, target_line, time_axis
from simkit.plots.timeline import p95_targets
from simkit.results import RunResult


def _usd(value: float) -> str:
    """'\\$1,501': a dollar amount matplotlib shows as text (a bare $ starts mathtext)."""
    return f"\\${value:,.0f}"


def plot_cost(result: RunResult, ax: Axes | None = None) -> Any:
    """Monthly cost per component as horizontal bars (each labelled), a total bar on top and the
    budget (`cost.budget_usd_month`) as a dashed line; the title says how far under or over it the
    total is."""
    df = result.cost.sort_values("monthly_usd")
    total = float(df["monthly_usd"].sum())
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.32 * len(df) + 1.6), constrained_layout=True)
    bars = ax.barh(df["component"], df["monthly_usd"], color="C0", label="component")
    ax.bar_label(bars, labels=[f" {_usd(v)}" for v in df["monthly_usd"]], fontsize="x-small")
    top = ax.barh(["total"], [total], color="C1", label="total")
    ax.bar_label(top, labels=[f" {_usd(total)}"], fontsize="small")
    budget = result.scenario.cost.budget_usd_month
    title = f"{result.scenario.name}: {_usd(total)}/month"
    if budget is not None:
        target_line(ax, budget, f"budget {_usd(budget)}/month", vertical=True)
        gap = budget - total
        title += f", {_usd(abs(gap))} ({abs(gap) / budget:.0%}) {'under' if gap >= 0 else 'over'} the budget"
        ax.set_xlim(0, max(budget, total) * 1.1)
    else:
        title += " (no budget set)"
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p=None: f"{x:,.0f}"))
    ax.set_xlabel("USD per month (730 h)")
    ax.set_title(title)
    legend_outside(ax)
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


def _worst_route(results: Mapping[str, RunResult]) -> str:
    """The route with the highest whole-run P95 in any of the runs (the one a reader asks about)."""
    best: tuple[float, str] = (-np.inf, "")
    for r in results.values():
        for k, v in r.summary.items():
            if k.startswith("p95_ms.") and v > best[0]:
                best = (v, k.split(".", 1)[1])
    return best[1]


def plot_compare(results: Mapping[str, RunResult], figsize: tuple[float, float] = (11, 6.5)) -> Any:
    """Total load and the P95 of the busiest route for several runs on one time axis; the P95 axis
    starts at 0 with the target drawn, so a few ms read as what they are. The title compares the
    whole-run P95s with the target."""
    route = _worst_route(results)
    fig, (ax_load, ax_p95) = plt.subplots(2, 1, figsize=figsize, sharex=True, constrained_layout=True)
    end = 0.0
    targets: dict[str, float] = {}
    whole: dict[str, float] = {}
    for i, (label, r) in enumerate(results.items()):
        load = r.routes.groupby("t_s")["load_rps"].sum()
        ax_load.plot(load.index, load, label=label, lw=1, color=f"C{i}")
        p95 = r.routes[r.routes["route"] == route].set_index("t_s")["p95_ms"].replace([np.inf], np.nan)
        ax_p95.plot(p95.index, p95, label=f"{label}", lw=1, color=f"C{i}")
        end = max(end, float(r.duration_s))
        targets.update(p95_targets(r))
        whole[label] = float(r.summary.get(f"p95_ms.{route}", np.nan))
    target = targets.get(route)
    top = 1.0
    for line in ax_p95.get_lines():
        top = max(top, float(np.nanmax(np.asarray(line.get_ydata(), dtype=float))))
    if target is not None:
        target_line(ax_p95, target, f"P95 target {target:g} ms")
        top = max(top, target)
    ax_p95.set_ylim(0, top * 1.1)
    ax_load.set_ylabel("load (req/s, all routes)")
    ax_p95.set_ylabel(f"P95 {route} (ms)")
    ax_load.set_title("total load", loc="left", fontsize="small")
    ax_p95.set_title(
        f"P95 of {route} per tick (the route with the highest P95)", loc="left", fontsize="small"
    )
    for ax in (ax_load, ax_p95):
        legend_outside(ax)
    time_axis(ax_p95, 0.0, end, next(iter(results.values())).scenario if results else None)
    parts = ", ".join(f"{fmt_ms(v)} {k}" for k, v in whole.items())
    verdict = ""
    if target is not None and whole:
        worst = max(whole.values())
        verdict = f"; {'all under' if worst <= target else 'over'} the {target:g} ms target"
    fig.suptitle(f"whole-run P95 of {route}: {parts}{verdict}", fontsize="medium")
    return fig
