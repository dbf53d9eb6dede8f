"""The optimizer's picture: every plan tried, the feasible Pareto front as a staircase, the pick."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from matplotlib.axes import Axes


LABELS = {
    "cost_usd_month": "monthly cost (USD)",
    "p95_ms": "worst route P95 (ms)",
    "availability": "availability",
}


def _label(column: str) -> str:
    return LABELS.get(column, column.replace("p95_ms.", "P95 (ms) of "))


def plot_front(
    result: Any,  # an OptimizeResult (not imported: result.py imports this module for its .plot())
    ax: Axes | None = None,
    baseline: tuple[float, float] | None = None,
    logy: bool = False,
    **kwargs: Any,
) -> Axes:
    """Scatter the first two objectives of every plan (infeasible ones as crosses), draw the front
    and mark the verified pick; `baseline` (x, y) marks a reference plan such as the scenario as is."""
    if ax is None:
        _, ax = plt.subplots(figsize=kwargs.pop("figsize", (7, 4.5)))
    goals = result.objectives
    if len(goals) < 2:
        raise ValueError("plot_front needs two objectives")
    x, y = goals[0].column, goals[1].column
    trials = result.trials
    feasible = trials[trials["feasible"].astype(bool)]
    infeasible = trials[~trials["feasible"].astype(bool)]
    ys = infeasible[y]
    if not feasible.empty and goals[1].direction == "minimize":  # an overloaded plan's P95 is its
        top = float(feasible[y].max()) * 1.3  # timeout: draw it at the top edge, not flatten the front
        ys = ys.clip(upper=top)
        ax.set_ylim(top=top * 1.05)
    ax.scatter(infeasible[x], ys, marker="x", color="tab:gray", label="misses the chance constraint")
    ax.scatter(feasible[x], feasible[y], color="tab:blue", alpha=0.5, label="feasible")
    front = result.front.sort_values(x)
    ax.step(front[x], front[y], where="post", color="tab:blue", marker="o", label="Pareto front")
    if result.pick is not None and not result.verification.empty:
        chosen = result.verification.iloc[-1]
        ax.scatter(
            [chosen[x]], [chosen[y]], marker="*", s=250, color="tab:red", zorder=5, label="pick (verified)"
        )
    if baseline is not None:
        ax.scatter([baseline[0]], [baseline[1]], marker="D", color="black", zorder=5, label="baseline")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    if logy:
        ax.set_yscale("log")
    ax.set_title(f"{len(trials)} plans, {len(result.front)} on the front")
    ax.legend(loc="best", fontsize="small")
    return ax


__all__ = ["plot_front"]
