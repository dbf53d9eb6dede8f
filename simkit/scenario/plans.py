"""The `plans:` section: deployment plans to simulate (a rollout, a StatefulSet update, ...).

Each plan names its `kind`, its `target` workload, when it `start`s (a duration into the run, or
`peak`: the time of the target's highest load) and its settings under Kubernetes' field names, so a
Deployment `strategy` or a StatefulSet `updateStrategy` can be pasted from a manifest. What changes
in the new version (`serving`, `startup`, `readinessProbe`, `never_ready`) and the plan's own
`targets` are simkit's. Validation follows the API server where it rejects input
(pkg/apis/apps/validation/validation.go, ValidateRollingUpdateDeployment: maxUnavailable "may not
be 0 when maxSurge is 0", percentages "must not be greater than 100%").

Node plans target a node pool: `drain` (or a node selector "key=value,..."; kubectl drain's flags
by name: ignoreDaemonsets, deleteEmptydirData, force, gracePeriod, timeout, disableEviction) and
`node-pool-upgrade`, whose settings take the cluster's provider's own field names: EKS
`updateConfig` (NodegroupUpdateConfig: maxUnavailable | maxUnavailablePercentage, updateStrategy
DEFAULT | MINIMAL) and `force`; GKE `upgradeSettings` (UpgradeSettings: strategy SURGE | BLUE_GREEN,
maxSurge, maxUnavailable, blueGreenSettings); AKS `upgradeSettings` (AgentPoolUpgradeSettings:
maxSurge, maxUnavailable, drainTimeoutInMinutes, nodeSoakDurationInMinutes,
undrainableNodeBehavior). Settings of another provider are an error naming the field.

Kinds implemented by the engine: rollout, statefulset-update, canary, blue-green, node-pool-upgrade,
drain, each a runner in `simkit.engine.plans.RUNNERS`. Progressive plans target a Deployment and
take Argo Rollouts' or Flagger's own field names: `canary` (Argo `spec.strategy.canary`: steps
setWeight / pause / setCanaryScale / analysis, maxSurge, maxUnavailable, trafficRouting,
dynamicStableScale, ...) or `analysis` (Flagger `spec.analysis`: interval, threshold, maxWeight,
stepWeight(s), iterations, metrics), `blueGreen` (Argo `spec.strategy.blueGreen`); `metrics` are the
thresholds an Argo analysis measures on the canary version, `promote_after` when a human promotes
an indefinite pause (unset: never).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from simkit.scenario.base import Duration, PathError, StrictModel
from simkit.scenario.k8s import ProbeSpec
from simkit.units import format_duration

IMPLEMENTED_KINDS = ("rollout", "statefulset-update", "canary", "blue-green", "node-pool-upgrade", "drain")
PROGRESSIVE_KINDS = ("canary", "blue-green")
KIND_OF_TARGET = {
    "rollout": "Deployment",
    "statefulset-update": "StatefulSet",
    "canary": "Deployment",
    "blue-green": "Deployment",
}
NODE_KINDS = ("node-pool-upgrade", "drain")
PEAK = "peak"
ZONE_LABEL = "topology.kubernetes.io/zone"
PROVIDER_NAME = {"aws": "EKS", "gcp": "GKE", "azure": "AKS"}

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


class EKSUpdateConfig(StrictModel):
    """EKS NodegroupUpdateConfig (aws_eks_node_group `update_config`): one of maxUnavailable (1-100)
    or maxUnavailablePercentage (1-100), and the updateStrategy."""

    maxUnavailable: int | None = Field(default=None, ge=1, le=100)
    maxUnavailablePercentage: int | None = Field(default=None, ge=1, le=100)
    updateStrategy: Literal["DEFAULT", "MINIMAL"] = "DEFAULT"

    @model_validator(mode="after")
    def _one_of(self) -> EKSUpdateConfig:
        if self.maxUnavailable is not None and self.maxUnavailablePercentage is not None:
            raise PathError(
                ("maxUnavailablePercentage",), "set maxUnavailable or maxUnavailablePercentage, not both"
            )
        return self


class StandardRolloutPolicy(StrictModel):
    """GKE BlueGreenSettings.StandardRolloutPolicy: batchNodeCount or batchPercentage (0, 1]."""

    batchNodeCount: int | None = Field(default=None, ge=1)
    batchPercentage: float | None = Field(default=None, gt=0.0, le=1.0)
    batchSoakDuration: Duration | None = None

    @model_validator(mode="after")
    def _one_of(self) -> StandardRolloutPolicy:
        if self.batchNodeCount is not None and self.batchPercentage is not None:
            raise PathError(("batchPercentage",), "set batchNodeCount or batchPercentage, not both")
        return self


class BlueGreenSettings(StrictModel):
    standardRolloutPolicy: StandardRolloutPolicy = StandardRolloutPolicy()
    nodePoolSoakDuration: Duration | None = None


GKE_FIELDS = ("strategy", "maxSurge", "maxUnavailable", "blueGreenSettings")
AKS_FIELDS = (
    "maxSurge",
    "maxUnavailable",
    "drainTimeoutInMinutes",
    "nodeSoakDurationInMinutes",
    "undrainableNodeBehavior",
)


class UpgradeSettings(StrictModel):
    """GKE UpgradeSettings or AKS AgentPoolUpgradeSettings (the same key in both APIs); which fields
    apply is checked against the cluster's provider (`check_plan_references`)."""

    strategy: Literal["SURGE", "BLUE_GREEN"] | None = None  # GKE
    maxSurge: IntOrPercent | None = None  # GKE: an int; AKS: an int or a percentage
    maxUnavailable: IntOrPercent | None = None
    blueGreenSettings: BlueGreenSettings | None = None  # GKE
    drainTimeoutInMinutes: int | None = Field(default=None, ge=1)  # AKS
    nodeSoakDurationInMinutes: int | None = Field(default=None, ge=0)  # AKS
    undrainableNodeBehavior: Literal["Cordon", "Schedule"] | None = None  # AKS

    _check = field_validator("maxSurge", "maxUnavailable", mode="before")(_int_or_percent)


