"""What it takes to meet a DR target: bisection on one `dr:` field against an event's statistic.

Uses common random numbers (the same seed at every trial value), so the statistic is a
deterministic, and for the fields used here monotone, function of the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from simkit.dr.checks import statistic
from simkit.dr.model import evaluate_event
from simkit.scenario.dr import DRSpec, PhaseTime

__all__ = ["with_value", "measure_at", "solve"]


def with_value(spec: DRSpec, path: str, value: Any) -> DRSpec:
    """A copy of `spec` with the dotted field `path` (e.g. "backups.wal_archive_interval") set.

    A number given for a phase time (e.g. "procedures.decision_time") makes it fixed.
    """
    head, _, rest = path.partition(".")
    if not rest:
        if head not in type(spec).model_fields:
            raise KeyError(f"no field {head!r} in dr:")
        return spec.model_copy(update={head: value})
    return spec.model_copy(update={head: _nested(getattr(spec, head), rest, value)})


def _nested(model: BaseModel, path: str, value: Any) -> BaseModel:
    head, _, rest = path.partition(".")
    if head not in type(model).model_fields:
        raise KeyError(f"no field {head!r} in {type(model).__name__}")
    current = getattr(model, head)
    if rest:
        value = _nested(current, rest, value)
    elif isinstance(current, PhaseTime) and isinstance(value, int | float):
        value = PhaseTime(fixed=float(value))  # a number for a phase time means a fixed duration
    return model.model_copy(update={head: value})


def measure_at(
    spec: DRSpec, kind: str, path: str, value: float, measure: str, draws: int, seed: int
) -> float:
    """`spec.statistic` of `measure` ("rto_s" or "rpo_s") for `kind` with the field set to `value`."""
    df = evaluate_event(with_value(spec, path, value), kind, seed, draws)
    return statistic(df[measure], spec.statistic)


def solve(
    spec: DRSpec,
    kind: str,
    path: str,
    measure: str,
    target: float,
    lo: float,
    hi: float,
    *,
    want: Literal["max", "min"] = "max",
    draws: int = 4000,
    seed: int = 0,
    iters: int = 40,
) -> float | None:
    """The largest (`want="max"`) or smallest field value in [lo, hi] whose statistic meets `target`.

    E.g. the longest WAL archive interval, or the lowest restore throughput, that still meets the
    target. None when no value in [lo, hi] meets it. Assumes the statistic is monotone in the field.
    """
    f_lo = measure_at(spec, kind, path, lo, measure, draws, seed) <= target
    f_hi = measure_at(spec, kind, path, hi, measure, draws, seed) <= target
    if f_lo and f_hi:
        return hi if want == "max" else lo
    if not (f_lo or f_hi):
        return None
    good, bad = (lo, hi) if f_lo else (hi, lo)
    for _ in range(iters):
        mid = (good + bad) / 2
        if measure_at(spec, kind, path, mid, measure, draws, seed) <= target:
            good = mid
        else:
            bad = mid
    return good
