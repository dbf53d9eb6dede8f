"""The scenario's `load:` section: the platform's total request rate over time.

Either a synthetic shape (a base rate times daily and weekly factors) or a real trace read at run
time; growth, spikes and noise apply on top of either. Routes then take a share of this rate.

```yaml
load:
  base_rps: 40                      # mean req/s over a day whose weekly factor is 1 (a weekday)
  growth: 1.0                       # multiplies everything: 10x is a one-line change
  start_weekday: monday             # calendar of t=0 (default Monday 00:00)
  start_hour: 0
  daily: {amplitude: 0.6, peak_hour: 14}      # or {profile: [24 hourly factors]}
  weekly: {weekend_factor: 0.6}               # or {profile: [7 daily factors, Monday first]}
  noise: {cv: 0.05}                           # multiplicative, per tick, seeded
  spikes: [{at: 2d3h, ramp: 2m, hold: 10m, factor: 5}]
  # trace: {...}                    # instead of base_rps/daily/weekly, see TraceSpec
```
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from simkit.scenario.base import Duration, StrictModel

__all__ = ["DailyShape", "WeeklyShape", "Noise", "Spike", "TraceSpec", "LoadProfile", "WEEKDAYS"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _check_factors(values: list[float], count: int, what: str) -> list[float]:
    """Factor lists must have `count` non-negative entries, not all zero."""
    if len(values) != count:
        raise ValueError(f"expected {count} {what} factors, got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError(f"expected non-negative {what} factors, got {values}")
    if not any(v > 0 for v in values):
        raise ValueError(f"expected at least one positive {what} factor, got all zeros")
    return values


class DailyShape(StrictModel):
    """Time-of-day shape, mean 1 over a day, so `base_rps` stays the daily mean.

    Either a cosine `1 + amplitude * cos(2π (hour - peak_hour) / 24)` or 24 hourly factors
    (factor i at i:00, linear in between, rescaled to mean 1).
    """

    amplitude: float | None = Field(default=None, ge=0, le=1)
    peak_hour: float = Field(default=14.0, ge=0, lt=24)
    profile: list[float] | None = None

    @field_validator("profile")
    @classmethod
    def _profile_24(cls, v: list[float] | None) -> list[float] | None:
        return None if v is None else _check_factors(v, 24, "hourly")

    @model_validator(mode="after")
    def _one_form(self) -> DailyShape:
        if (self.amplitude is None) == (self.profile is None):
            raise ValueError(
                "expected either `amplitude` (0..1, with `peak_hour`) or `profile` (24 hourly factors)"
            )
        if self.profile is not None and "peak_hour" in self.model_fields_set:
            raise ValueError("`peak_hour` applies to the cosine shape only; the `profile` sets its own peak")
        return self

    def factors(self) -> list[float]:
        """The 24 hourly factors at i:00 (mean 1); for the cosine shape, sampled from it."""
        if self.profile is not None:
            mean = sum(self.profile) / 24
            return [v / mean for v in self.profile]
        amp = self.amplitude or 0.0
        return [1 + amp * math.cos(2 * math.pi * (h - self.peak_hour) / 24) for h in range(24)]


class WeeklyShape(StrictModel):
    """Day-of-week factors relative to a weekday (not renormalised: weekends lower the weekly mean)."""

    weekend_factor: float | None = Field(default=None, ge=0)
    profile: list[float] | None = None

    @field_validator("profile")
    @classmethod
    def _profile_7(cls, v: list[float] | None) -> list[float] | None:
        return None if v is None else _check_factors(v, 7, "day-of-week (Monday first)")

    @model_validator(mode="after")
    def _one_form(self) -> WeeklyShape:
        if (self.weekend_factor is None) == (self.profile is None):
            raise ValueError("expected either `weekend_factor` or `profile` (7 factors, Monday first)")
        return self

    def factors(self) -> list[float]:
        """Seven factors, Monday first."""
        if self.profile is not None:
            return list(self.profile)
        w = float(self.weekend_factor or 0.0)
        return [1.0] * 5 + [w, w]


class Noise(StrictModel):
    """Multiplicative lognormal noise per tick, mean 1, coefficient of variation `cv`."""

    cv: float = Field(ge=0, le=5)


class Spike(StrictModel):
    """A multiplicative surge: ramps linearly from 1 to `factor`, holds, ramps back to 1.

    `at` is time from simulation start; `ramp_down` defaults to `ramp`. A factor < 1 is a dip.
    """

    at: Duration
    factor: float = Field(ge=0)
    ramp: Duration = 0.0
    hold: Duration = 0.0
    ramp_down: Duration | None = None

    @property
    def down_s(self) -> float:
        """Ramp-down length in seconds."""
        return self.ramp if self.ramp_down is None else self.ramp_down

    @property
    def end_s(self) -> float:
        """Time the spike is over (rate back to base)."""
        return self.at + self.ramp + self.hold + self.down_s


class TraceSpec(StrictModel):
    """A real trace read at run time (never copied into the repo).

    `format: series`: one row per interval; each row covers `[time, time + interval)` and its
    `rate_column` holds req/s (`rate_unit: per_second`) or a request count (`per_interval`).
    `format: events`: one row per request (only `time_column` is read); counted per `interval`.
    Times are seconds (numbers) or ISO timestamps. Missing intervals of a series are `gaps`:
    `skip` cuts them out of the timeline (never interpolated), `zero` keeps them as no traffic.

    NASA:  {path: .../nasa_http_1995_requests_per_minute.csv, rate_column: requests,
            rate_unit: per_interval, exclude_column: server_down}
    Azure: {path: .../AzureLLMInferenceTrace_conv.csv, format: events, loop: true}
    """

    path: str = Field(min_length=1)
    format: Literal["series", "events"] = "series"
    time_column: str | None = None
    rate_column: str | None = None
    rate_unit: Literal["per_second", "per_interval"] | None = None
    interval: Duration | None = None
    exclude_column: str | None = None
    gaps: Literal["skip", "zero"] = "skip"
    offset: Duration = 0.0
    scale: float | None = Field(default=None, ge=0)
    scale_to_mean_rps: float | None = Field(default=None, ge=0)
    loop: bool = False

    @field_validator("interval")
    @classmethod
    def _positive_interval(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError(f"expected a positive interval such as '1s' or '1m', got {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> TraceSpec:
        if self.scale is not None and self.scale_to_mean_rps is not None:
            raise ValueError("give `scale` (a multiplier) or `scale_to_mean_rps` (a target mean), not both")
        if self.format == "events":
            if self.rate_column is not None or self.rate_unit is not None:
                raise ValueError(
                    "an events trace has one row per request: `rate_column`/`rate_unit` do not apply"
                )
        elif self.rate_unit is None:
            raise ValueError(
                "`rate_unit` is required for a series trace: 'per_second' if the rate column holds req/s, "
                "'per_interval' if it holds a request count per row"
            )
        return self

    @property
    def multiplier(self) -> float:
        """The fixed scale factor (1 unless `scale` is given; `scale_to_mean_rps` needs the data)."""
        return 1.0 if self.scale is None else self.scale


Weekday = Literal[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "wed", "thu", "fri", "sat", "sun",
]  # fmt: skip


class LoadProfile(StrictModel):
    """The platform's total request rate over time (req/s), before routes take their shares."""

    base_rps: float | None = Field(default=None, ge=0)
    growth: float = Field(default=1.0, gt=0)
    start_weekday: Weekday | int = "monday"
    start_hour: float = Field(default=0.0, ge=0, lt=24)
    daily: DailyShape | None = None
    weekly: WeeklyShape | None = None
    noise: Noise | None = None
    spikes: list[Spike] = Field(default_factory=list)
    trace: TraceSpec | None = None

    @field_validator("start_weekday")
    @classmethod
    def _weekday_index(cls, v: str | int) -> str | int:
        if isinstance(v, int) and not 0 <= v <= 6:
            raise ValueError(f"expected a weekday name or 0 (Monday) .. 6 (Sunday), got {v}")
        return v

    @model_validator(mode="after")
    def _trace_or_shape(self) -> LoadProfile:
        if self.trace is None:
            if self.base_rps is None:
                raise ValueError("expected `base_rps` (mean req/s) or a `trace`")
            return self
        shaped = [k for k in ("base_rps", "daily", "weekly") if getattr(self, k) is not None]
        if shaped:
            raise ValueError(
                f"`trace` replaces the synthetic shape, so {', '.join(shaped)} must not be given with it; "
                "use trace.scale_to_mean_rps to set the trace's mean rate"
            )
        return self

    @property
    def weekday_index(self) -> int:
        """Day of week of t=0, 0 = Monday."""
        if isinstance(self.start_weekday, int):
            return self.start_weekday
        return [d[:3] for d in WEEKDAYS].index(self.start_weekday[:3])

    def weekly_mean_factor(self) -> float:
        """Mean of the day-of-week factors over a whole week (1 without a weekly shape)."""
        return 1.0 if self.weekly is None else sum(self.weekly.factors()) / 7

    def nominal_mean_rps(self) -> float | None:
        """Long-run mean req/s without spikes and noise, if known without reading a trace."""
        if self.trace is None:
            return (self.base_rps or 0.0) * self.growth * self.weekly_mean_factor()
        if self.trace.scale_to_mean_rps is not None:
            return self.trace.scale_to_mean_rps * self.growth
        return None
