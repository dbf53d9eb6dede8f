"""The Optuna samplers `simkit optimize` offers, by name (Optuna imported only when one is made).

`nsga2`: `optuna.samplers.NSGAIISampler` (Deb et al., "A fast and elitist multiobjective genetic
algorithm: NSGA-II", IEEE TEC 6(2), 2002; optuna/samplers/nsgaii/_sampler.py); `tpe`:
`optuna.samplers.TPESampler` with `multivariate=True` (optuna/samplers/_tpe/sampler.py). Both read
each trial's constraint values (`Trial.set_constraint`, Optuna 5.0) and prefer feasible trials.
"""

from __future__ import annotations

from typing import Any

from simkit.errors import SimkitError

SAMPLERS = ("nsga2", "tpe")


def make_sampler(name: str, seed: int | None) -> Any:
    """A new sampler of that name, seeded (None: from the OS)."""
    import optuna

    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    raise SimkitError(f"sampler: expected one of {', '.join(SAMPLERS)}, got {name!r}")


__all__ = ["SAMPLERS", "make_sampler"]
