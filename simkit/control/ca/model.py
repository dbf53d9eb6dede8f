"""Value types of the Cluster Autoscaler controller: node groups, CA's view of pods and nodes, state.

`simkit.control.types` holds what the scheduler needs (PodSpec, NodeView). The CA needs a few more
facts the scheduler does not (pod owner, annotations, creation time, volumes, PDBs; node readiness,
group, capacity, GPUs), so `CAPod` and `CANode` wrap those types instead of changing them. A bare
PodSpec / NodeView is accepted wherever a CAPod / CANode is, with the defaults documented below.
All types are frozen; state is replaced, never mutated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from simkit.control.scheduler import filter_node
from simkit.control.types import NodeView, PodSpec

__all__ = [
    "FitFn",
    "NodeGroup",
    "CAPod",
    "CANode",
    "Volume",
    "PodDisruptionBudget",
    "BackoffEntry",
    "ScaleUpRequest",
    "CAState",
    "as_ca_pod",
    "as_ca_node",
    "default_fit",
    "ANN_SAFE_TO_EVICT",
    "ANN_SAFE_TO_EVICT_LOCAL_VOLUMES",
    "ANN_SCALE_DOWN_DISABLED",
    "ANN_POD_SCALE_UP_DELAY",
    "ANN_DAEMONSET_POD",
]

# Annotation keys (`CA137:utils/drain/drain.go`, `core/scaledown/eligibility/eligibility.go`,
# `core/static_autoscaler.go`).
ANN_SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict"
ANN_SAFE_TO_EVICT_LOCAL_VOLUMES = "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes"
ANN_SCALE_DOWN_DISABLED = "cluster-autoscaler.kubernetes.io/scale-down-disabled"
ANN_POD_SCALE_UP_DELAY = "cluster-autoscaler.kubernetes.io/pod-scale-up-delay"
# `CA137:utils/pod/pod.go` DaemonSetPodAnnotationKey: a pod of a custom DaemonSet-like controller.
ANN_DAEMONSET_POD = "cluster-autoscaler.kubernetes.io/daemonset-pod"

FitFn = Callable[[PodSpec, NodeView, Sequence[NodeView]], "str | None"]
"""The scheduler's `filter_node(pod, node, nodes)`: None if the pod fits, else the reason."""


def default_fit() -> FitFn:
    """The scheduler's `filter_node` (`simkit.control.scheduler`), the fit test CA simulations use."""
    return filter_node


@dataclass(frozen=True)
class NodeGroup:
    """A cloud node group (ASG / MIG / VMSS) as the CA sees it through the cloud provider.

    `template` is the node a new member would be (allocatable net of DaemonSet pods in its
    `requested_*`, labels, taints). Capacity defaults to allocatable; least-waste uses capacity.
    """

    name: str
    min_size: int
    max_size: int
    target_size: int
    template: NodeView
    price_per_hour: float = 0.0
    zone: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    capacity_cpu_m: int | None = None
    capacity_mem_mib: float | None = None
    gpus: int = 0
    exists: bool = True  # False for a node-auto-provisioning candidate (price expander ×2)

    @property
    def cpu_capacity(self) -> int:
        return self.template.alloc_cpu_m if self.capacity_cpu_m is None else self.capacity_cpu_m

    @property
    def mem_capacity(self) -> float:
        return self.template.alloc_mem_mib if self.capacity_mem_mib is None else self.capacity_mem_mib


@dataclass(frozen=True)
class Volume:
    """A pod volume, as far as drainability cares: kind is hostPath, emptyDir, pvc, configMap..."""

    name: str
    kind: str = "emptyDir"
    medium: str = ""  # "Memory" for tmpfs emptyDir (not local storage)


@dataclass(frozen=True)
class CAPod:
    """A pod with the metadata CA reads besides its scheduling spec.

    Defaults describe an ordinary Deployment pod: owned by a ReplicaSet, created long ago,
    priority 0, no annotations, no local storage.
    """

    spec: PodSpec
    namespace: str = "default"
    owner_kind: str | None = "ReplicaSet"  # None = no controller; DaemonSet, StatefulSet, Job, ...
    controller_exists: bool = True
    controller_replicas: int | None = None  # RC/RS spec.replicas, for --min-replica-count
    mirror: bool = False
    annotations: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    created_at: float = -math.inf
    deletion_timestamp: float | None = None
    termination_grace_s: float = 30.0  # DefaultTerminationGracePeriodSeconds (k8s.io/api core/v1)
    phase: str = "Running"
    volumes: tuple[Volume, ...] = ()
    gpus: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def daemonset(self) -> bool:
        """Owned by a DaemonSet, or annotated daemonset-pod=true (`CA137:utils/pod/pod.go` IsDaemonSetPod)."""
        return self.owner_kind == "DaemonSet" or self.annotations.get(ANN_DAEMONSET_POD) == "true"


