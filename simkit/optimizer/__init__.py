"""`simkit.optimize`: search a scenario's plans with Optuna for the Pareto front of cost and latency
(or availability) under a chance constraint over common seeds; re-verify the cheapest feasible plan.

Optuna is the optional extra `simkit[optimize]`: it is imported when `optimize` runs, so
`import simkit` works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simkit.errors import SimkitError
from simkit.optimizer.space import Categorical, FloatRange, IntRange

if TYPE_CHECKING:
    from simkit.optimizer.result import OptimizeResult


def optimize(*args: Any, **kwargs: Any) -> OptimizeResult:
    """See `simkit.optimizer.study.optimize` (the same arguments)."""
    try:
        from simkit.optimizer import study
    except ModuleNotFoundError as exc:
        if exc.name != "optuna":
            raise
        raise SimkitError("simkit optimize needs Optuna: pip install 'simkit[optimize]'") from None
    return study.optimize(*args, **kwargs)


__all__ = ["Categorical", "FloatRange", "IntRange", "optimize"]
