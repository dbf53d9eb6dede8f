"""The targets (`slos:`, and a route's own P95 target), each evaluated over a window.

A latency target is met per window: `p95_latency: {target: 200ms, window: 5m, compliance: 99.9%}`
holds when the P95 of the requests of each `window` meets `target` in at least `compliance` of the
windows (by time). A plain duration (`p95_latency: 200ms`) takes the default window and compliance.
Availability is held over its own window with its error budget: `availability: {target: 99.9%,
window: 30d}` (a plain `99.9%` takes the default window).

Windows-based latency objectives follow Google Cloud Monitoring's windows-based SLIs (a window is
good when its performance meets the threshold; the SLO is the share of good windows over the
compliance period) and the Google SRE Workbook, ch. 2 "Implementing SLOs" (latency SLIs as
percentiles of the requests in a window, error budget = (1 - SLO) x eligible events over a rolling
four-week window). The defaults: 5-minute windows (the workbook's shortest alerting window, ch. 5
"Alerting on SLOs"), 99.9 % of them good (the seed's availability target: a slow window spends the
same budget as an unavailable one) and a 30-day rolling availability window.

Old readers keep their scalars: `slos.p95_latency` and `route.p95_target` hold the target in seconds,
`slos.availability` the fraction; the window and compliance sit beside them (`p95_window`,
`p95_compliance`, `availability_window`), which a scenario may also set directly.
"""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

from pydantic import Field, ValidationError, field_validator, model_validator

from simkit.scenario.base import Duration, PathError, StrictModel

DEFAULT_LATENCY_WINDOW_S = 300.0
DEFAULT_COMPLIANCE = 0.999
DEFAULT_AVAILABILITY_WINDOW_S = 30 * 86400.0


def _percent(v: Any) -> Any:
    """'99.9%' -> 0.999; numbers pass as they are."""
    if isinstance(v, str) and v.strip().endswith("%"):
        try:
            return float(v.strip()[:-1]) / 100
        except ValueError:
            raise ValueError(f"expected a fraction or a percentage such as '99.9%', got {v!r}") from None
    return v


Fraction = Annotated[float, Field(gt=0, le=1)]
"""A share in (0, 1]; the models below accept 0.999 or '99.9%' (`_percent`, before the bounds)."""


class LatencyObjective(StrictModel):
    """`{target, window, compliance}`: the P95 of each window meets `target` in `compliance` of them."""

    target: Duration
    window: Duration = Field(default=DEFAULT_LATENCY_WINDOW_S, gt=0)
    compliance: Fraction = DEFAULT_COMPLIANCE

    _fractions = field_validator("compliance", mode="before")(_percent)


class AvailabilityObjective(StrictModel):
    """`{target, window}`: at most (1 - target) of the requests in any `window` fail."""

    target: Fraction
    window: Duration = Field(default=DEFAULT_AVAILABILITY_WINDOW_S, gt=0)

    _fractions = field_validator("target", mode="before")(_percent)


def _expand(data: Any, key: str, model: type[StrictModel], fields: dict[str, str]) -> Any:
    """Spread the mapping form of `key` into its scalar fields (`fields`: the mapping's key -> field)."""
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        return data
    try:
        parsed = model.model_validate(data[key])
    except ValidationError as exc:
        err = exc.errors()[0]
        where = tuple(p for p in err["loc"] if isinstance(p, str | int))
        message = str(err["msg"]).removeprefix("Value error, ")
        message = message[0].lower() + message[1:]
        if err["type"] == "extra_forbidden":
            message = f"unknown key; expected {', '.join(model.model_fields)}"
        elif err["type"] != "missing" and "got " not in message:
            message += f", got {err['input']!r}"
        raise PathError((key, *where), message) from None
    out = {k: v for k, v in data.items() if k != key}
    out[key] = parsed.__dict__["target"]
    for name in parsed.model_fields_set - {"target"}:  # what the mapping leaves out keeps its default
        field = fields[name]
        if field in out:
            raise PathError((field,), f"set either {key}.{name} or {field}, not both")
        out[field] = getattr(parsed, name)
    return out


class SLOs(StrictModel):
    """The scenario's targets (`slos:`); each latency and availability target has its window."""

    availability: Fraction = 0.999
    availability_window: Duration = Field(default=DEFAULT_AVAILABILITY_WINDOW_S, gt=0)
    p95_latency: Duration | None = 0.2
    p95_window: Duration = Field(default=DEFAULT_LATENCY_WINDOW_S, gt=0)
    p95_compliance: Fraction = DEFAULT_COMPLIANCE
    max_task_age: Duration | None = None

    _fractions = field_validator("availability", "p95_compliance", mode="before")(_percent)

    @model_validator(mode="before")
    @classmethod
    def _objectives(cls, data: Any) -> Any:
        data = _expand(data, "availability", AvailabilityObjective, {"window": "availability_window"})
        return _expand(
            data,
            "p95_latency",
            LatencyObjective,
            {"window": "p95_window", "compliance": "p95_compliance"},
        )


class RouteObjective(StrictModel):
    """A route's own P95 target (`p95_target`: a duration or `{target, window, compliance}`).

    Unset parts come from `slos` (see `latency_objective`).
    """

    p95_target: Duration | None = None
    p95_window: Duration | None = Field(default=None, gt=0)
    p95_compliance: Fraction | None = None

    _fractions = field_validator("p95_compliance", mode="before")(_percent)

    @model_validator(mode="before")
    @classmethod
    def _objective(cls, data: Any) -> Any:
        return _expand(
            data,
            "p95_target",
            LatencyObjective,
            {"window": "p95_window", "compliance": "p95_compliance"},
        )


class Objective(NamedTuple):
    """A resolved latency target: P95 <= target_s in `compliance` of the `window_s` windows."""

    target_s: float
    window_s: float
    compliance: float


def latency_objective(slos: SLOs, route: RouteObjective) -> Objective | None:
    """The route's P95 objective: its own target, window and compliance, else the scenario's."""
    target = route.p95_target if route.p95_target is not None else slos.p95_latency
    if target is None:
        return None
    window = route.p95_window if route.p95_window is not None else slos.p95_window
    compliance = route.p95_compliance if route.p95_compliance is not None else slos.p95_compliance
    return Objective(float(target), float(window), float(compliance))