# ------------------------------------------------------------------------- progressive delivery
# Argo Rollouts v1.9.1 (pkg/apis/rollouts/v1alpha1/types.go: CanaryStrategy, CanaryStep,
# RolloutPause, SetCanaryScale, BlueGreenStrategy) and Flagger v1.44.0
# (pkg/apis/flagger/v1beta1/canary.go: CanaryAnalysis, CanaryMetric) field names; Argo's
# validation (pkg/apis/rollouts/validation/validation.go) rejects a step with more than one
# action and a setWeight outside 0..maxTrafficWeight. Weights that go down between steps are
# refused here (a progressive plan only moves traffic forward; a step back is a typo).
ARGO_STEP_KEYS = ("setWeight", "pause", "setCanaryScale", "analysis")


class RolloutPause(StrictModel):
    """pause: {} (indefinite: until promoted) or pause: {duration: 5m}."""

    duration: Duration | None = Field(default=None, ge=0)


class SetCanaryScaleSpec(StrictModel):
    replicas: int | None = Field(default=None, ge=0)
    weight: int | None = Field(default=None, ge=0, le=100)
    matchTrafficWeight: bool = False

    @model_validator(mode="after")
    def _one(self) -> SetCanaryScaleSpec:
        if sum(x is not None for x in (self.replicas, self.weight)) + self.matchTrafficWeight != 1:
            raise PathError((), "setCanaryScale takes exactly one of replicas, weight, matchTrafficWeight")
        return self


class AnalysisTemplateRef(StrictModel):
    templateName: str


class RolloutAnalysis(StrictModel):
    """An analysis step or background analysis: its templates (measured with the plan's `metrics`)."""

    templates: list[AnalysisTemplateRef] = Field(default=[], exclude_if=lambda v: not v)
    startingStep: int | None = Field(default=None, ge=0, exclude_if=lambda v: v is None)


