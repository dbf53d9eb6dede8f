"""The cluster as Karpenter's disruption controller sees it: frozen value types, exact quantities.

Resources are `Mapping[str, int]` in milli-units (Kubernetes `MilliValue`: "100m" cpu -> 100,
"1Gi" memory -> 1073741824000, "pods: 5" -> 5000), so every comparison is between integers.
Shapes follow Karpenter v1 (pkg/apis/v1/nodepool.go, nodeclaim.go; pkg/cloudprovider/types.go).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from simkit.control.karpenter.budgets import Budget
from simkit.units import parse_quantity

__all__ = [
    "Resources",
    "milli",
    "Offering",
    "InstanceType",
    "Requirement",
    "NodePool",
    "Node",
    "Pod",
    "PDB",
    "Options",
    "Cluster",
    "TEST_METHOD_ORDER",
    "PRODUCTION_METHOD_ORDER",
    "NODEPOOL_LABEL",
    "INSTANCE_TYPE_LABEL",
    "CAPACITY_TYPE_LABEL",
    "ZONE_LABEL",
    "ARCH_LABEL",
    "OS_LABEL",
    "HOSTNAME_LABEL",
    "DO_NOT_DISRUPT",
    "SPOT",
    "ON_DEMAND",
    "RESERVED",
]

Resources = Mapping[str, int]

NODEPOOL_LABEL = "karpenter.sh/nodepool"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
ZONE_LABEL = "topology.kubernetes.io/zone"
ARCH_LABEL = "kubernetes.io/arch"
OS_LABEL = "kubernetes.io/os"
HOSTNAME_LABEL = "kubernetes.io/hostname"
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
SPOT, ON_DEMAND, RESERVED = "spot", "on-demand", "reserved"

# Method order of production `NewMethods` and of the test suite's `NewMethodsWithNopValidator`.
PRODUCTION_METHOD_ORDER = ("emptiness", "static_drift", "drift", "multi", "single")
TEST_METHOD_ORDER = ("static_drift", "drift", "emptiness", "multi", "single")


def milli(quantity: str | int | float) -> int:
    """A Kubernetes quantity in milli-units, rounded up like `Quantity.MilliValue`."""
    return int((parse_quantity(quantity) * Decimal(1000)).to_integral_value(rounding="ROUND_CEILING"))


@dataclass(frozen=True)
class Offering:
    """Where and how an instance type can launch, at what hourly price (cloudprovider.Offering)."""

    capacity_type: str
    zone: str
    price: float
    available: bool = True


@dataclass(frozen=True)
class InstanceType:
    """A cloud instance type: capacity, overhead (kube/system reserved, eviction) and offerings."""

    name: str
    capacity: Resources
    arch: str = "amd64"
    os: tuple[str, ...] = ("linux",)
    offerings: tuple[Offering, ...] = ()
    overhead: Resources = field(default_factory=dict)

    def allocatable(self) -> dict[str, int]:
        """Capacity minus overhead (`InstanceType.Allocatable`)."""
        keys = set(self.capacity) | set(self.overhead)
        return {k: self.capacity.get(k, 0) - self.overhead.get(k, 0) for k in keys}


@dataclass(frozen=True)
class Requirement:
    """A NodePool requirement: key, operator In|NotIn|Exists|DoesNotExist, values, optional minValues."""

    key: str
    operator: str
    values: tuple[str, ...] = ()
    min_values: int | None = None


@dataclass(frozen=True)
class NodePool:
    """The parts of a v1 NodePool the disruption controller reads.

    `consolidate_after` None is `Never`; `replicas` set makes it a static pool; `instance_types`
    None means the whole cloud-provider list, a tuple of names only those; `instance_types_error`
    models GetInstanceTypes failing (the pool is skipped, not fatal).
    """

    name: str
    consolidation_policy: str = "WhenEmptyOrUnderutilized"
    consolidate_after: timedelta | None = timedelta(0)
    budgets: tuple[Budget, ...] = (Budget(nodes="10%"),)
    requirements: tuple[Requirement, ...] = ()
    weight: int = 0
    replicas: int | None = None
    instance_types: tuple[str, ...] | None = None
    instance_types_error: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """A Node with its NodeClaim (Karpenter's `StateNode`); label fields None mean the label is absent."""

    name: str
    nodepool: str | None
    instance_type: str | None = None
    capacity_type: str | None = None
    zone: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    allocatable: Resources = field(default_factory=dict)
    managed: bool = True  # has a NodeClaim
    has_node: bool = True
    initialized: bool = True
    initialized_at: datetime | None = None
    last_pod_event_time: datetime | None = None
    ready: bool = True
    marked_for_deletion: bool = False
    nodeclaim_deleting: bool = False
    instance_terminating: bool = False
    nominated: bool = False
    in_queue: bool = False
    consolidatable: bool | None = None  # the NodeClaim's Consolidatable condition
    drifted: bool | None = None
    drifted_at: datetime | None = None
    termination_grace_period: timedelta | None = None
    expire_after: timedelta | None = None
    created_at: datetime | None = None

    @property
    def deleting(self) -> bool:
        """`StateNode.MarkedForDeletion`: queued for deletion, NodeClaim deleting, or instance terminating."""
        return self.marked_for_deletion or self.nodeclaim_deleting or self.instance_terminating

    def all_labels(self) -> dict[str, str]:
        """The node's labels including the well-known ones carried as fields, and its hostname."""
        out = {HOSTNAME_LABEL: self.name, **self.labels}
        for key, value in (
            (NODEPOOL_LABEL, self.nodepool),
            (INSTANCE_TYPE_LABEL, self.instance_type),
            (CAPACITY_TYPE_LABEL, self.capacity_type),
            (ZONE_LABEL, self.zone),
        ):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class Pod:
    """A pod as the disruption controller reads it; `node` None is unbound (pending if unschedulable)."""

    name: str
    namespace: str = "default"
    node: str | None = None
    requests: Resources = field(default_factory=dict)
    owner: str | None = "ReplicaSet"  # ReplicaSet | StatefulSet | DaemonSet | Node (mirror) | None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    phase: str = "Running"
    terminating: bool = False
    ready: bool | None = None
    priority: int | None = None
    start_time: datetime | None = None
    node_selector: Mapping[str, str] = field(default_factory=dict)
    unschedulable: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def terminal(self) -> bool:
        return self.phase in ("Succeeded", "Failed")

    @property
    def active(self) -> bool:
        """`podutils.IsActive`: not terminal and not terminating."""
        return not self.terminal and not self.terminating


@dataclass(frozen=True)
class PDB:
    """A PodDisruptionBudget: matchLabels selector, spec bounds and `status.disruptionsAllowed`."""

    name: str
    namespace: str = "default"
    match_labels: Mapping[str, str] = field(default_factory=dict)
    max_unavailable: int | str | None = None
    min_available: int | str | None = None
    disruptions_allowed: int = 0
    unhealthy_pod_eviction_policy: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Options:
    """Operator options and feature gates that change decisions (pkg/operator/options/options.go)."""

    spot_to_spot_consolidation: bool = False
    min_values_policy: str = "Strict"
    preference_policy: str = "Respect"
    method_order: tuple[str, ...] = PRODUCTION_METHOD_ORDER


@dataclass(frozen=True)
class Cluster:
    """Everything one disruption reconcile reads, at time `now`."""

    now: datetime
    instance_types: tuple[InstanceType, ...]
    nodepools: tuple[NodePool, ...]
    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...] = ()
    pdbs: tuple[PDB, ...] = ()
    options: Options = Options()
    buffer_pod_counts: Mapping[str, int] = field(default_factory=dict)

    def nodepool(self, name: str | None) -> NodePool | None:
        return next((p for p in self.nodepools if p.name == name), None)

    def pods_on(self, node: str) -> list[Pod]:
        return [p for p in self.pods if p.node == node]

    def pool_instance_types(self, pool: NodePool) -> tuple[InstanceType, ...]:
        """`CloudProvider.GetInstanceTypes(pool)`: the catalog, or the pool's named subset."""
        if pool.instance_types is None:
            return self.instance_types
        wanted = set(pool.instance_types)
        return tuple(it for it in self.instance_types if it.name in wanted)
