"""Building blocks of the scenario schema: strict models and unit-parsing field types.

Units are parsed here, once, at the edge: a field typed `Duration` holds seconds, `CPU` millicores,
`Memory` MiB, whatever spelling the YAML used ("5m", 300, "500m", "2Gi").
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from simkit.units import format_cpu, format_duration, format_memory, parse_cpu, parse_duration, parse_memory


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


class StrictModel(BaseModel):
    """A scenario section: unknown keys are errors (typos must not pass silently), values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PathError(ValueError):
    """A cross-field error that knows which nested field it is about (relative to the validated model)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        super().__init__(message)
