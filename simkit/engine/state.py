"""Mutable cluster state owned by the engine: nodes, pods, and the bookkeeping the loops need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from simkit.control.types import (
    DEFAULT_MEMORY_REQUEST_MIB,
    DEFAULT_MILLI_CPU_REQUEST,
    HOSTNAME_LABEL,
    ZONE_LABEL,
    BoundPodAffinity,
    NodeView,
    PodSpec,
    Taint,
)


class PodPhase(StrEnum):
    PENDING = "Pending"  # not bound to a node
    STARTING = "Starting"  # bound: pulling the image, starting, waiting for the readiness probe
    READY = "Ready"  # serving
    TERMINATING = "Terminating"  # graceful termination: out of endpoints, still holding its requests
    LOST = "Lost"  # on a node that died or is unreachable: not serving, not yet evicted
    GONE = "Gone"


@dataclass
class Node:
    name: str
    pool: str
    zone: str
    instance_type: str
    capacity_type: str
    alloc_cpu_m: int
    alloc_mem_mib: float
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    created_s: float
    max_pods: int | None = None
    removed_s: float | None = None
    cordoned: bool = False
    requested_cpu_m: int = 0
    requested_mem_mib: float = 0.0
    nonzero_cpu_m: int = 0
    nonzero_mem_mib: float = 0.0
    pods: set[str] = field(default_factory=set)
    view_cache: NodeView | None = None  # the scheduler's view, rebuilt only after a change
    ready: bool = True  # kubelet posting status; False after a crash or while its zone is out
    interrupted: bool = False  # a spot interruption notice has been received

    def set_taints(self, taints: tuple[Taint, ...]) -> None:
        self.taints, self.view_cache = taints, None

    def cordon(self) -> None:
        self.cordoned, self.view_cache = True, None

    @property
    def alive(self) -> bool:
        return self.removed_s is None


@dataclass
class Pod:
    """A pod of a workload, or of a DaemonSet (`daemonset`: then `workload` names the DaemonSet)."""

    name: str
    workload: str
    spec: PodSpec
    created_s: float
    phase: PodPhase = PodPhase.PENDING
    node: str | None = None
    bound_s: float | None = None
    ready_s: float | None = None
    deleted_s: float | None = None
    last_unschedulable_msg: str = ""
    daemonset: bool = False
    revision: str = ""  # its ReplicaSet's pod-template-hash ("" = the scenario's); engine/plans.py


INDEX_PODS = True  # `pods_of` from a per-workload index; tests turn it off to compare with the scan


class PodIndex(dict[str, Pod]):
    """The workload pods by name, also indexed by workload (`pods_of` without scanning every pod).

    Each workload's entry keeps the pods in the order the name-keyed dict holds them (insertion
    order; a re-inserted name keeps its place, a removed and re-added one goes last), so `of(w)`
    is exactly `[p for p in pods.values() if p.workload == w]`. Only the mutators the engine uses
    exist: item assignment, `del`, `pop`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_workload: dict[str, dict[str, Pod]] = {}

    def __setitem__(self, name: str, pod: Pod) -> None:
        old = self.get(name)
        super().__setitem__(name, pod)
        if old is not None and old.workload != pod.workload:  # a name moving workloads keeps its place
            del self._by_workload[old.workload][name]
            self._by_workload[pod.workload] = {n: p for n, p in self.items() if p.workload == pod.workload}
        else:
            self._by_workload.setdefault(pod.workload, {})[name] = pod

    def __delitem__(self, name: str) -> None:
        pod = self[name]
        super().__delitem__(name)
        del self._by_workload[pod.workload][name]

    def pop(self, name: str, *default: Pod | None) -> Pod | None:  # type: ignore[override]
        if name in self:
            pod = self[name]
            del self[name]
            return pod
        if default:
            return default[0]
        raise KeyError(name)

    def of(self, workload: str) -> list[Pod]:
        return list(self._by_workload.get(workload, {}).values())

    def __reduce__(self) -> tuple[object, ...]:
        return (_pod_index, (list(self.items()),))

    def _unsupported(self, *args: object, **kwargs: object) -> None:
        raise TypeError("PodIndex supports item assignment, del and pop only")

    update = setdefault = popitem = clear = _unsupported  # type: ignore[assignment]


def _pod_index(items: list[tuple[str, Pod]]) -> PodIndex:
    index = PodIndex()
    for name, pod in items:
        index[name] = pod
    return index


