"""Plain value types the pure controllers (scheduler, cluster autoscaler) reason about.

They mirror the Kubernetes objects the real controllers read, in simkit's internal units
(CPU in millicores, memory in MiB, time in seconds). No simpy, no pandas: the engine builds
these views from its state and hands them to the controllers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Labels = Mapping[str, str]

ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"


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

    @property
    def zone(self) -> str:
        return self.labels.get(ZONE_LABEL, "")
