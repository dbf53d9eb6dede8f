"""The `plans:` section: deployment plans to simulate (a rollout, a StatefulSet update, ...).

Each plan names its `kind`, its `target` workload, when it `start`s (a duration into the run, or
`peak`: the time of the target's highest load) and its settings under Kubernetes' field names, so a
Deployment `strategy` or a StatefulSet `updateStrategy` can be pasted from a manifest. What changes
in the new version (`serving`, `startup`, `readinessProbe`, `never_ready`) and the plan's own
`targets` are simkit's. Validation follows the API server where it rejects input
(pkg/apis/apps/validation/validation.go, ValidateRollingUpdateDeployment: maxUnavailable "may not
be 0 when maxSurge is 0", percentages "must not be greater than 100%").

Kinds implemented by the engine today: `rollout` and `statefulset-update`; `canary`, `blue-green`,
`node-pool-upgrade` and `drain` are reserved names (an error says they are not implemented yet),
each to be one more runner in `simkit.engine.plans.RUNNERS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from simkit.scenario.base import Duration, PathError, StrictModel
from simkit.scenario.k8s import ProbeSpec
from simkit.units import format_duration

IMPLEMENTED_KINDS = ("rollout", "statefulset-update")
PLANNED_KINDS = ("canary", "blue-green", "node-pool-upgrade", "drain")
KIND_OF_TARGET = {"rollout": "Deployment", "statefulset-update": "StatefulSet"}
PEAK = "peak"

_PERCENT = re.compile(r"^[0-9]+%$")
IntOrPercent = int | str


def _int_or_percent(value: Any) -> IntOrPercent | None:
    """An IntOrString as the API validates it: a non-negative int, or "N%" with N <= 100."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected an integer or a percentage such as '25%', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"must be greater than or equal to 0, got {value}")
        return value
    text = value.strip()
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    if not _PERCENT.match(text):
        raise ValueError(f"expected an integer or a percentage such as '25%', got {value!r}")
    if int(text[:-1]) > 100:
        raise ValueError(f"must not be greater than 100%, got {value!r}")
    return text


def _is_zero(value: IntOrPercent | None) -> bool:
    return value is not None and (value == 0 or (isinstance(value, str) and int(value[:-1]) == 0))


class RollingUpdateDeployment(StrictModel):
    """apps/v1 RollingUpdateDeployment; unset fields take the API defaults (25 % each)."""

    maxSurge: IntOrPercent | None = None
    maxUnavailable: IntOrPercent | None = None

    _check = field_validator("maxSurge", "maxUnavailable", mode="before")(_int_or_percent)

    @model_validator(mode="after")
    def _not_both_zero(self) -> RollingUpdateDeployment:
        surge = "25%" if self.maxSurge is None else self.maxSurge
        unavailable = "25%" if self.maxUnavailable is None else self.maxUnavailable
        if _is_zero(surge) and _is_zero(unavailable):
            raise PathError(("maxUnavailable",), "may not be 0 when maxSurge is 0")
        return self


class DeploymentStrategy(StrictModel):
    """apps/v1 DeploymentStrategy."""

    type: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    rollingUpdate: RollingUpdateDeployment | None = None

    @model_validator(mode="after")
    def _recreate_has_no_rolling_update(self) -> DeploymentStrategy:
        if self.type == "Recreate" and self.rollingUpdate is not None:
            raise PathError(("rollingUpdate",), "may not be specified when strategy `type` is 'Recreate'")
        return self


class RollingUpdateStatefulSet(StrictModel):
    """apps/v1 RollingUpdateStatefulSetStrategy."""

    partition: int = Field(default=0, ge=0)
    maxUnavailable: IntOrPercent | None = None

    _check = field_validator("maxUnavailable", mode="before")(_int_or_percent)

    @field_validator("maxUnavailable")
    @classmethod
    def _positive(cls, v: IntOrPercent | None) -> IntOrPercent | None:
        if _is_zero(v):
            raise ValueError("must be greater than 0")
        return v


class StatefulSetUpdateStrategy(StrictModel):
    """apps/v1 StatefulSetUpdateStrategy."""

    type: Literal["RollingUpdate", "OnDelete"] = "RollingUpdate"
    rollingUpdate: RollingUpdateStatefulSet | None = None


