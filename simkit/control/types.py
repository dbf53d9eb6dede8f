"""Plain value types the pure controllers (scheduler, cluster autoscaler) reason about.

They mirror the Kubernetes objects the real controllers read, in simkit's internal units
(CPU in millicores, memory in MiB, time in seconds). No simpy, no pandas: the engine builds
these views from its state and hands them to the controllers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

Labels = Mapping[str, str]

ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"

# Non-zero request defaults the scheduler uses for *scoring* a pod that requests nothing
# (kubernetes/kubernetes pkg/scheduler/util/pod_resources.go: DefaultMilliCPURequest = 100,
# DefaultMemoryRequest = 200 * 1024 * 1024 bytes).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST_MIB = 200.0


@dataclass(frozen=True)
class Taint:
    """A node taint (`key=value:effect`); effect is NoSchedule, PreferNoSchedule or NoExecute."""

    key: str
    value: str = ""
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class Toleration:
    """A pod toleration; operator is Equal or Exists; empty key with Exists tolerates everything."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""
    toleration_seconds: float | None = None


@dataclass(frozen=True)
class NodeSelectorRequirement:
    """One match expression: operator In, NotIn, Exists, DoesNotExist, Gt or Lt."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeSelectorTerm:
    """All requirements must hold (AND); a list of terms is OR-ed, as in Kubernetes."""

    match_expressions: tuple[NodeSelectorRequirement, ...] = ()


@dataclass(frozen=True)
class PreferredSchedulingTerm:
    weight: int
    preference: NodeSelectorTerm


@dataclass(frozen=True)
class PodAffinityTerm:
    """A (anti-)affinity term: pods matching `match_labels` within the `topology_key` domain."""

    match_labels: Mapping[str, str]
    topology_key: str
    weight: int = 0  # only meaningful for preferred terms


@dataclass(frozen=True)
class TopologySpreadConstraint:
    max_skew: int
    topology_key: str
    when_unsatisfiable: str  # DoNotSchedule | ScheduleAnyway
    match_labels: Mapping[str, str]
    min_domains: int | None = None


@dataclass(frozen=True)
class PodSpec:
    """What the scheduler needs to know about a pod to place it."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    cpu_m: int = 0
    mem_mib: float = 0.0
    tolerations: tuple[Toleration, ...] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    required_node_affinity: tuple[NodeSelectorTerm, ...] = ()  # OR of terms; empty = no constraint
    preferred_node_affinity: tuple[PreferredSchedulingTerm, ...] = ()
    required_pod_affinity: tuple[PodAffinityTerm, ...] = ()
    preferred_pod_affinity: tuple[PodAffinityTerm, ...] = ()
    required_pod_anti_affinity: tuple[PodAffinityTerm, ...] = ()
    preferred_pod_anti_affinity: tuple[PodAffinityTerm, ...] = ()
    topology_spread: tuple[TopologySpreadConstraint, ...] = ()
    # Default spreading (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway) applies only when the
    # pod has no constraints of its own and a Service/ReplicaSet/StatefulSet selects it.
    selected_by_controller: bool = True


@dataclass(frozen=True)
class BoundPodAffinity:
    """The (anti-)affinity terms of a pod already bound to a node.

    The scheduler needs them for the symmetric checks: an existing pod's required anti-affinity can
    reject the incoming pod (filter), and its required/preferred terms add to InterPodAffinity scores.
    """

    required_affinity: tuple[PodAffinityTerm, ...] = ()
    required_anti_affinity: tuple[PodAffinityTerm, ...] = ()
    preferred_affinity: tuple[PodAffinityTerm, ...] = ()
    preferred_anti_affinity: tuple[PodAffinityTerm, ...] = ()

    @classmethod
    def of(cls, pod: PodSpec) -> BoundPodAffinity | None:
        """The terms of `pod`, or None when it has none (so nodes only carry pods that matter)."""
        terms = cls(
            pod.required_pod_affinity,
            pod.required_pod_anti_affinity,
            pod.preferred_pod_affinity,
            pod.preferred_pod_anti_affinity,
        )
        return terms if terms.any() else None

    def any(self) -> bool:
        return bool(
            self.required_affinity
            or self.required_anti_affinity
            or self.preferred_affinity
            or self.preferred_anti_affinity
        )


@dataclass(frozen=True)
class NodeView:
    """A node as the scheduler sees it: labels (incl. zone and hostname), taints, free capacity, pods."""

    name: str
    labels: Mapping[str, str]
    taints: tuple[Taint, ...] = ()
    alloc_cpu_m: int = 0
    alloc_mem_mib: float = 0.0
    requested_cpu_m: int = 0
    requested_mem_mib: float = 0.0
    pod_labels: tuple[Mapping[str, str], ...] = ()  # labels of pods already bound to this node
    unschedulable: bool = False  # cordoned
    # Affinity terms of the bound pods that have any (order/length independent of pod_labels).
    pod_affinity: tuple[BoundPodAffinity, ...] = ()
    # Labels of the bound pods that are not terminating: PodTopologySpread skips pods with a
    # deletionTimestamp (upstream podtopologyspread countPodsMatchSelector). None = all of pod_labels.
    spread_pod_labels: tuple[Mapping[str, str], ...] | None = None
    # Max pods (kubelet maxPods); None = not enforced. Counted against len(pod_labels).
    alloc_pods: int | None = None
    # Sum of the bound pods' requests with the scheduler's non-zero defaults (100m / 200MiB for a
    # pod that requests nothing), used only by LeastAllocated scoring; None = same as requested_*.
    nonzero_requested_cpu_m: int | None = None
    nonzero_requested_mem_mib: float | None = None

    @property
    def zone(self) -> str:
        return self.labels.get(ZONE_LABEL, "")

    @property
    def hostname(self) -> str:
        """The `kubernetes.io/hostname` label, or the node name when the label is absent."""
        return self.labels.get(HOSTNAME_LABEL, self.name)

    @property
    def nonzero_cpu_m(self) -> int:
        """Requested CPU as LeastAllocated counts it (non-zero defaults applied per pod)."""
        return self.requested_cpu_m if self.nonzero_requested_cpu_m is None else self.nonzero_requested_cpu_m

    @property
    def nonzero_mem_mib(self) -> float:
        """Requested memory as LeastAllocated counts it (non-zero defaults applied per pod)."""
        if self.nonzero_requested_mem_mib is None:
            return self.requested_mem_mib
        return self.nonzero_requested_mem_mib

    def with_pod(self, pod: PodSpec) -> NodeView:
        """A copy of this node with `pod` bound to it (requests, labels and affinity terms added)."""
        terms = BoundPodAffinity.of(pod)
        return replace(
            self,
            requested_cpu_m=self.requested_cpu_m + pod.cpu_m,
            requested_mem_mib=self.requested_mem_mib + pod.mem_mib,
            nonzero_requested_cpu_m=self.nonzero_cpu_m + (pod.cpu_m or DEFAULT_MILLI_CPU_REQUEST),
            nonzero_requested_mem_mib=self.nonzero_mem_mib + (pod.mem_mib or DEFAULT_MEMORY_REQUEST_MIB),
            pod_labels=(*self.pod_labels, pod.labels),
            pod_affinity=self.pod_affinity if terms is None else (*self.pod_affinity, terms),
        )
