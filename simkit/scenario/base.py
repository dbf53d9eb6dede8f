"""Building blocks of the scenario schema: strict models and unit-parsing field types.

Units are parsed here, once, at the edge: a field typed `Duration` holds seconds, `CPU` millicores,
`Memory` MiB, whatever spelling the YAML used ("5m", 300, "500m", "2Gi").

Every number is finite and bounded (issue 14): `inf` and `nan` are refused everywhere
(`allow_inf_nan=False`), a float may not exceed `MAX_FLOAT` in magnitude, an integer must fit in
int64 (`MAX_INT`), `-0` reads as 0; durations and quantities have their own bounds in `simkit.units`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from simkit.units import format_cpu, format_duration, format_memory, parse_cpu, parse_duration, parse_memory

MAX_FLOAT = 1e12
"""Largest magnitude of any plain number in a scenario (rates, factors, prices, sizes in their unit)."""
MAX_INT = 2**63 - 1
"""Largest integer (int64, what Kubernetes' API and numpy hold)."""


def _wrap(parser: Any) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return parser(value)
        raise ValueError(f"expected a string or a number, got {type(value).__name__}")

    return check


Duration = Annotated[float, BeforeValidator(_wrap(parse_duration)), PlainSerializer(format_duration)]
"""Seconds; accepts "30s", "5m", "1h30m", "7d" or a number of seconds."""

CPU = Annotated[int, BeforeValidator(_wrap(parse_cpu)), PlainSerializer(format_cpu)]
"""Millicores; accepts "500m", "2", 0.5."""

Memory = Annotated[float, BeforeValidator(_wrap(parse_memory)), PlainSerializer(format_memory)]
"""MiB; accepts "512Mi", "2Gi", "1G" or a number of bytes."""


Seed = Annotated[int, Field(ge=0, le=MAX_INT)]
"""A random seed: a non-negative int64 (numpy's SeedSequence refuses negative ones)."""


def bounded(value: Any) -> Any:
    """`value` with every number in it checked finite and within `MAX_FLOAT` / `MAX_INT`; -0.0 -> 0.0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_FLOAT:
            raise ValueError(f"expected a finite number of magnitude at most {MAX_FLOAT:g}, got {value!r}")
        return value + 0.0
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ValueError(f"expected an integer of magnitude at most 2**63-1, got {value:.3g}")
        return value
    if isinstance(value, list | tuple):
        return type(value)(bounded(v) for v in value)
    if isinstance(value, dict):
        return {k: bounded(v) for k, v in value.items()}
    return value


class PathError(ValueError):
    """A cross-field error that knows which nested field it is about (relative to the validated model)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


class StrictModel(BaseModel):
    """A scenario section: unknown keys are errors (typos must not pass silently), values are frozen,
    every number is finite and bounded."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _finite_and_bounded(cls, value: Any) -> Any:
        return bounded(value)
