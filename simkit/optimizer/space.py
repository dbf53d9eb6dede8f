"""The optimizer's search space: dotted scenario paths (as `--set` and `simkit sweep --vary` take
them) mapped to a set of values (categorical), an integer range or a float range.

In Python a dimension is a list or tuple (categorical), a `range` (integers, its step kept), an
`IntRange`/`FloatRange`, or the CLI's text form: `LO..HI` (an integer range when both ends are
integers, else a float range), `LO..HI:STEP`, or `V1,V2,...` (categorical, each value read as YAML,
as `--vary` reads it). Each dimension becomes one Optuna distribution (`suggest_categorical`,
`suggest_int`, `suggest_float`: optuna/trial/_trial.py, Optuna 4.x/5.x).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simkit.errors import SimkitError
from simkit.scenario import yamlread

if TYPE_CHECKING:  # Optuna is the optional extra simkit[optimize]: imported only where it runs
    import optuna


@dataclass(frozen=True)
class IntRange:
    """Integers `low..high` (both included) in steps of `step`."""

    low: int
    high: int
    step: int = 1


@dataclass(frozen=True)
class FloatRange:
    """Floats in `[low, high]`, continuous or in steps of `step`; `log` samples the logarithm."""

    low: float
    high: float
    step: float | None = None
    log: bool = False


@dataclass(frozen=True)
class Categorical:
    """One of `values` (any YAML values: numbers, strings, lists)."""

    values: tuple[Any, ...]


Dimension = IntRange | FloatRange | Categorical
Space = dict[str, Dimension]

_PRIMITIVE = (str, int, float, bool, type(None))


def parse_dimension(path: str, spec: Any, flag: str = "space") -> Dimension:
    """One dimension from what a user wrote; a `SimkitError` naming `path` if it is empty or malformed."""
    where = f"{flag} {path}"
    if isinstance(spec, IntRange | FloatRange | Categorical):
        dim = spec
    elif isinstance(spec, range):
        if len(spec) == 0:
            raise SimkitError(f"{where}: empty range {spec!r}")
        lo, hi = sorted((spec[0], spec[-1]))
        dim = IntRange(lo, hi, abs(spec.step))
    elif isinstance(spec, str):
        dim = _from_text(where, spec)
    elif isinstance(spec, Sequence):
        dim = Categorical(tuple(spec))
    else:
        raise SimkitError(f"{where}: expected a list of values, a range or 'LO..HI', got {spec!r}")
    _check(where, dim)
    return dim


def _from_text(where: str, text: str) -> Dimension:
    text = text.strip()
    if ".." not in text:
        values = [v for v in text.split(",") if v.strip()]
        return Categorical(tuple(yamlread.load_value(v, where) for v in values))
    bounds, _, step_text = text.partition(":")
    lo_text, _, hi_text = bounds.partition("..")
    try:
        lo, hi = (yamlread.load_value(t, where) for t in (lo_text, hi_text))
        step = yamlread.load_value(step_text, where) if step_text else None
    except SimkitError:
        raise SimkitError(f"{where}: expected LO..HI or LO..HI:STEP, got {text!r}") from None
    numbers = (lo, hi) if step is None else (lo, hi, step)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        raise SimkitError(f"{where}: expected numbers in LO..HI, got {text!r}")
    if all(isinstance(v, int) for v in numbers):
        return IntRange(lo, hi, 1 if step is None else step)
    return FloatRange(float(lo), float(hi), None if step is None else float(step))


def _check(where: str, dim: Dimension) -> None:
    if isinstance(dim, Categorical):
        if not dim.values:
            raise SimkitError(f"{where}: no values to choose from")
        return
    if not all(math.isfinite(v) for v in (dim.low, dim.high)):
        raise SimkitError(f"{where}: expected finite bounds, got {dim.low}..{dim.high}")
    if dim.low > dim.high:
        raise SimkitError(f"{where}: empty range {dim.low}..{dim.high} (the low end is above the high end)")
    if dim.step is not None and dim.step <= 0:
        raise SimkitError(f"{where}: expected a positive step, got {dim.step}")
    if isinstance(dim, FloatRange) and dim.log and dim.low <= 0:
        raise SimkitError(f"{where}: a log range needs a positive low end, got {dim.low}")


def parse_space(space: Mapping[str, Any], flag: str = "space") -> Space:
    """Every dimension of `space`, checked; at least one is required."""
    if not space:
        raise SimkitError(f"{flag}: nothing to vary (give at least one KEY=LO..HI or KEY=V1,V2,...)")
    return {str(path): parse_dimension(str(path), spec, flag) for path, spec in space.items()}


def suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    """The trial's plan: one value per dimension, as scenario overrides."""
    plan: dict[str, Any] = {}
    for path, dim in space.items():
        if isinstance(dim, IntRange):
            plan[path] = trial.suggest_int(path, dim.low, dim.high, step=dim.step)
        elif isinstance(dim, FloatRange):
            plan[path] = trial.suggest_float(path, dim.low, dim.high, step=dim.step, log=dim.log)
        elif all(isinstance(v, _PRIMITIVE) for v in dim.values):
            plan[path] = trial.suggest_categorical(path, list(dim.values))
        else:  # lists or mappings: Optuna stores only primitives, so it picks an index
            plan[path] = dim.values[trial.suggest_categorical(path, list(range(len(dim.values))))]
    return plan


def corners(space: Space) -> list[dict[str, Any]]:
    """Plans that put every value of every dimension into a scenario at least once (each range at
    both ends, each categorical value), the others at their first value: what is validated before
    any run, so that a bad path or value fails at once."""
    first = {path: _values(dim)[0] for path, dim in space.items()}
    out = [first]
    for path, dim in space.items():
        out.extend({**first, path: v} for v in _values(dim)[1:])
    return out


def _values(dim: Dimension) -> list[Any]:
    if isinstance(dim, Categorical):
        return list(dim.values)
    return [dim.low] if dim.low == dim.high else [dim.low, dim.high]


def size(space: Space) -> float:
    """How many distinct plans the space holds (inf with a continuous float range)."""
    total = 1.0
    for dim in space.values():
        if isinstance(dim, Categorical):
            total *= len(dim.values)
        elif isinstance(dim, IntRange):
            total *= (dim.high - dim.low) // dim.step + 1
        elif dim.step is None:
            return math.inf
        else:
            total *= math.floor((dim.high - dim.low) / dim.step + 1e-9) + 1
    return total


__all__ = [
    "Categorical",
    "Dimension",
    "FloatRange",
    "IntRange",
    "Space",
    "corners",
    "parse_dimension",
    "parse_space",
    "size",
    "suggest",
]