class ClusterState:
    """Nodes and pods, with the aggregates the scheduler view needs kept up to date incrementally.

    DaemonSet pods live in `daemon_pods`, apart from the workload pods in `pods`: they are bound
    and hold requests on their node like any pod, but no workload controller, HPA or traffic
    model ever reads them.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.pods: dict[str, Pod] = PodIndex() if INDEX_PODS else {}
        self.daemon_pods: dict[str, Pod] = {}
        self._serial: dict[str, int] = {}
        self.version = 0  # bumped on every change the controllers can observe (for caching)
        self.on_change: Callable[[], None] | None = None  # told of every change (wakes idle loops)

    def touch(self) -> None:
        self.version += 1
        if self.on_change is not None:
            self.on_change()

    def next_name(self, prefix: str) -> str:
        n = self._serial.get(prefix, 0)
        self._serial[prefix] = n + 1
        return f"{prefix}-{n}"

    def add_node(self, node: Node) -> None:
        node.labels = {**node.labels, ZONE_LABEL: node.zone, HOSTNAME_LABEL: node.name}
        self.nodes[node.name] = node
        self.touch()

    def bind(self, pod: Pod, node: Node, now: float) -> None:
        pod.node, pod.bound_s, pod.phase = node.name, now, PodPhase.STARTING
        node.pods.add(pod.name)
        self._account(node, pod.spec, +1)

    def release(self, pod: Pod, now: float) -> None:
        """The pod object is gone: free its requests on the node."""
        if pod.node is not None and pod.node in self.nodes:
            node = self.nodes[pod.node]
            if pod.name in node.pods:
                node.pods.discard(pod.name)
                self._account(node, pod.spec, -1)
        pod.phase, pod.deleted_s = PodPhase.GONE, pod.deleted_s if pod.deleted_s is not None else now
        (self.daemon_pods if pod.daemonset else self.pods).pop(pod.name, None)

    def _account(self, node: Node, spec: PodSpec, sign: int) -> None:
        node.view_cache = None
        self.touch()
        node.requested_cpu_m += sign * spec.cpu_m
        node.requested_mem_mib += sign * spec.mem_mib
        node.nonzero_cpu_m += sign * (spec.cpu_m or DEFAULT_MILLI_CPU_REQUEST)
        node.nonzero_mem_mib += sign * (spec.mem_mib or DEFAULT_MEMORY_REQUEST_MIB)

    def alive_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.alive]

    def node_view(self, node: Node) -> NodeView:
        if node.view_cache is None:
            node.view_cache = self._build_view(node)
        return node.view_cache

    def _build_view(self, node: Node) -> NodeView:
        pods = self.bound_pods(node)
        specs = [p.spec for p in pods]
        terminating = any(p.phase is PodPhase.TERMINATING for p in pods)
        affinity = tuple(a for a in (BoundPodAffinity.of(s) for s in specs) if a is not None)
        return NodeView(
            name=node.name,
            labels=node.labels,
            taints=node.taints,
            alloc_cpu_m=node.alloc_cpu_m,
            alloc_mem_mib=node.alloc_mem_mib,
            requested_cpu_m=node.requested_cpu_m,
            requested_mem_mib=node.requested_mem_mib,
            pod_labels=tuple(s.labels for s in specs),
            spread_pod_labels=(
                tuple(p.spec.labels for p in pods if p.phase is not PodPhase.TERMINATING)
                if terminating
                else None
            ),
            unschedulable=node.cordoned,
            pod_affinity=affinity,
            alloc_pods=node.max_pods,
            nonzero_requested_cpu_m=node.nonzero_cpu_m,
            nonzero_requested_mem_mib=node.nonzero_mem_mib,
        )

    def bound_pods(self, node: Node) -> list[Pod]:
        """Every pod bound to `node`, DaemonSet pods included, by name."""
        found = (self.pods.get(p) or self.daemon_pods.get(p) for p in sorted(node.pods))
        return [p for p in found if p is not None]

    def daemon_pods_on(self, node: Node) -> list[Pod]:
        """The DaemonSet pods bound to `node`, by name."""
        return [self.daemon_pods[p] for p in sorted(node.pods) if p in self.daemon_pods]

    def node_views(self) -> list[NodeView]:
        return [self.node_view(n) for n in self.alive_nodes()]

    def pods_of(self, workload: str) -> list[Pod]:
        pods = self.pods
        if isinstance(pods, PodIndex):
            return pods.of(workload)
        return [p for p in pods.values() if p.workload == workload]