class CanaryStepSpec(StrictModel):
    """One of `strategy.canary.steps`: exactly one action."""

    setWeight: int | None = Field(default=None, ge=0, le=100, exclude_if=lambda v: v is None)
    pause: RolloutPause | None = Field(default=None, exclude_if=lambda v: v is None)
    setCanaryScale: SetCanaryScaleSpec | None = Field(default=None, exclude_if=lambda v: v is None)
    analysis: RolloutAnalysis | None = Field(default=None, exclude_if=lambda v: v is None)

    @model_validator(mode="before")
    @classmethod
    def _known(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in ARGO_STEP_KEYS:
                    raise PathError(
                        (key,), f"unknown canary step {key!r}; a step is one of {', '.join(ARGO_STEP_KEYS)}"
                    )
            if len(data) != 1:
                raise PathError((), f"a canary step takes exactly one of {', '.join(ARGO_STEP_KEYS)}")
        return data


class ArgoCanary(StrictModel):
    """Argo Rollouts `spec.strategy.canary`."""

    steps: list[CanaryStepSpec] = Field(min_length=1)
    maxSurge: IntOrPercent | None = Field(default=None, exclude_if=lambda v: v is None)
    maxUnavailable: IntOrPercent | None = Field(default=None, exclude_if=lambda v: v is None)
    trafficRouting: dict[str, Any] | None = Field(default=None, exclude_if=lambda v: v is None)
    dynamicStableScale: bool = Field(default=False, exclude_if=lambda v: not v)
    minPodsPerReplicaSet: int | None = Field(default=None, ge=1, exclude_if=lambda v: v is None)
    scaleDownDelaySeconds: int | None = Field(default=None, ge=0, exclude_if=lambda v: v is None)
    abortScaleDownDelaySeconds: int | None = Field(default=None, ge=0, exclude_if=lambda v: v is None)
    analysis: RolloutAnalysis | None = Field(default=None, exclude_if=lambda v: v is None)

    _check = field_validator("maxSurge", "maxUnavailable", mode="before")(_int_or_percent)

    @model_validator(mode="after")
    def _weights(self) -> ArgoCanary:
        last = 0
        for i, step in enumerate(self.steps):
            if step.setWeight is not None:
                if step.setWeight < last:
                    raise PathError(
                        ("steps", i, "setWeight"),
                        f"weights must not go down: {step.setWeight} after {last}",
                    )
                last = step.setWeight
        if _is_zero(self.maxSurge) and _is_zero(self.maxUnavailable):
            raise PathError(("maxUnavailable",), "may not be 0 when maxSurge is 0")
        if self.dynamicStableScale and self.trafficRouting is None:
            raise PathError(("dynamicStableScale",), "requires trafficRouting")
        return self


class ArgoBlueGreen(StrictModel):
    """Argo Rollouts `spec.strategy.blueGreen` (services are named by simkit's export)."""

    activeService: str | None = Field(default=None, exclude_if=lambda v: v is None)
    previewService: str | None = Field(default=None, exclude_if=lambda v: v is None)
    autoPromotionEnabled: bool = True
    autoPromotionSeconds: int = Field(default=0, ge=0)
    scaleDownDelaySeconds: int = Field(default=30, ge=0)
    previewReplicaCount: int | None = Field(default=None, ge=0, exclude_if=lambda v: v is None)


class ThresholdRange(StrictModel):
    min: float | None = None
    max: float | None = None


class FlaggerMetric(StrictModel):
    """A Flagger builtin metric: request-success-rate (min, %) or request-duration (max, ms, P99)."""

    name: Literal["request-success-rate", "request-duration"]
    thresholdRange: ThresholdRange
    interval: str | None = Field(default=None, exclude_if=lambda v: v is None)


class FlaggerAnalysis(StrictModel):
    """Flagger `spec.analysis`."""

    interval: Duration = 60.0
    threshold: int = Field(default=1, ge=1)
    maxWeight: int | None = Field(default=None, ge=1, le=100, exclude_if=lambda v: v is None)
    stepWeight: int | None = Field(default=None, ge=1, le=100, exclude_if=lambda v: v is None)
    stepWeights: list[int] | None = Field(default=None, exclude_if=lambda v: v is None)
    iterations: int | None = Field(default=None, ge=1, exclude_if=lambda v: v is None)
    metrics: list[FlaggerMetric] = Field(default=[], exclude_if=lambda v: not v)

    @model_validator(mode="after")
    def _weights(self) -> FlaggerAnalysis:
        if self.stepWeights is not None:
            last = 0
            for i, w in enumerate(self.stepWeights):
                if not 1 <= w <= 100:
                    raise PathError(("stepWeights", i), f"a weight is 1..100, got {w}")
                if w <= last:
                    raise PathError(("stepWeights", i), f"weights must increase: {w} after {last}")
                last = w
        if self.iterations is None and not self.stepWeight and not self.stepWeights:
            raise PathError(("stepWeight",), "a Flagger canary needs stepWeight, stepWeights or iterations")
        if self.maxWeight is not None and self.stepWeight is not None and self.stepWeight > self.maxWeight:
            raise PathError(("stepWeight",), f"is above maxWeight ({self.maxWeight})")
        return self


class CanaryMetrics(StrictModel):
    """Thresholds the Argo analysis measures on the canary version (simkit's metric provider):
    every `interval`, `count` times (unset: until the rollout ends), failing after `failureLimit`."""

    interval: Duration = 60.0
    count: int | None = Field(default=None, ge=1)
    failureLimit: int = Field(default=0, ge=0)
    successRate: float | None = Field(default=None, gt=0, le=1)
    p95: Duration | None = None

    @field_validator("successRate", mode="before")
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
    # kind: drain (kubectl drain flags) and node-pool-upgrade (`force`: EKS's update force flag). Left
    # out of the dump (and the scenario hash) at their defaults: older plans hash as before.
    ignoreDaemonsets: bool = Field(default=False, exclude_if=lambda v: not v)
    deleteEmptydirData: bool = Field(default=False, exclude_if=lambda v: not v)
    force: bool = Field(default=False, exclude_if=lambda v: not v)
    gracePeriod: int = Field(default=-1, ge=-1, exclude_if=lambda v: v == -1)  # -1: the pod's own
    timeout: Duration = Field(default=0.0, exclude_if=lambda v: not v)  # 0: no limit
    disableEviction: bool = Field(default=False, exclude_if=lambda v: not v)
    # kind: node-pool-upgrade
    updateConfig: EKSUpdateConfig | None = Field(default=None, exclude_if=lambda v: v is None)
    upgradeSettings: UpgradeSettings | None = Field(default=None, exclude_if=lambda v: v is None)
    # kind: canary (Argo `canary` or Flagger `analysis`) and blue-green (Argo `blueGreen`)
    canary: ArgoCanary | None = Field(default=None, exclude_if=lambda v: v is None)
    analysis: FlaggerAnalysis | None = Field(default=None, exclude_if=lambda v: v is None)
    blueGreen: ArgoBlueGreen | None = Field(default=None, exclude_if=lambda v: v is None)
    metrics: CanaryMetrics | None = Field(default=None, exclude_if=lambda v: v is None)
    promote_after: Duration | None = Field(default=None, exclude_if=lambda v: v is None)  # a human's promote
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

    @model_validator(mode="before")
    @classmethod
    def _eks_strategy(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("kind") in NODE_KINDS
            and isinstance(data.get("strategy"), str)
        ):
            raise PathError(
                ("strategy",),
                "an EKS update strategy goes in updateConfig.updateStrategy (DEFAULT | MINIMAL)",
            )
        return data

    @model_validator(mode="after")
    def _settings_fit_kind(self) -> Plan:
        self._progressive_settings()
        if self.kind == "rollout" and self.updateStrategy is not None:
            raise PathError(("updateStrategy",), "is a StatefulSet setting; a rollout takes `strategy`")
        if self.kind == "statefulset-update" and self.strategy is not None:
            raise PathError(
                ("strategy",), "is a Deployment setting; a statefulset-update takes `updateStrategy`"
            )
        workload_only = ("strategy", "updateStrategy") if self.kind in NODE_KINDS else ()
        node_only = ("updateConfig", "upgradeSettings") if self.kind != "node-pool-upgrade" else ()
        for key in (*workload_only, *node_only):
            if key in self.model_fields_set:
                raise PathError((key,), f"is not a setting of a {self.kind} plan")
        return self

    def _progressive_settings(self) -> None:
        """canary: exactly one of `canary` (Argo) and `analysis` (Flagger); blue-green: `blueGreen`
        (optional); neither on other kinds, nor a Deployment `strategy` on a progressive plan."""
        own = {
            "canary": ("canary", "analysis", "metrics", "promote_after"),
            "blue-green": ("blueGreen", "promote_after"),
        }.get(self.kind, ())
        for key in ("canary", "analysis", "blueGreen", "metrics", "promote_after"):
            if key in self.model_fields_set and key not in own:
                raise PathError((key,), f"is not a setting of a {self.kind} plan")
        if self.kind in PROGRESSIVE_KINDS and self.strategy is not None:
            key = "canary" if self.kind == "canary" else "blueGreen"
            raise PathError(("strategy",), f"a {self.kind} plan takes `{key}` (Argo) instead of `strategy`")
        if self.kind == "canary":
            if (self.canary is None) == (self.analysis is None):
                raise PathError(
                    ("canary",),
                    "a canary plan takes `canary` (Argo Rollouts) or `analysis` (Flagger), one of them",
                )
            if self.analysis is not None and self.metrics is not None:
                raise PathError(("metrics",), "a Flagger canary takes its checks in analysis.metrics")

    @property
    def flagger(self) -> bool:
        """A Flagger canary (its `analysis`), not an Argo Rollout."""
        return self.kind == "canary" and self.analysis is not None

    @property
    def on_nodes(self) -> bool:
        """A node plan (drain, node-pool-upgrade): its target is a node pool, not a workload."""
        return self.kind in NODE_KINDS

    def node_selector(self) -> dict[str, str] | None:
        """A drain's target as a node selector ("key=value,..."), or None when it names a pool."""
        if "=" not in self.target:
            return None
        return dict(part.split("=", 1) for part in self.target.split(",") if part)

    @property
    def at_peak(self) -> bool:
        return isinstance(self.start, PlanStart)

    @property
    def start_s(self) -> float | None:
        """Seconds into the run, or None for `peak` (known only once the load is)."""
        return None if isinstance(self.start, PlanStart) else float(self.start)


def check_plan_references(
    plans: Sequence[Plan],
    kinds: dict[str, str],
    duration_s: float,
    pools: dict[str, dict[str, str]] | None = None,
    provider: str = "aws",
    zones: Sequence[str] = (),
) -> None:
    """Cross-references: unique names, a target workload of the right kind (a node pool for node
    plans, whose labels `pools` gives), the provider's own upgrade settings, a start within the run."""
    seen: set[str] = set()
    for i, plan in enumerate(plans):
        if plan.name in seen:
            raise PathError(("plans", i, "name"), f"duplicate plan name {plan.name!r}")
        seen.add(plan.name)
        if plan.on_nodes:
            _check_node_plan(i, plan, pools or {}, provider, zones)
            _check_start(i, plan, duration_s)
            continue
        kind = kinds.get(plan.target)
        if kind is None:
            raise PathError(("plans", i, "target"), f"unknown workload {plan.target!r}")
        wanted = KIND_OF_TARGET[plan.kind]
        if kind != wanted:
            raise PathError(
                ("plans", i, "kind"),
                f"a {plan.kind} needs a {wanted}, but {plan.target!r} is a {kind}",
            )
        _check_start(i, plan, duration_s)


def _check_start(i: int, plan: Plan, duration_s: float) -> None:
    start = plan.start_s
    if start is not None and start >= duration_s:
        raise PathError(
            ("plans", i, "start"),
            f"starts at {format_duration(start)}, at or after the end of the run "
            f"({format_duration(duration_s)})",
        )


def _check_node_plan(
    i: int, plan: Plan, pools: dict[str, dict[str, str]], provider: str, zones: Sequence[str]
) -> None:
    """A node plan's target (a pool, or for a drain a selector some pool's nodes can match) and,
    for an upgrade, settings of the cluster's provider only."""
    known = ", ".join(pools)
    selector = plan.node_selector() if plan.kind == "drain" else None
    if selector is None and plan.target not in pools:
        raise PathError(("plans", i, "target"), f"unknown node pool {plan.target!r}; known: {known}")
    if selector is not None:
        if any(not k or not v for k, v in selector.items()):
            raise PathError(
                ("plans", i, "target"), f"expected a node pool or key=value[,key=value], got {plan.target!r}"
            )
        zone = selector.get(ZONE_LABEL)
        rest = {k: v for k, v in selector.items() if k != ZONE_LABEL}
        if (zone is not None and zone not in zones) or not any(
            all(labels.get(k) == v for k, v in rest.items()) for labels in pools.values()
        ):
            raise PathError(
                ("plans", i, "target"), f"node selector {plan.target!r} matches no node pool's nodes"
            )
    if plan.kind != "node-pool-upgrade":
        return
    name = PROVIDER_NAME[provider]
    if provider == "aws":
        if plan.upgradeSettings is not None:
            raise PathError(
                ("plans", i, "upgradeSettings"),
                "is a GKE/AKS setting; an EKS managed node group takes updateConfig",
            )
        return
    if plan.updateConfig is not None:
        raise PathError(
            ("plans", i, "updateConfig"), f"is an EKS setting; a {name} node pool takes upgradeSettings"
        )
    if plan.force:
        raise PathError(("plans", i, "force"), f"is an EKS setting; a {name} node pool has no force flag")
    settings = plan.upgradeSettings
    if settings is None:
        return
    own, other = (GKE_FIELDS, "AKS") if provider == "gcp" else (AKS_FIELDS, "GKE")
    for key in sorted(settings.model_fields_set):
        if key not in own:
            raise PathError(
                ("plans", i, "upgradeSettings", key),
                f"is an {other} setting; {name} upgradeSettings takes {', '.join(own)}",
            )
    if provider == "gcp":
        for key in ("maxSurge", "maxUnavailable"):
            if isinstance(getattr(settings, key), str):
                raise PathError(
                    ("plans", i, "upgradeSettings", key), "GKE takes a node count, not a percentage"
                )
        surge = settings.maxSurge if settings.maxSurge is not None else 1
        unavailable = settings.maxUnavailable if settings.maxUnavailable is not None else 0
        if settings.strategy != "BLUE_GREEN" and surge == 0 and unavailable == 0:
            raise PathError(
                ("plans", i, "upgradeSettings", "maxUnavailable"),
                "maxSurge and maxUnavailable cannot both be 0",
            )
