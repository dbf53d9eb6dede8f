"""A small fake cluster for the drain and node-pool upgrade tests: nodes, one Deployment's pods, a PDB.

Pure Python, no engine: evicted pods terminate after `grace_s`; the ReplicaSet replaces a pod as
soon as it is deleting (controller_utils.FilterActivePods); new pods go to the least-loaded Ready,
schedulable node and are Ready `pod_ready_s` later; launched nodes are Ready `node_boot_s` later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from simkit.control.disruption import (
    LabelSelector,
    OwnerReference,
    Pod,
    PodDisruptionBudget,
    Workload,
    pdb_status,
)
from simkit.control.drain import DONE, DrainOptions, DrainState, NodePod, drain_step
from simkit.control.nodepool_upgrade import DrainReport, NodeAction, PoolNode, PoolObservation

RS_REF = OwnerReference("apps/v1", "ReplicaSet", "web-rs", "uid-rs", controller=True)


@dataclass
class FNode:
    name: str
    zone: str
    upgraded: bool = False
    ready_at: float = 0.0
    unschedulable: bool = False


@dataclass
class FPod:
    name: str
    node: str | None
    ready_at: float | None = None
    deleting_at: float | None = None


@dataclass
class Cluster:
    nodes: dict[str, FNode]
    replicas: int
    min_available: int | str | None = None
    grace_s: float = 30.0
    pod_ready_s: float = 20.0
    node_boot_s: float = 60.0
    drain_opts: DrainOptions = DrainOptions(ignore_daemonsets=True, delete_emptydir_data=True, force=True)
    pods: dict[str, FPod] = field(default_factory=dict)
    drains: dict[str, DrainState] = field(default_factory=dict)
    blocks: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    pdb: PodDisruptionBudget | None = None
    launched: int = 0
    drain_actions: list[tuple[float, str, str, str]] = field(default_factory=list)
    seq: int = 0

    def __post_init__(self) -> None:
        if self.min_available is not None:
            self.pdb = PodDisruptionBudget(
                "web-pdb", min_available=self.min_available, selector=LabelSelector({"app": "web"})
            )
        self._replace_missing(0.0, initial=True)

    # --- the Kubernetes side -------------------------------------------------------------
    def workloads(self) -> tuple[Workload, ...]:
        dep = OwnerReference("apps/v1", "Deployment", "web", "uid-d", True)
        return (
            Workload("Deployment", "web", "uid-d", self.replicas),
            Workload("ReplicaSet", "web-rs", "uid-rs", self.replicas, owner_references=(dep,)),
        )

    def k8s_pod(self, p: FPod, now: float) -> Pod:
        ready = p.node is not None and p.ready_at is not None and now >= p.ready_at and p.deleting_at is None
        return Pod(
            p.name,
            labels={"app": "web"},
            ready=ready,
            phase="Running" if p.node is not None else "Pending",
            deletion_timestamp=p.deleting_at,
            owner_references=(RS_REF,),
        )

    def node_ready(self, n: FNode, now: float) -> bool:
        return now >= n.ready_at

    def _schedule(self, p: FPod, now: float, initial: bool = False) -> None:
        ok = [n for n in self.nodes.values() if self.node_ready(n, now) and not n.unschedulable]
        if not ok:
            return
        load = {n.name: 0 for n in ok}
        for q in self.pods.values():
            if q.node in load:
                load[q.node] += 1
        p.node = min(ok, key=lambda n: (load[n.name], n.name)).name
        p.ready_at = now if initial else now + self.pod_ready_s

    def _replace_missing(self, now: float, initial: bool = False) -> None:
        active = [p for p in self.pods.values() if p.deleting_at is None]
        for _ in range(self.replicas - len(active)):
            p = FPod(f"web-{self.seq}", None)
            self.seq += 1
            self.pods[p.name] = p
        for p in self.pods.values():
            if p.node is None and p.deleting_at is None:
                self._schedule(p, now, initial)

    def tick(self, now: float) -> None:
        for name in [
            k
            for k, p in self.pods.items()
            if p.deleting_at is not None and now >= p.deleting_at + self.grace_s
        ]:
            del self.pods[name]
        self._replace_missing(now)
        if self.pdb is not None:
            self.pdb = pdb_status(self.pdb, self.all_pods(now), self.workloads(), now=now).pdb
        for node, st in list(self.drains.items()):
            step = drain_step(st, self.node_pods(now), self.pdbs(), now, self.drain_opts)
            self.drains[node] = step.state
            if self.pdb is not None:
                self.pdb = step.pdbs[0]
            for a in step.actions:
                self.drain_actions.append((now, a.kind, a.target, a.reason))
                assert a.reason
                if a.kind in ("evict", "delete"):
                    self.pods[a.target.split("/", 1)[1]].deleting_at = now
                elif a.kind == "cordon":
                    self.nodes[a.target].unschedulable = True
                elif a.kind == "blocked":
                    self.blocks[node] = (a.message, a.pdb)

    def pdbs(self) -> tuple[PodDisruptionBudget, ...]:
        return () if self.pdb is None else (self.pdb,)

    def all_pods(self, now: float) -> list[Pod]:
        return [self.k8s_pod(p, now) for p in self.pods.values()]

    def node_pods(self, now: float) -> list[NodePod]:
        return [NodePod(self.k8s_pod(p, now), p.node) for p in self.pods.values() if p.node is not None]

    # --- the upgrade machine's side -------------------------------------------------------
    def observe(self, now: float) -> PoolObservation:
        count = {n: 0 for n in self.nodes}
        for p in self.pods.values():
            if p.node in count:
                count[p.node] += 1
        nodes = tuple(
            PoolNode(n.name, n.zone, n.upgraded, self.node_ready(n, now), n.unschedulable, count[n.name])
            for n in sorted(self.nodes.values(), key=lambda n: n.name)
        )
        drains = {
            node: DrainReport(st.phase == DONE, *self.blocks.get(node, ("", None)))
            for node, st in self.drains.items()
        }
        return PoolObservation(nodes, drains)

    def apply(self, a: NodeAction, now: float) -> None:
        assert a.reason, a
        if a.kind == "launch":
            name = f"new-{self.launched:02d}"
            self.launched += 1
            self.nodes[name] = FNode(name, a.zone or "a", True, now + self.node_boot_s)
        elif a.kind == "cordon":
            self.nodes[a.node].unschedulable = True
        elif a.kind == "uncordon":
            self.nodes[a.node].unschedulable = False
        elif a.kind == "drain":
            self.drains[a.node] = DrainState(a.node)
        elif a.kind == "force_drain":
            for p in self.pods.values():
                if p.node == a.node and p.deleting_at is None:
                    p.deleting_at = now
        elif a.kind == "terminate":
            del self.nodes[a.node]
            self.drains.pop(a.node, None)
            for name in [k for k, p in self.pods.items() if p.node == a.node]:
                del self.pods[name]
        elif a.kind == "reimage":
            n = self.nodes[a.node]
            self.nodes[a.node] = replace(
                n, upgraded=True, ready_at=now + self.node_boot_s, unschedulable=False
            )
            self.drains.pop(a.node, None)
            for name in [k for k, p in self.pods.items() if p.node == a.node]:
                del self.pods[name]


def pool(n: int, zones: str = "abc") -> dict[str, FNode]:
    return {f"old-{i:02d}": FNode(f"old-{i:02d}", zones[i % len(zones)]) for i in range(n)}


@dataclass
class Run:
    outcome: str | None
    reason: str
    message: str
    end: float
    actions: list[tuple[float, NodeAction]]
    min_available: int
    max_nodes: int
    state: object


def drive(
    cluster: Cluster,
    start: object,
    step: Callable[..., tuple[tuple[NodeAction, ...], object, str]],
    until: float = 6 * 3600.0,
    dt: float = 1.0,
    watch: Callable[[Cluster, float], None] | None = None,
) -> Run:
    """Run a machine against the fake cluster, one step per `dt`, until it ends."""
    state = start
    actions: list[tuple[float, NodeAction]] = []
    min_avail, max_nodes = 10**9, 0
    now = 0.0
    reason = ""
    while now <= until:
        cluster.tick(now)
        acts, state, reason = step(state, cluster.observe(now), now)
        for a in acts:
            actions.append((now, a))
            cluster.apply(a, now)
        avail = sum(1 for n in cluster.nodes.values() if cluster.node_ready(n, now) and not n.unschedulable)
        min_avail, max_nodes = min(min_avail, avail), max(max_nodes, len(cluster.nodes))
        if watch is not None:
            watch(cluster, now)
        if state.phase in ("Done", "Failed"):  # type: ignore[attr-defined]
            break
        now += dt
    return Run(state.outcome, reason, state.message, now, actions, min_avail, max_nodes, state)  # type: ignore[attr-defined]
