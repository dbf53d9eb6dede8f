"""Value types of the Horizontal Pod Autoscaler model: spec, controller flags, observation, state.

All frozen dataclasses holding tuples and read-only mappings, so that `decide` can be a pure
function: it takes these values and returns new ones, never changing what it was given.
Units: replica counts are ints, metric values are milli-units (Go `Quantity.MilliValue()`),
times are absolute seconds on the simulation clock (the caller's `now`).
Source tags (HZ, RC, UT, KCM, API) refer to the table in shared/reference/hpa_spec.md §0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1

# Metric source types and target types of autoscaling/v2.
RESOURCE = "Resource"
CONTAINER_RESOURCE = "ContainerResource"
PODS = "Pods"
OBJECT = "Object"
EXTERNAL = "External"
METRIC_TYPES = (RESOURCE, CONTAINER_RESOURCE, PODS, OBJECT, EXTERNAL)
UTILIZATION = "Utilization"
AVERAGE_VALUE = "AverageValue"
VALUE = "Value"

# Scaling policy types and select policies (autoscaling/v2 HPAScalingPolicyType / ScalingPolicySelect).
POLICY_PODS = "Pods"
POLICY_PERCENT = "Percent"
SELECT_MAX = "Max"
SELECT_MIN = "Min"
SELECT_DISABLED = "Disabled"

_EMPTY: Mapping[str, int] = MappingProxyType({})


def frozen_mapping(values: Mapping[str, int] | None) -> Mapping[str, int]:
    """A read-only copy of `values`, so frozen dataclasses cannot be changed through a shared dict.

    The module's own empty mapping is returned as is: nobody holds its dict, so it cannot change.
    """
    if values is _EMPTY:
        return _EMPTY
    return MappingProxyType(dict(values or {}))


# ---------------------------------------------------------------------------------------------
# Spec
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricTarget:
    """`target` of a metric: type Utilization (percent of request), AverageValue or Value (milli)."""

    type: str
    average_utilization: int | None = None
    average_value_milli: int | None = None
    value_milli: int | None = None


@dataclass(frozen=True)
class MetricSpec:
    """One entry of `spec.metrics`.

    `name` is the resource name (cpu, memory) for Resource/ContainerResource, else the metric
    name; the observation's Pods/Object/External values are looked up by this name.
    """

    type: str
    name: str
    target: MetricTarget
    container: str | None = None  # ContainerResource only

    @cached_property
    def label(self) -> str:
        """Human name of the metric, worded like the upstream controller's (HZ computeStatusFor*).

        Computed once per spec (the dataclass is frozen; the cache lives outside its fields).
        """
        if self.type == RESOURCE:
            if self.target.type == UTILIZATION:
                return f"{self.name} resource utilization (percentage of request)"
            return f"{self.name} resource"
        if self.type == CONTAINER_RESOURCE:
            if self.target.type == UTILIZATION:
                return f"{self.name} container resource utilization (percentage of request)"
            return f"{self.name} container resource"
        if self.type == PODS:
            return f"pods metric {self.name}"
        if self.type == OBJECT:
            return f"object metric {self.name}"
        if self.type == EXTERNAL:
            return f"external metric {self.name}"
        return f"{self.type} metric {self.name}"


@dataclass(frozen=True)
class ScalingPolicy:
    """`HPAScalingPolicy`: allow `value` Pods or Percent of change per `period_s` seconds."""

    type: str
    value: int
    period_s: int


@dataclass(frozen=True)
class ScalingRules:
    """`HPAScalingRules` of one direction, after API defaulting.

    `stabilization_window_s` may be None only for scale-down: the controller then uses its
    `--horizontal-pod-autoscaler-downscale-stabilization` flag (HZ maybeInitScaleDownStabilizationWindow).
    `tolerance` None means the controller-wide tolerance applies (HZ tolerancesForHpa).
    """

    policies: tuple[ScalingPolicy, ...]
    select_policy: str = SELECT_MAX
    stabilization_window_s: int | None = None
    tolerance: float | None = None

    @property
    def longest_period_s(self) -> int:
        """Longest policy period: events older than this are outdated (HZ getLongestPolicyPeriod)."""
        return max((p.period_s for p in self.policies), default=0)


# Defaults of GenerateHPAScaleUpRules (API pkg/apis/autoscaling/v2/defaults.go): no stabilization,
# add max(4 pods, 100%) per 15 s.
DEFAULT_SCALE_UP_RULES = ScalingRules(
    policies=(ScalingPolicy(POLICY_PODS, 4, 15), ScalingPolicy(POLICY_PERCENT, 100, 15)),
    select_policy=SELECT_MAX,
    stabilization_window_s=0,
)
# Defaults of GenerateHPAScaleDownRules (API defaults.go): remove up to 100% per 15 s; the window is
# left unset so that the controller flag applies (HZ maybeInitScaleDownStabilizationWindow).
DEFAULT_SCALE_DOWN_RULES = ScalingRules(
    policies=(ScalingPolicy(POLICY_PERCENT, 100, 15),),
    select_policy=SELECT_MAX,
    stabilization_window_s=None,
)


@dataclass(frozen=True)
class HPABehavior:
    """`spec.behavior` after API defaulting: both directions are always filled in."""

    scale_up: ScalingRules = DEFAULT_SCALE_UP_RULES
    scale_down: ScalingRules = DEFAULT_SCALE_DOWN_RULES


# An HPA without metrics is defaulted to CPU at 80% of request (API SetDefaults_HorizontalPodAutoscaler,
# autoscaling.DefaultCPUUtilization).
DEFAULT_METRICS = (MetricSpec(RESOURCE, "cpu", MetricTarget(UTILIZATION, average_utilization=80)),)


@dataclass(frozen=True)
class HPASpec:
    """The `spec` of a HorizontalPodAutoscaler (autoscaling/v2), defaulted and validated.

    `behavior` None selects the legacy normalization path (HZ normalizeDesiredReplicas); API
    defaulting never creates a behavior that the user did not write (hpa_spec.md §7).
    """

    max_replicas: int
    min_replicas: int = 1  # API SetDefaults_HorizontalPodAutoscaler
    metrics: tuple[MetricSpec, ...] = DEFAULT_METRICS
    behavior: HPABehavior | None = None


# ---------------------------------------------------------------------------------------------
# Controller flags
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HPAControllerConfig:
    """kube-controller-manager HPA flags, defaults from KCM RecommendedDefaultHPAControllerConfiguration.

    `scale_up_limit_factor` / `scale_up_limit_minimum` are not flags but package variables of HZ
    (`scaleUpLimitFactor = 2.0`, `scaleUpLimitMinimum = 4.0`) used by the legacy path; upstream
    tests set the factor to 8. Every field is a float, so a mapping of parsed flag values can be
    splatted in. The HPAConfigurableTolerance gate (beta, on by default; hpa_spec.md §9) is taken
    as on: to model a cluster without it, leave `behavior.*.tolerance` unset.
    """

    sync_period_s: float = 15.0  # --horizontal-pod-autoscaler-sync-period
    tolerance: float = 0.1  # --horizontal-pod-autoscaler-tolerance
    downscale_stabilization_s: float = 300.0  # --horizontal-pod-autoscaler-downscale-stabilization
    cpu_initialization_period_s: float = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
    initial_readiness_delay_s: float = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay
    scale_up_limit_factor: float = 2.0  # HZ scaleUpLimitFactor
    scale_up_limit_minimum: float = 4.0  # HZ scaleUpLimitMinimum


@dataclass(frozen=True)
class Tolerances:
    """Per-direction tolerance (RC Tolerances): a ratio r is within iff 1-down <= r <= 1+up."""

    scale_down: float = 0.1
    scale_up: float = 0.1

    def is_within(self, ratio: float) -> bool:
        """True when the usage ratio is close enough to 1 that no scaling happens (RC isWithin)."""
        return (1.0 - self.scale_down) <= ratio <= (1.0 + self.scale_up)


# ---------------------------------------------------------------------------------------------
# Observation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerSample:
    """A container of a pod: its requests and its current usage (per resource, milli-units).

    A resource absent from `usage` means the metrics API has no sample for it; a resource absent
    from `requests` means the container sets no request. List sidecars (restartable init
    containers) here too: upstream counts their requests (RC calculateRequests).
    """

    name: str
    requests: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    usage: Mapping[str, int] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        if self.requests is not _EMPTY:
            object.__setattr__(self, "requests", frozen_mapping(self.requests))
        if self.usage is not _EMPTY:
            object.__setattr__(self, "usage", frozen_mapping(self.usage))


@dataclass(frozen=True)
class PodSample:
    """A pod matched by the HPA's selector, as the controller sees it at one sync.

    `ready` is the PodReady condition (None: no such condition). `start_time` is status.startTime
    (None: not set). `ready_transition_time` is the condition's lastTransitionTime (None: equal to
    `start_time`). `metric_time` / `metric_window_s` are the resource-metrics sample's timestamp
    and window (None: sampled at `now`). `metrics` holds Pods-metric values by metric name.
    The resource metrics API returned a PodMetrics item for the pod iff some container reports
    some usage; an item whose containers lack the resource is a pod with a missing metric, not an
    empty API answer (metrics/client.go getPodMetrics).
    """

    name: str
    start_time: float | None
    phase: str = "Running"
    ready: bool | None = True
    deleting: bool = False
    ready_transition_time: float | None = None
    containers: tuple[ContainerSample, ...] = ()
    metric_time: float | None = None
    metric_window_s: float = 60.0
    metrics: Mapping[str, int] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        if self.metrics is not _EMPTY:
            object.__setattr__(self, "metrics", frozen_mapping(self.metrics))
        if type(self.containers) is not tuple:
            object.__setattr__(self, "containers", tuple(self.containers))


@dataclass(frozen=True)
class HPAObservation:
    """What the metrics pipeline hands the controller at one sync.

    `spec_replicas` / `status_replicas` are the scale subresource's spec and status replica counts.
    `object_values` maps an Object metric's name to its value; `external_values` maps an External
    metric's name to all series matching its selector (they are summed). A metric name absent from
    these maps means fetching it failed. `ambiguous_selector`: another HPA selects the same pods.
    """

    spec_replicas: int
    status_replicas: int
    pods: tuple[PodSample, ...] = ()
    object_values: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    external_values: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    ambiguous_selector: bool = False

    def __post_init__(self) -> None:
        if type(self.pods) is not tuple:
            object.__setattr__(self, "pods", tuple(self.pods))
        if self.object_values is not _EMPTY:
            object.__setattr__(self, "object_values", frozen_mapping(self.object_values))
        external = {k: tuple(v) for k, v in (self.external_values or {}).items()}
        object.__setattr__(self, "external_values", MappingProxyType(external))


# ---------------------------------------------------------------------------------------------
# State and decision
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """An unstabilized replica recommendation and when it was made (HZ timestampedRecommendation)."""

    value: int
    time: float


@dataclass(frozen=True)
class ScaleEvent:
    """A past rescale: absolute change, when, and whether its slot is reusable (HZ timestampedScaleEvent)."""

    change: int
    time: float
    outdated: bool = False


@dataclass(frozen=True)
class HPAState:
    """The controller's in-memory record of one HPA (HZ recommendations, scaleUpEvents, scaleDownEvents).

    `initialized` False means the controller has never seen this HPA (or restarted): the first
    sync then records the current replica count as a recommendation (HZ recordInitialRecommendation).
    """

    recommendations: tuple[Recommendation, ...] = ()
    scale_up_events: tuple[ScaleEvent, ...] = ()
    scale_down_events: tuple[ScaleEvent, ...] = ()
    initialized: bool = False


@dataclass(frozen=True)
class HPACondition:
    """A status condition: type AbleToScale, ScalingActive or ScalingLimited."""

    type: str
    status: bool
    reason: str
    message: str


@dataclass(frozen=True)
class MetricProposal:
    """What one metric proposed: a replica count and the current value, or the error it hit.

    On failure `error` is what HZ computeReplicasForMetric returns (e.g. "failed to get cpu resource
    metric value: failed to get cpu utilization: ...") and `condition_error` the error in the
    metric's ScalingActive condition and its `error_reason` event ("failed to get cpu utilization: ...").
    """

    metric: str
    replicas: int | None
    current_milli: int | None = None  # raw average / value / average value, milli-units
    current_utilization: int | None = None  # percent of request (Utilization targets)
    error_reason: str | None = None
    error: str | None = None
    condition_error: str | None = None


@dataclass(frozen=True)
class HPADecision:
    """Result of one sync: the replica count to apply, why, and the HPA's new in-memory state."""

    desired_replicas: int
    reason: str
    message: str
    metric_proposals: tuple[MetricProposal, ...]
    state: HPAState
    conditions: tuple[HPACondition, ...] = ()

    def condition(self, type_: str) -> HPACondition | None:
        """The condition of the given type, if this sync set it."""
        return next((c for c in self.conditions if c.type == type_), None)