class ServingChange(StrictModel):
    """How the new version serves, where it differs (unset: as the current version)."""

    concurrency: int | None = Field(default=None, ge=1)
    service_time: Duration | None = None
    service_time_cv: float | None = Field(default=None, ge=0.0)
    timeout: Duration | None = None
    cpu_per_request: Duration | None = None
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # share of its requests that fail


class StartupChange(StrictModel):
    image_pull: Duration | None = None
    app_start: Duration | None = None


class PlanTargets(StrictModel):
    """What the plan must achieve; each set target is a check (`result.checks`)."""

    max_duration: Duration | None = None
    max_extra_cost_usd: float | None = Field(default=None, ge=0)
    availability: float | None = Field(default=None, gt=0, le=1)
    p95_latency: Duration | None = None

    @field_validator("availability", mode="before")
    @classmethod
    def _percent(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().endswith("%"):
            return float(v.strip()[:-1]) / 100
        return v


class PlanStart(StrictModel):
    at: Literal["peak"]


class Plan(StrictModel):
    """One deployment plan (see the module docstring)."""

    name: str
    kind: Literal["rollout", "statefulset-update", "canary", "blue-green", "node-pool-upgrade", "drain"]
    target: str
    start: Duration | PlanStart
    # Deployment (kind: rollout)
    strategy: DeploymentStrategy | None = None
    minReadySeconds: int = Field(default=0, ge=0)
    progressDeadlineSeconds: int = Field(default=600, ge=1)
    revisionHistoryLimit: int = Field(default=10, ge=0)
    # StatefulSet (kind: statefulset-update)
    updateStrategy: StatefulSetUpdateStrategy | None = None
    podManagementPolicy: Literal["OrderedReady", "Parallel"] = "OrderedReady"
    # the new version
    serving: ServingChange = ServingChange()
    startup: StartupChange = StartupChange()
    readinessProbe: ProbeSpec | None = None
    never_ready: bool = False  # its readiness probe never passes (a broken release)
    controller_latency: Duration = 1.0  # from a pod event to the controller's sync (informer + queue)
    targets: PlanTargets = PlanTargets()

    @field_validator("start", mode="before")
    @classmethod
    def _peak(cls, v: Any) -> Any:
        return {"at": PEAK} if v == PEAK else v

    @model_validator(mode="after")
    def _settings_fit_kind(self) -> Plan:
        if self.kind in PLANNED_KINDS:
            raise PathError(
                ("kind",),
                f"{self.kind!r} plans are not implemented yet (implemented: {', '.join(IMPLEMENTED_KINDS)})",
            )
        if self.kind == "rollout" and self.updateStrategy is not None:
            raise PathError(("updateStrategy",), "is a StatefulSet setting; a rollout takes `strategy`")
        if self.kind == "statefulset-update" and self.strategy is not None:
            raise PathError(
                ("strategy",), "is a Deployment setting; a statefulset-update takes `updateStrategy`"
            )
        return self

    @property
    def at_peak(self) -> bool:
        return isinstance(self.start, PlanStart)

    @property
    def start_s(self) -> float | None:
        """Seconds into the run, or None for `peak` (known only once the load is)."""
        return None if isinstance(self.start, PlanStart) else float(self.start)


def check_plan_references(plans: Sequence[Plan], kinds: dict[str, str], duration_s: float) -> None:
    """Cross-references: unique names, a target workload of the right kind, a start within the run."""
    seen: set[str] = set()
    for i, plan in enumerate(plans):
        if plan.name in seen:
            raise PathError(("plans", i, "name"), f"duplicate plan name {plan.name!r}")
        seen.add(plan.name)
        kind = kinds.get(plan.target)
        if kind is None:
            raise PathError(("plans", i, "target"), f"unknown workload {plan.target!r}")
        wanted = KIND_OF_TARGET[plan.kind]
        if kind != wanted:
            raise PathError(
                ("plans", i, "kind"),
                f"a {plan.kind} needs a {wanted}, but {plan.target!r} is a {kind}",
            )
        start = plan.start_s
        if start is not None and start >= duration_s:
            raise PathError(
                ("plans", i, "start"),
                f"starts at {format_duration(start)}, at or after the end of the run "
                f"({format_duration(duration_s)})",
            )