@dataclass(frozen=True)
class CANode:
    """A registered node as CA sees it: the scheduler view plus group, readiness and deletion state.

    `deletion` is "empty" or "drain" while CA is deleting the node, else None; `deletion_started_at`
    is when CA tainted it ToBeDeletedByClusterAutoscaler (a taint of that key in `view.taints`,
    whose value is that time in seconds, says the same). `gpu_label`: the cloud provider reports a
    GPU for the node (its GPU label, `GetNodeGpuConfig`) even while `alloc_gpus` is still 0 because
    the device plugin has not made the GPU allocatable yet.
    """

    view: NodeView
    group: str | None = None
    ready: bool = True
    created_at: float = -math.inf
    annotations: Mapping[str, str] = field(default_factory=dict)
    capacity_cpu_m: int | None = None
    alloc_gpus: int = 0
    deletion: str | None = None
    deletion_started_at: float | None = None
    gpu_label: bool = False

    @property
    def name(self) -> str:
        return self.view.name

    @property
    def gpu_node(self) -> bool:
        """The cloud provider has a GPU config for the node: GPU label or allocatable GPUs."""
        return self.gpu_label or self.alloc_gpus > 0


@dataclass(frozen=True)
class PodDisruptionBudget:
    """A PDB: pods of `namespace` whose labels include `match_labels`; disruptions still allowed."""

    name: str
    namespace: str = "default"
    match_labels: Mapping[str, str] = field(default_factory=dict)
    disruptions_allowed: int = 1

    def matches(self, pod: CAPod) -> bool:
        """Same namespace and selector ⊆ labels (an empty selector selects every pod, policy/v1)."""
        if pod.namespace != self.namespace:
            return False
        labels = pod.spec.labels
        for k, v in self.match_labels.items():  # noqa: SIM110 (a loop, not all(...): a scale-down pass calls this a lot)
            if labels.get(k) != v:
                return False
        return True


@dataclass(frozen=True)
class BackoffEntry:
    """One node group's exponential-backoff record (`CA137:utils/backoff/exponential_backoff.go`)."""

    duration: float
    until: float
    last_failure: float


@dataclass(frozen=True)
class ScaleUpRequest:
    """A registered scale-up (`CA137:clusterstate/clusterstate.go` ScaleUpRequest)."""

    increase: int
    time: float
    expected_add_time: float


@dataclass(frozen=True)
class CAState:
    """Everything CA remembers between loops; the controller returns a new one each call.

    Cooldown clocks start at -inf (upstream starts them at now − 1h, which has the same effect for
    every delay flag below 1h). Mappings are never mutated in place.
    """

    last_scale_up_time: float = -math.inf
    last_scale_down_delete_time: float = -math.inf
    last_scale_down_fail_time: float = -math.inf
    scale_down_disabled_at: float | None = None  # loop time when "all pods new" blocked scale-down
    unneeded_since: Mapping[str, float] = field(default_factory=dict)
    unremovable_until: Mapping[str, float] = field(default_factory=dict)
    backoff: Mapping[str, BackoffEntry] = field(default_factory=dict)
    scale_up_requests: Mapping[str, ScaleUpRequest] = field(default_factory=dict)
    group_scale_up_time: Mapping[str, float] = field(default_factory=dict)
    group_delete_time: Mapping[str, float] = field(default_factory=dict)
    group_fail_time: Mapping[str, float] = field(default_factory=dict)


def as_ca_pod(pod: CAPod | PodSpec) -> CAPod:
    """Wrap a bare PodSpec with CAPod's defaults (a long-lived ReplicaSet pod)."""
    return pod if isinstance(pod, CAPod) else CAPod(spec=pod)


def as_ca_node(node: CANode | NodeView) -> CANode:
    """Wrap a bare NodeView as a Ready node that belongs to no autoscaled group."""
    return node if isinstance(node, CANode) else CANode(view=node)
