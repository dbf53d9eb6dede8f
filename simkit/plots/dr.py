"""Disaster-recovery figures over Monte Carlo draws (`simkit.dr.evaluate`): RTO/RPO CDFs against the
targets, and RTO by phase at the statistic the verdict uses (`dr.statistic`, P95 by default).

The verdict (`simkit.dr.dr_checks`) compares a statistic over draws with the target, so these
figures show that same statistic: a mean would hide the tail the verdict fails on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simkit.dr import PHASES
from simkit.dr.checks import statistic
from simkit.plots._axes import legend_outside, target_line
from simkit.scenario.dr import DRSpec

_NAMES = {"rto_s": "RTO", "rpo_s": "RPO"}
_BAND = 0.02
"""Draws within this share of the ranks around the statistic make up its phase breakdown."""


def stat_label(spec: DRSpec) -> str:
    """'P95' for p95, else the statistic's name."""
    stat = str(spec.statistic)
    return stat.upper() if stat.startswith("p") else stat


def _statistic(values: np.ndarray, spec: DRSpec) -> float:
    """The statistic `dr_checks` compares (simkit.dr.checks.statistic)."""
    return statistic(values, str(spec.statistic))


def plot_dr_cdfs(
    draws: pd.DataFrame,
    spec: DRSpec,
    measures: Sequence[str] = ("rto_s", "rpo_s"),
    xlim_min: Sequence[float | None] | None = None,
) -> Any:
    """One CDF panel per measure (minutes), a step line per event, the target as a dashed line and
    the statistic's level (0.95 for P95) dotted; the title names the events whose statistic misses."""
    fig, axes = plt.subplots(1, len(measures), figsize=(6 * len(measures) + 1.5, 4), constrained_layout=True)
    axes = np.atleast_1d(axes)
    level = {"mean": None, "max": 1.0}.get(str(spec.statistic))
    if str(spec.statistic).startswith("p"):
        level = float(str(spec.statistic)[1:]) / 100
    misses = []
    for i, (ax, col) in enumerate(zip(axes, measures, strict=True)):
        name = _NAMES.get(col, col)
        target = spec.targets.rto if col == "rto_s" else spec.targets.rpo
        for label, g in draws.groupby("event", sort=False):
            x = np.sort(g[col].to_numpy(dtype=float)) / 60
            ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=str(label))
            value = _statistic(g[col].to_numpy(dtype=float), spec)
            if value > target:
                misses.append(f"{name} of {label} {value / 60:,.0f} min > {target / 60:g}")
        target_line(ax, target / 60, f"{name} target {target / 60:g} min", vertical=True)
        ax.annotate(
            f" target {target / 60:g} min", (target / 60, 0.02), color="red", fontsize="small", ha="left"
        )
        if level is not None:
            ax.axhline(level, color="grey", ls=":", lw=1, label=f"{stat_label(spec)} level")
        ax.set(xlabel=f"{name} (min)", ylabel="share of draws ≤ x (0–1)", ylim=(0, 1.02))
        ax.set_title(f"{name} over {draws.groupby('event').size().max():,} draws per event", fontsize="small")
        if xlim_min is not None and xlim_min[i] is not None:
            ax.set_xlim(0, xlim_min[i])
        else:
            ax.set_xlim(0, None)
    legend_outside(axes[-1])
    stat = stat_label(spec)
    head = f"{stat} misses: {'; '.join(misses)}" if misses else f"every {stat} meets its target"
    fig.suptitle(head, fontsize="medium")
    return fig


def phases_at_statistic(draws: pd.DataFrame, spec: DRSpec) -> pd.DataFrame:
    """Per event, the mean of each RTO phase (minutes) over the draws whose RTO ranks around the
    statistic (within ±2 % of the ranks; the statistic itself for the mean), and that statistic:
    phases summing to the RTO the verdict is about."""
    rows = {}
    for label, g in draws.groupby("event", sort=False):
        rto = g["rto_s"].to_numpy(dtype=float)
        value = _statistic(rto, spec)
        if str(spec.statistic) == "mean":
            part = g
        else:
            ranks = g["rto_s"].rank(pct=True).to_numpy()
            at = float((rto <= value).mean())
            part = g[np.abs(ranks - at) <= _BAND]
            if part.empty:
                part = g.iloc[[int(np.argmin(np.abs(rto - value)))]]
        phases = part[list(PHASES)].mean() / 60
        rows[str(label)] = {**phases.to_dict(), "statistic_min": value / 60}
    return pd.DataFrame(rows).T


def plot_rto_by_phase(draws: pd.DataFrame, spec: DRSpec) -> Any:
    """Stacked RTO phases per event at the verdict's statistic (P95 by default: the draws ranked
    around it), the RTO target dashed; the title names the events over the target and by how much."""
    table = phases_at_statistic(draws, spec)
    phases = table[list(PHASES)].rename(columns=lambda c: c.removesuffix("_s"))
    fig, ax = plt.subplots(figsize=(11, 0.7 * len(table) + 1.8), constrained_layout=True)
    phases.plot.barh(stacked=True, ax=ax, colormap="tab10", width=0.7)
    ax.invert_yaxis()
    target = spec.targets.rto / 60
    target_line(ax, target, f"RTO target {target:g} min", vertical=True)
    for y, v in enumerate(table["statistic_min"]):
        ax.text(v, y, f" {v:,.0f} min", va="center", fontsize="small")
    ax.set_xlim(0, max(float(table["statistic_min"].max()), target) * 1.15)
    stat = stat_label(spec)
    ax.set(xlabel=f"minutes ({stat} of the RTO, split into its phases)", ylabel="")
    over = [f"{e} {v - target:+,.0f} min" for e, v in table["statistic_min"].items() if v > target]
    head = (
        f"{stat} RTO over the {target:g} min target: {', '.join(over)}"
        if over
        else f"every {stat} RTO meets the {target:g} min target"
    )
    ax.set_title(head)
    legend_outside(ax)
    return fig
