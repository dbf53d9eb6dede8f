"""What `simkit.optimize` returns: every plan tried, the Pareto front of the feasible ones, and the
cheapest feasible plan as re-verified on more seeds, ready to write as a scenario YAML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simkit.optimizer.objectives import Objective
from simkit.outputs import write_file
from simkit.scenario.model import Scenario

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def pareto_mask(table: pd.DataFrame, objectives: Sequence[Objective]) -> np.ndarray:
    """True for each row no other row dominates (at least as good in every objective, better in one)."""
    if table.empty:
        return np.zeros(0, dtype=bool)
    signs = np.array([1.0 if o.direction == "minimize" else -1.0 for o in objectives])
    points = table[[o.column for o in objectives]].to_numpy(dtype=float) * signs
    keep = np.ones(len(points), dtype=bool)
    for i, p in enumerate(points):
        dominated = np.all(points <= p, axis=1) & np.any(points < p, axis=1)
        keep[i] = not dominated.any()
    return keep


@dataclass
class OptimizeResult:
    """The outcome of `simkit.optimize`.

    `trials`: one row per distinct plan evaluated (its overrides, each objective's mean over the
    common seeds, seeds met `met` of `n`, the Wilson lower bound `ci_low`, `feasible`, `pareto`);
    `front`: the feasible Pareto-optimal rows, by the first objective; `verification`: each front plan
    re-run on the verification seeds, cheapest first, until one held (`passed`); `pick`: that plan's
    overrides (None if none held), `pick_summary` its `summarize_runs` table, `scenario`/`document`
    the picked scenario and its YAML.
    """

    objectives: tuple[Objective, ...]
    space: dict[str, Any]
    trials: pd.DataFrame
    front: pd.DataFrame
    verification: pd.DataFrame
    pick: dict[str, Any] | None
    pick_summary: pd.DataFrame | None
    scenario: Scenario | None
    document: str | None
    study_name: str
    study: Any  # optuna.Study: Optuna is optional, so not named in the type

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """The trials and the Pareto front of the first two objectives (`simkit.optimizer.plot`)."""
        from simkit.optimizer.plot import plot_front

        return plot_front(self, ax=ax, **kwargs)

    def write_scenario(self, path: str | Path, force: bool = False) -> Path:
        """Write the picked plan's scenario YAML (for `simkit export PATH --out DIR`)."""
        if self.document is None:
            raise ValueError("no plan held on the verification seeds: nothing to write")
        return write_file(path, self.document, force)

    def __repr__(self) -> str:
        pick = "none held" if self.pick is None else repr(self.pick)
        return (
            f"OptimizeResult({len(self.trials)} plans, {len(self.front)} on the front, "
            f"objectives {[o.name for o in self.objectives]}, pick: {pick})"
        )


__all__ = ["OptimizeResult", "pareto_mask"]
