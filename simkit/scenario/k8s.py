"""Pod-spec pieces with Kubernetes' own field names, so values pasted from manifests validate as-is.

Only the fields simkit models are accepted; an unknown field is an error, not silently ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from simkit.scenario.base import CPU, Duration, Memory, StrictModel
from simkit.units import parse_quantity

Effect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class ResourceList(StrictModel):
    cpu: CPU = 0
    memory: Memory = 0.0


class Resources(StrictModel):
    requests: ResourceList = ResourceList()
    limits: ResourceList | None = None

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> Resources:
        """The API server refuses a request above its limit (core/v1 ValidateResourceRequirements)."""
        if self.limits is not None:
            for name in self.limits.model_fields_set & {"cpu", "memory"}:
                limit, request = getattr(self.limits, name), getattr(self.requests, name)
                if limit < request:
                    raise ValueError(f"limits.{name} must be >= requests.{name} ({request}), got {limit}")
        return self


class TaintSpec(StrictModel):
    key: str
    value: str = ""
    effect: Effect = "NoSchedule"


class TolerationSpec(StrictModel):
    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"] = ""
    tolerationSeconds: int | None = None


class NodeSelectorRequirementSpec(StrictModel):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[str] = []


class NodeSelectorTermSpec(StrictModel):
    matchExpressions: list[NodeSelectorRequirementSpec] = []


class NodeSelectorSpec(StrictModel):
    nodeSelectorTerms: list[NodeSelectorTermSpec]


class PreferredSchedulingTermSpec(StrictModel):
    weight: int = Field(ge=1, le=100)
    preference: NodeSelectorTermSpec


class NodeAffinitySpec(StrictModel):
    requiredDuringSchedulingIgnoredDuringExecution: NodeSelectorSpec | None = None
    preferredDuringSchedulingIgnoredDuringExecution: list[PreferredSchedulingTermSpec] = []


class LabelSelectorSpec(StrictModel):
    matchLabels: dict[str, str] = {}


class PodAffinityTermSpec(StrictModel):
    labelSelector: LabelSelectorSpec = LabelSelectorSpec()
    topologyKey: str


class WeightedPodAffinityTermSpec(StrictModel):
    weight: int = Field(ge=1, le=100)
    podAffinityTerm: PodAffinityTermSpec


class PodAffinitySpec(StrictModel):
    requiredDuringSchedulingIgnoredDuringExecution: list[PodAffinityTermSpec] = []
    preferredDuringSchedulingIgnoredDuringExecution: list[WeightedPodAffinityTermSpec] = []


class AffinitySpec(StrictModel):
    nodeAffinity: NodeAffinitySpec | None = None
    podAffinity: PodAffinitySpec | None = None
    podAntiAffinity: PodAffinitySpec | None = None


class TopologySpreadConstraintSpec(StrictModel):
    maxSkew: int = Field(ge=1)
    topologyKey: str
    whenUnsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    labelSelector: LabelSelectorSpec = LabelSelectorSpec()
    minDomains: int | None = Field(default=None, ge=1)


class HTTPHeader(StrictModel):
    name: str
    value: str


class HTTPGetAction(StrictModel):
    """core/v1 HTTPGetAction: every field Kubernetes has, no other."""

    path: str | None = None
    port: int | str
    host: str | None = None
    scheme: Literal["HTTP", "HTTPS"] | None = None
    httpHeaders: list[HTTPHeader] | None = None


class TCPSocketAction(StrictModel):
    port: int | str
    host: str | None = None


class ExecAction(StrictModel):
    command: list[str] | None = None


class GRPCAction(StrictModel):
    port: int
    service: str | None = None


class ProbeSpec(StrictModel):
    """Probe timing; the handler (httpGet, tcpSocket, exec, grpc) is checked field by field as core/v1
    defines it, then ignored by the model (simkit does not send probes)."""

    httpGet: HTTPGetAction | None = None
    tcpSocket: TCPSocketAction | None = None
    exec: ExecAction | None = None
    grpc: GRPCAction | None = None
    terminationGracePeriodSeconds: int | None = Field(default=None, ge=1)
    initialDelaySeconds: int = Field(default=0, ge=0)
    periodSeconds: int = Field(default=10, ge=1)  # Kubernetes default (core/v1 Probe)
    timeoutSeconds: int = Field(default=1, ge=1)
    successThreshold: int = Field(default=1, ge=1)
    failureThreshold: int = Field(default=3, ge=1)


class KeyRef(StrictModel):
    name: str
    key: str
    optional: bool | None = None


class FieldRef(StrictModel):
    fieldPath: str
    apiVersion: str | None = None


class EnvVarSource(StrictModel):
    secretKeyRef: KeyRef | None = None
    configMapKeyRef: KeyRef | None = None
    fieldRef: FieldRef | None = None

    @model_validator(mode="after")
    def _one(self) -> EnvVarSource:
        if sum(x is not None for x in (self.secretKeyRef, self.configMapKeyRef, self.fieldRef)) != 1:
            raise ValueError("give exactly one of secretKeyRef, configMapKeyRef or fieldRef")
        return self


class EnvVar(StrictModel):
    """A container environment variable: a plain value, or a reference (secrets only by reference)."""

    name: str
    value: str | None = None
    valueFrom: EnvVarSource | None = None

    @model_validator(mode="after")
    def _value_or_reference(self) -> EnvVar:
        if (self.value is None) == (self.valueFrom is None):
            raise ValueError("give exactly one of value or valueFrom")
        return self


class PDBSpec(StrictModel):
    """policy/v1 PodDisruptionBudget spec: exactly one of minAvailable / maxUnavailable (int or "50%")."""

    minAvailable: int | str | None = None
    maxUnavailable: int | str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> PDBSpec:
        if (self.minAvailable is None) == (self.maxUnavailable is None):
            raise ValueError("give exactly one of minAvailable or maxUnavailable")
        for value in (self.minAvailable, self.maxUnavailable):
            if isinstance(value, int) and value < 0:
                raise ValueError(f"must be >= 0 (policy/v1 validation), got {value}")
            if isinstance(value, str) and not (value.endswith("%") and value[:-1].isdigit()):
                raise ValueError(f"expected an integer or a percentage such as '50%', got {value!r}")
        return self

    def allowed_disruptions(self, desired: int, healthy: int) -> int:
        """Pods that may be evicted now (policy/v1 semantics; percentages round up, as the API does)."""
        if self.minAvailable is not None:
            need = _scaled(self.minAvailable, desired)
            return max(0, healthy - need)
        assert self.maxUnavailable is not None
        return max(0, healthy - (desired - _scaled(self.maxUnavailable, desired)))


def _scaled(value: int | str, total: int) -> int:
    if isinstance(value, int):
        return value
    pct = int(value[:-1])
    return -(-pct * total // 100)


class HPAMetricTarget(StrictModel):
    type: Literal["Utilization", "AverageValue", "Value"]
    averageUtilization: int | None = Field(default=None, ge=1)
    averageValue: str | int | float | None = None
    value: str | int | float | None = None

    @field_validator("averageValue", "value")
    @classmethod
    def _quantity(cls, v: str | int | float | None) -> str | int | float | None:
        if v is not None:
            parse_quantity(v)
        return v


class HPAMetricSpec(StrictModel):
    """autoscaling/v2 MetricSpec; the nested source objects are checked by the HPA controller."""

    type: Literal["Resource", "ContainerResource", "Pods", "Object", "External"]
    resource: dict[str, Any] | None = None
    containerResource: dict[str, Any] | None = None
    pods: dict[str, Any] | None = None
    object: dict[str, Any] | None = None
    external: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _selectors(self) -> HPAMetricSpec:
        """A metric's label selector has meta/v1 LabelSelector's fields only (`replicaz` is refused)."""
        for source in (self.pods, self.object, self.external):
            metric = (source or {}).get("metric")
            selector = metric.get("selector") if isinstance(metric, dict) else None
            if isinstance(selector, dict):
                unknown = sorted(set(selector) - {"matchLabels", "matchExpressions"})
                if unknown:
                    raise ValueError(
                        f"metric.selector.{unknown[0]}: unknown key (expected matchLabels, matchExpressions)"
                    )
        return self


class HPAScalingPolicy(StrictModel):
    type: Literal["Pods", "Percent"]
    value: int = Field(ge=1)
    periodSeconds: int = Field(ge=1, le=1800)


class HPAScalingRules(StrictModel):
    stabilizationWindowSeconds: int | None = Field(default=None, ge=0, le=3600)
    selectPolicy: Literal["Max", "Min", "Disabled"] | None = None
    policies: list[HPAScalingPolicy] | None = None
    tolerance: str | float | None = None


class HPABehavior(StrictModel):
    scaleUp: HPAScalingRules | None = None
    scaleDown: HPAScalingRules | None = None


class HPASpecModel(StrictModel):
    """autoscaling/v2 HorizontalPodAutoscalerSpec without scaleTargetRef (the workload is the target)."""

    minReplicas: int = Field(default=1, ge=0)
    maxReplicas: int = Field(ge=1)
    metrics: list[HPAMetricSpec] = []
    behavior: HPABehavior | None = None

    @field_validator("maxReplicas")
    @classmethod
    def _max_ge_min(cls, v: int, info: Any) -> int:
        lo = info.data.get("minReplicas")
        if lo is not None and v < lo:
            raise ValueError(f"must be >= minReplicas ({lo}), got {v}")
        return v


__all__ = [
    "AffinitySpec",
    "HPASpecModel",
    "PDBSpec",
    "ProbeSpec",
    "Resources",
    "TaintSpec",
    "TolerationSpec",
    "TopologySpreadConstraintSpec",
    "Duration",
]
