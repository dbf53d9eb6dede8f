"""The simulated cluster: nodes, pods, the scheduler loop and what a run records (`Engine`).

SimPy processes for node and pod lifecycle that call pure controllers (control/); simpy is
imported only under simkit/engine/. The loops and faults that act on the cluster are wired in
`simkit.engine.simulation` (the composition root); nodes are launched through `engine.cloud`.
Request traffic is not simulated request by request here:
the engine tells the `TrafficModel` whenever the number of ready servers of a service changes, and the
traffic model computes the ticks since the last change in one vectorised step (design.md, hybrid time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import simpy
from tqdm.auto import tqdm

from simkit.catalog import allocatable_for, load_catalog
from simkit.catalog.node_labels import pool_labels, zone_labels
from simkit.control.daemonset import DAEMON_POD_GRACE_S, FAILED_SCHEDULING, place_daemon_pods
from simkit.control.replicaset import ReplicaPod
from simkit.control.replicaset import reconcile as reconcile_replicas
from simkit.control.scheduler import schedule
from simkit.control.types import PodSpec, Taint
from simkit.engine.cloud import Cloud
from simkit.engine.convert import daemon_pod_spec, pin_to_zone, pod_spec, ready_delay_s, taints
from simkit.engine.state import ClusterState, Node, Pod, PodPhase
from simkit.engine.traffic import TrafficModel
from simkit.scenario.model import NodePool, Scenario, Workload

STREAMS = (
    "traffic",
    "scheduler",
    "startup",
    "spot",
    "failures",
    "service",
    "controllers",
    "provisioning",
    "bootstrap",
)
"""One random stream per subsystem (SeedSequence.spawn): adding a fault process leaves traffic as it
was, and a stream added at the end leaves the others as they were (child i depends only on i)."""


REVISION_LABEL = "simkit.io/revision"
"""The node label a node-pool upgrade's new nodes carry (engine/plans.py): its image/version."""

WARM_START_S = 3600.0
"""The initial pods have been running this long at t=0 (past the HPA's CPU initialization period)."""


class DataLayer(Protocol):
    """A data service's availability (`faults.DataAvailability`), told of each change of ready pods."""

    available: bool

    def start(self) -> None:
        """Elect the first primary from the bootstrapped pods."""

    def on_change(self) -> None:
        """Re-evaluate after any change of the workload's ready pods."""


@dataclass(frozen=True)
class WarmStart:
    """How a warm start sizes the cluster before t=0 (`engine.warm`, set by the composition root from
    `simulation.start`; see `engine.warm`): each workload's replicas, and the nodes per pool the
    cluster autoscaler adds for the pods that do not fit."""

    replicas: Callable[[Engine, Workload], int]
    nodes: Callable[[Engine, list[Pod]], dict[str, int]]


@dataclass(frozen=True)
class PoolShape:
    cpu_m: int
    mem_mib: float
    max_pods: int
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    usd_hour: float


@dataclass
class EngineOutput:
    """Raw rows and arrays the engine produced; `simkit.results` turns them into DataFrames."""

    duration_s: float
    node_rows: list[tuple[float, str, str, int, int]] = field(default_factory=list)
    event_rows: list[tuple[float, str, str, str, str]] = field(default_factory=list)
    decision_rows: list[tuple[float, str, str, int, int, str, str]] = field(default_factory=list)
    replica_rows: list[tuple[float, str, int, int]] = field(default_factory=list)
    pending_rows: list[tuple[float, int]] = field(default_factory=list)
    pod_waits_s: list[float] = field(default_factory=list)  # creation -> bound, for pods created in the run
    fault_rows: list[tuple[float, str, str, str]] = field(default_factory=list)
    shortfall_rows: list[tuple[float, int]] = field(default_factory=list)  # replicas missing vs desired
    counters: dict[str, float] = field(default_factory=dict)
    node_seconds: list[dict[str, Any]] = field(default_factory=list)
    traffic: dict[str, Any] = field(default_factory=dict)
    allocation_rows: list[tuple[Any, ...]] = field(default_factory=list)  # see `Engine._allocation`
    plan_rows: list[Any] = field(default_factory=list)  # one `engine.plans.PlanRecord` per plan


class Engine:
    """One simulation run of a scenario. Use `simkit.simulate` rather than this class directly."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        duration_s: float,
        base_dir: Path | None = None,
        progress: bool | None = None,
    ) -> None:
        self.scenario = scenario
        self.duration_s = duration_s
        self.env = simpy.Environment()
        seqs = np.random.SeedSequence(seed).spawn(len(STREAMS))
        self.rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seqs, strict=True)}
        self.state = ClusterState()
        self.out = EngineOutput(duration_s)
        self.catalog = load_catalog()
        self.workloads = {w.name: w for w in scenario.workloads}
        self.desired = {w.name: w.replicas for w in scenario.workloads}
        self.daemonsets = {d.name: d for d in scenario.daemonsets}
        self.daemon_specs: tuple[PodSpec, ...] = tuple(daemon_pod_spec(d) for d in scenario.daemonsets)
        self.ready_count = dict.fromkeys(self.workloads, 0)
        self.traffic = TrafficModel(scenario, duration_s, self.rng["traffic"], base_dir)
        self.progress = progress
        self._pending: list[str] = []
        self._wake_scheduler = self.env.event()
        self._changed: simpy.Event | None = None  # fired at the next observable change (see `changed`)
        self.state.on_change = self._notify_change
        self._shapes: dict[str, PoolShape] = {}
        self.orphan_volumes: dict[str, list[str]] = {}  # StatefulSet -> zones of volumes awaiting a pod
        self.pods_lost = 0
        self.nodes_lost = 0
        self.nodes_interrupted = 0
        self.data: dict[str, DataLayer] = {}  # per data service workload; filled by the composition root
        self.warm: WarmStart | None = None  # None: a cold start (declared replicas, min/initial nodes)
        # A node provisioner's NodeClaims running before t=0 for the pods no pool fits (Karpenter:
        # engine/karpenter_loop.py `bootstrap_nodeclaims`); None: such pods start Pending.
        self.before_start: Callable[[Engine, list[Pod]], list[tuple[NodePool, str]]] | None = None
        self.cloud = Cloud(self.env, scenario, self.state, self._join, self.event, self.rng["provisioning"])
        # Deployment plans (engine/plans.py); all empty without plans, so nothing below changes then.
        self.revision: dict[str, str] = {}  # workload -> the template hash its new pods get
        self.templates: dict[str, dict[str, Workload]] = {}  # workload -> hash -> that version
        self.never_ready: set[tuple[str, str]] = set()  # (workload, hash) whose readiness never passes
        self.rs_replicas: dict[str, dict[str, int]] = {}  # mid-rollout: workload -> hash -> RS replicas
        self.capacity_weight: dict[str, dict[str, float]] = {}  # workload -> hash -> capacity of a pod
        self._watch: dict[str, simpy.Event] = {}  # workload -> fired at its next pod or replicas change
        self.pool_revision: dict[str, str] = {}  # pool -> the REVISION_LABEL its new nodes get (upgrade)
        self.upgrading_pools: set[str] = set()  # the CA leaves their nodes alone (scale-down-disabled)

    # ----------------------------------------------------------------------------------- run
    def run(self, loops: Sequence[Callable[[Engine], None]] = ()) -> EngineOutput:
        """Bootstrap, start the scheduler and then each of `loops` (in order), and run to the end."""
        self._bootstrap()
        for data in self.data.values():
            data.start()
        self.env.process(self._scheduler_loop())
        if self._pending:  # pods that did not fit at bootstrap: retried, and visible to the autoscaler
            self.wake_scheduler()
        for start in loops:
            start(self)
        self._run_with_progress()
        end = self.duration_s
        self.out.traffic = self.traffic.finish()
        self._close_node_seconds(end)
        self.out.counters = {
            "pods_lost": float(self.pods_lost),
            "nodes_lost": float(self.nodes_lost),
            "nodes_interrupted": float(self.nodes_interrupted),
        }
        for name in self.workloads:
            self.out.replica_rows.append((end, name, self.desired[name], self.ready_count[name]))
        self.out.allocation_rows = self._allocation()
        return self.out

    def _allocation(self) -> list[tuple[Any, ...]]:
        """How full each node is at the end of the run: allocatable, and the requests of DaemonSet and
        workload pods on it (what the scheduler packs against; not what the pods use)."""
        rows = []
        for node in sorted(self.state.alive_nodes(), key=lambda n: (n.pool, n.zone, n.name)):
            daemons = self.state.daemon_pods_on(node)
            ds_cpu = sum(p.spec.cpu_m for p in daemons)
            ds_mem = sum(p.spec.mem_mib for p in daemons)
            rows.append(
                (
                    node.name,
                    node.pool,
                    node.zone,
                    node.instance_type,
                    node.capacity_type,
                    node.alloc_cpu_m,
                    node.alloc_mem_mib,
                    ds_cpu,
                    ds_mem,
                    node.requested_cpu_m - ds_cpu,
                    node.requested_mem_mib - ds_mem,
                    len(node.pods) - len(daemons),
                )
            )
        return rows

    def _run_with_progress(self) -> None:
        step = max(self.duration_s / 200, 3600.0)
        bar = tqdm(
            total=round(self.duration_s / 86400, 2),
            unit="sim-day",
            delay=2.0,
            disable=None if self.progress is None else not self.progress,  # None: only on a terminal
            leave=False,
            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} sim-days [{elapsed}<{remaining}]",
        )
        t = 0.0
        with bar:
            while t < self.duration_s:
                t = min(t + step, self.duration_s)
                self.env.run(until=t)
                bar.update(round(t / 86400, 2) - bar.n)

    # ----------------------------------------------------------------------------- bootstrap
    def _bootstrap(self) -> None:
        """The cluster as it runs before t=0: pools at their start size, every pod placed and Ready.

        A warm start (`self.warm`) first sets each workload's replicas to what its HPA settles on,
        then adds the nodes the cluster autoscaler would have added for the pods that do not fit,
        Ready before t=0; a pod that still does not fit stays Pending, with the scheduler's message.
        """
        for pool in self.scenario.cluster.node_pools:
            zones = pool.zones or self.scenario.cluster.zones
            for i in range(pool.start_nodes):
                self._add_node(pool, zones[i % len(zones)], ready_at=0.0)
        warm = self.warm
        if warm is not None:
            self.desired = {w.name: warm.replicas(self, w) for w in self.scenario.workloads}
        unplaced: list[tuple[Pod, str]] = []
        for workload in self.scenario.workloads:
            for _ in range(self.desired[workload.name]):
                pod = self._create_pod(workload)
                node, message = self._try_place(pod)
                if node is not None:
                    self._bind_warm(pod, node)
                elif warm is None and self.before_start is None:
                    self._unschedulable(pod, message)
                    self._pending.append(pod.name)
                else:
                    unplaced.append((pod, message))
        while warm is not None and unplaced and (added := warm.nodes(self, [pod for pod, _ in unplaced])):
            for pool_name, count in added.items():
                pool = self.scenario.pool(pool_name)
                for _ in range(count):
                    self._add_node(pool, self.cloud.launch_zone(pool), ready_at=0.0)
            unplaced = self._place_warm(unplaced)
        if self.before_start is not None and unplaced:
            for pool, zone in self.before_start(self, [pod for pod, _ in unplaced]):
                self._add_node(pool, zone, ready_at=0.0)
            unplaced = self._place_warm(unplaced)
        for pod, message in unplaced:  # no room even with the autoscaler's nodes: Pending, as cold
            self._unschedulable(pod, message)
            self._pending.append(pod.name)
        for workload in self.scenario.workloads:
            self.traffic.set_ready(workload.name, self.ready_count[workload.name], 0.0)
            self.out.replica_rows.append(
                (0.0, workload.name, self.desired[workload.name], self.ready_count[workload.name])
            )

    def _place_warm(self, unplaced: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
        """Bind each pod that now fits; return the rest with the scheduler's message."""
        still = []
        for pod, _ in unplaced:
            node, message = self._try_place(pod)
            if node is not None:
                self._bind_warm(pod, node)
            else:
                still.append((pod, message))
        return still

    def _bind_warm(self, pod: Pod, node: Node) -> None:
        """A pod that has been running for `WARM_START_S` at t=0."""
        self.state.bind(pod, node, -WARM_START_S)
        pod.created_s = -WARM_START_S
        pod.phase, pod.ready_s = PodPhase.READY, -WARM_START_S
        self.ready_count[pod.workload] += 1

    # --------------------------------------------------------------------------------- nodes
    def pool_shape(self, pool: NodePool) -> PoolShape:
        """What every node of `pool` offers: allocatable, max pods, labels, taints (looked up once)."""
        shape = self._shapes.get(pool.name)
        if shape is None:
            itype = self.catalog.instance(
                self.scenario.cluster.provider, self.scenario.cluster.region, pool.instance_type
            )
            cpu_m, mem_mib = allocatable_for(itype, pool.max_pods)
            cl = self.scenario.cluster
            labels = {
                **pool_labels(cl.provider, cl.region, pool.name, pool.instance_type, pool.capacity_type),
                **pool.labels,
                "node.kubernetes.io/instance-type": pool.instance_type,
                "simkit.io/pool": pool.name,
            }
            shape = PoolShape(
                cpu_m,
                mem_mib,
                pool.max_pods or itype.max_pods,
                labels,
                taints(pool.taints),
                itype.usd_hour(pool.capacity_type),
            )
            self._shapes[pool.name] = shape
        return shape

    def _add_node(self, pool: NodePool, zone: str, ready_at: float) -> Node:
        shape = self.pool_shape(pool)
        node = Node(
            name=self.state.next_name(pool.name),
            pool=pool.name,
            zone=zone,
            instance_type=pool.instance_type,
            capacity_type=pool.capacity_type,
            alloc_cpu_m=shape.cpu_m,
            alloc_mem_mib=shape.mem_mib,
            labels=(
                {**shape.labels, **zone_labels(zone), REVISION_LABEL: self.pool_revision[pool.name]}
                if pool.name in self.pool_revision
                else {**shape.labels, **zone_labels(zone)}
            ),
            taints=shape.taints,
            created_s=ready_at,
            max_pods=shape.max_pods,
        )
        self.state.add_node(node)
        self._record_nodes(ready_at, pool.name, zone)
        self._event(
            ready_at, "Node", node.name, "NodeReady", f"{pool.instance_type} {pool.capacity_type} in {zone}"
        )
        self._start_daemon_pods(node, ready_at)
        return node

    def _join(self, pool: NodePool, zone: str) -> None:
        """A launched instance joins the cluster Ready now; pending pods may fit on it."""
        self._add_node(pool, zone, ready_at=self.env.now)
        self.wake_scheduler()

    def _start_daemon_pods(self, node: Node, now: float) -> None:
        """The DaemonSet controller's pods for a node that just joined, bound before any workload pod.

        The node is empty, so each pod the node should run is bound at once (the scheduler would
        put it nowhere else: it is pinned to the node by node affinity); one that does not fit
        stays Pending with the scheduler's message and is not retried (its requests exceed what
        the empty node offers).
        """
        if not self.daemon_specs:
            return
        view, nodes = self.state.node_view(node), len(self.state.alive_nodes())
        _, decisions = place_daemon_pods(self.daemon_specs, view, nodes)
        for ds, decision in zip(self.daemonsets, decisions, strict=True):
            if decision.reason == FAILED_SCHEDULING:
                self._event(now, "Pod", self.state.next_name(ds), FAILED_SCHEDULING, decision.message)
            elif decision.bound:
                name = self.state.next_name(ds)
                pod = Pod(name, ds, daemon_pod_spec(self.daemonsets[ds], name), now, daemonset=True)
                self.state.daemon_pods[name] = pod
                self.state.bind(pod, node, now)
                pod.phase, pod.ready_s = PodPhase.READY, now
                self._event(now, "Pod", name, "Scheduled", f"assigned to {node.name} (DaemonSet {ds})")

    def record_nodes(self, pool: str, zone: str) -> None:
        self._record_nodes(self.env.now, pool, zone)

    def _record_nodes(self, now: float, pool: str, zone: str) -> None:
        nodes = [n for n in self.state.alive_nodes() if n.pool == pool and n.zone == zone]
        self.out.node_rows.append((now, pool, zone, len(nodes), sum(1 for n in nodes if n.ready)))

    def _close_node_seconds(self, end: float) -> None:
        for node in self.state.nodes.values():
            stop = node.removed_s if node.removed_s is not None else end
            self.out.node_seconds.append(
                {
                    "pool": node.pool,
                    "instance_type": node.instance_type,
                    "capacity_type": node.capacity_type,
                    "zone": node.zone,
                    "node_seconds": max(0.0, min(stop, end) - node.created_s),
                }
            )

    # ---------------------------------------------------------------------------------- pods
    def template(self, workload: str, revision: str) -> Workload:
        """The workload as the version `revision` runs it ("" = the scenario's)."""
        return self.templates.get(workload, {}).get(revision) or self.workloads[workload]

    def _create_pod(self, workload: Workload, revision: str | None = None) -> Pod:
        name = self.state.next_name(workload.name)
        rev = self.revision.get(workload.name, "") if revision is None else revision
        spec = pod_spec(self.template(workload.name, rev) if rev else workload, name)
        volumes = self.orphan_volumes.get(workload.name)
        if workload.kind == "StatefulSet" and volumes:
            spec = pin_to_zone(spec, volumes.pop(0))  # its PersistentVolume lives in that zone
        pod = Pod(name=name, workload=workload.name, spec=spec, created_s=self.env.now)
        if rev:
            pod.revision = rev
        self.state.pods[name] = pod
        return pod

    def _release(self, pod: Pod) -> None:
        """The pod object is gone. A StatefulSet pod leaves its zonal volume behind for its successor."""
        node = self.state.nodes.get(pod.node) if pod.node else None
        if node is not None and self.workloads[pod.workload].kind == "StatefulSet":
            self.orphan_volumes.setdefault(pod.workload, []).append(node.zone)
        self.state.release(pod, self.env.now)

    def _place(self, pod: Pod) -> Node | None:
        node, message = self._try_place(pod)
        if node is None:
            self._unschedulable(pod, message)
        return node

    def _try_place(self, pod: Pod) -> tuple[Node | None, str]:
        """The node the scheduler picks for `pod`, or None and its FitError message."""
        placement = schedule(pod.spec, self.state.node_views(), self.rng["scheduler"])
        return (None if placement.node is None else self.state.nodes[placement.node]), placement.message

    def _unschedulable(self, pod: Pod, message: str) -> None:
        if message != pod.last_unschedulable_msg:
            pod.last_unschedulable_msg = message
            self.state.touch()  # a new pending pod for the cluster autoscaler
            self._event(self.env.now, "Pod", pod.name, "FailedScheduling", message)

    def _scheduler_loop(self) -> Any:
        """Place pending pods whenever something changes (new pod, new node, freed capacity)."""
        while True:
            yield self._wake_scheduler
            self._wake_scheduler = self.env.event()
            still: list[str] = []
            for name in self._pending:
                pod = self.state.pods.get(name)
                if pod is None or pod.phase is not PodPhase.PENDING:
                    continue
                node = self._place(pod)
                if node is None:
                    still.append(name)
                    continue
                self.state.bind(pod, node, self.env.now)
                self.out.pod_waits_s.append(self.env.now - pod.created_s)
                self._event(self.env.now, "Pod", pod.name, "Scheduled", f"assigned to {node.name}")
                self.env.process(self._start_pod(pod))
            self._pending = still
            self._record_pending()

    def _record_pending(self) -> None:
        count = sum(1 for n in self._pending if n in self.state.pods)
        if not self.out.pending_rows or self.out.pending_rows[-1][1] != count:
            self.out.pending_rows.append((self.env.now, count))

    def pending_pods(self) -> list[Pod]:
        """Pods the scheduler has tried and could not place (what the cluster autoscaler sees)."""
        pods = (self.state.pods.get(n) for n in self._pending)
        return [p for p in pods if p is not None and p.phase is PodPhase.PENDING and p.last_unschedulable_msg]

    def _start_pod(self, pod: Pod) -> Any:
        if pod.revision and (pod.workload, pod.revision) in self.never_ready:
            return  # its readiness probe never passes: it stays Starting
        yield self.env.timeout(ready_delay_s(self.template(pod.workload, pod.revision)))
        if pod.phase is PodPhase.STARTING:
            self._set_ready(pod, True)

    def _set_ready(self, pod: Pod, ready: bool) -> None:
        """Change the ready-server count of a workload; traffic settles the ticks before the change."""
        if ready:
            pod.phase, pod.ready_s = PodPhase.READY, self.env.now
            self.ready_count[pod.workload] += 1
        else:
            self.ready_count[pod.workload] -= 1
        self.state.touch()
        data = self.data.get(pod.workload)
        if data is not None:
            data.on_change()
        self.availability_changed(pod.workload)
        self._record_replicas(pod.workload)
        if self._watch:
            self.notify_watchers(pod.workload)

    def availability_changed(self, workload: str) -> None:
        """Tell the traffic model how many pods serve: none while a data service is unavailable."""
        data = self.data.get(workload)
        serving: float = self.ready_count[workload] if data is None or data.available else 0
        weights = self.capacity_weight.get(workload)
        if weights and serving:
            serving = self.serving_capacity(workload, weights)
        self.traffic.set_ready(workload, serving, self.env.now)  # type: ignore[arg-type]
        self._notify_change()

    def serving_capacity(self, workload: str, weights: dict[str, float]) -> float:
        """Ready pods counted by what each serves relative to the scenario's version (engine/plans.py:
        a slower version's pod counts as the share of a server it replaces)."""
        return sum(
            weights.get(p.revision, 1.0) for p in self.state.pods_of(workload) if p.phase is PodPhase.READY
        )

    def watch(self, workload: str) -> simpy.Event:
        """An event fired at the next change of `workload`'s pods (readiness, termination) or replicas:
        what wakes its Deployment / StatefulSet controller (engine/plans.py)."""
        event = self._watch.get(workload)
        if event is None:
            event = self._watch[workload] = self.env.event()
        return event

    def notify_watchers(self, workload: str) -> None:
        event = self._watch.pop(workload, None)
        if event is not None:
            event.succeed()

    def changed(self) -> simpy.Event:
        """An event that fires at the next change a controller could observe: a state change
        (pods, nodes, replicas) or a change of serving pods. Loops that skip provably idle work
        wait on it, so they resume at the first change."""
        if self._changed is None:
            self._changed = self.env.event()
        return self._changed

    def _notify_change(self) -> None:
        if self._changed is not None:
            event, self._changed = self._changed, None
            event.succeed()

    def mark_lost(self, pod: Pod) -> None:
        """A ready pod on a node that died: it stops serving but stays bound until evicted."""
        pod.phase = PodPhase.LOST
        self._set_ready(pod, False)

    def restore_lost(self, pod: Pod) -> None:
        self._set_ready(pod, True)

    def _record_replicas(self, workload: str) -> None:
        self.out.replica_rows.append(
            (self.env.now, workload, self.desired[workload], self.ready_count[workload])
        )
        short = sum(max(0, self.desired[w] - self.ready_count[w]) for w in self.workloads)
        if not self.out.shortfall_rows or self.out.shortfall_rows[-1][1] != short:
            self.out.shortfall_rows.append((self.env.now, short))

    def wake_scheduler(self) -> None:
        if not self._wake_scheduler.triggered:
            self._wake_scheduler.succeed()

    # ---------------------------------------------------------------------- workload control
    def scale_workload(self, name: str, desired: int) -> None:
        """Set `spec.replicas` and reconcile, as the ReplicaSet / StatefulSet controller does."""
        self.desired[name] = desired
        self.state.touch()
        self.reconcile(name)
        self._record_replicas(name)
        if self._watch:
            self.notify_watchers(name)

    def reconcile(self, name: str) -> None:
        """Create or delete pods until the active ones match the desired count.

        A Deployment's ReplicaSet stops counting a pod once it is terminating and replaces it at
        once; a StatefulSet waits until the old pod is gone (k8s_timings.md §1.4). The count and
        the choice of pods are `control.replicaset.reconcile`'s; this applies them.
        """
        workload = self.workloads[name]
        pods = self.state.pods_of(name)
        per_rs = self.rs_replicas.get(name)
        if per_rs is not None:  # mid-rollout: each ReplicaSet reconciles its own pods
            for rev, replicas in per_rs.items():
                self._reconcile_pods(workload, [p for p in pods if p.revision == rev], replicas, rev)
            return
        self._reconcile_pods(workload, pods, self.desired[name], None)

    def _reconcile_pods(
        self, workload: Workload, pods: list[Pod], desired: int, revision: str | None
    ) -> None:
        stateful = workload.kind == "StatefulSet"
        if sum(1 for p in pods if stateful or p.phase is not PodPhase.TERMINATING) == desired:
            return  # in sync: `reconcile_replicas` would create and delete nothing: no view built
        view = [
            ReplicaPod(
                p.name,
                p.node is not None,
                p.phase is PodPhase.READY,
                p.phase is PodPhase.TERMINATING,
                p.ready_s,
                p.created_s,
            )
            for p in pods
        ]
        decision = reconcile_replicas(workload.kind, desired, view, self.env.now)
        if decision.create:
            for _ in range(decision.create):
                self._pending.append(self._create_pod(workload, revision).name)
            self._record_pending()
            self.wake_scheduler()
        for pod_name in decision.delete:
            self.delete_pod(self.state.pods[pod_name], "ScaledDown")

    def delete_pod(self, pod: Pod, reason: str, grace_s: float | None = None) -> None:
        """Graceful delete: out of endpoints now, requests held until the grace period ends
        (`grace_s`, else the workload's terminationGracePeriodSeconds)."""
        if pod.phase in (PodPhase.TERMINATING, PodPhase.GONE):
            return
        self._event(self.env.now, "Pod", pod.name, reason, f"deleting pod of {pod.workload}")
        if pod.phase is PodPhase.PENDING:
            self._release(pod)
            return
        was_ready = pod.phase is PodPhase.READY
        pod.phase, pod.deleted_s = PodPhase.TERMINATING, self.env.now
        if pod.node in self.state.nodes:
            self.state.nodes[pod.node].view_cache = None
            self.state.touch()
        if was_ready:
            self._set_ready(pod, False)
        self.env.process(self._terminate(pod, grace_s))

    def _terminate(self, pod: Pod, grace_s: float | None = None) -> Any:
        grace = self.workloads[pod.workload].terminationGracePeriodSeconds if grace_s is None else grace_s
        yield self.env.timeout(grace)
        node = self.state.nodes.get(pod.node) if pod.node else None
        if node is not None and node.alive and not node.ready:
            return  # no kubelet to confirm: the pod stays Terminating until its node returns or is deleted
        self.finish_termination(pod)

    def finish_termination(self, pod: Pod) -> None:
        if pod.phase is PodPhase.GONE:
            return
        self._release(pod)
        self.reconcile(pod.workload)  # a StatefulSet replaces the pod only now
        self.wake_scheduler()
        if self._watch:
            self.notify_watchers(pod.workload)

    def evict(self, pod: Pod, reason: str, grace_s: float | None = None) -> None:
        """Evict a pod (drain, node loss): delete it and let its controller replace it at once."""
        self.delete_pod(pod, reason, grace_s)
        self.reconcile(pod.workload)

    # ------------------------------------------------------------------------- node control
    def remove_node(
        self,
        node: Node,
        reason: str,
        deadline_s: float | None = None,
        then: Callable[[Node], None] | None = None,
        evict_daemon_pods: bool = False,
    ) -> None:
        """Cordon and evict every workload pod, then delete the node once they are gone, or at
        `deadline_s` (a spot notice) whatever is left; `then(node)` runs once it is deleted (the
        group launching a replacement: `Cloud.replace`). DaemonSet pods go with the node (a drain
        ignores them, as `kubectl drain --ignore-daemonsets` does) unless `evict_daemon_pods` (the
        cluster autoscaler's --daemonset-eviction-for-* flags): then they are evicted too, best
        effort, not waited for."""
        node.cordon()
        self.state.touch()
        daemon_pods = self.state.daemon_pods_on(node) if evict_daemon_pods else []
        evicted = len(node.pods) - len(self.state.daemon_pods_on(node)) + len(daemon_pods)
        self._event(self.env.now, "Node", node.name, reason, f"draining {evicted} pod(s)")
        grace = 0.0
        for name in sorted(node.pods):
            pod = self.state.pods.get(name)
            if pod is not None:
                grace = max(grace, float(self.workloads[pod.workload].terminationGracePeriodSeconds))
                self.evict(pod, "Evicted")
        for pod in daemon_pods:
            self._evict_daemon_pod(pod)
        wait = grace if deadline_s is None else deadline_s

        def gone() -> Any:
            yield self.env.timeout(wait)
            if not node.alive:
                return
            for name in sorted(node.pods):  # killed with the instance
                pod = self.state.pods.get(name)
                if pod is not None:
                    self._release(pod)
                    self.reconcile(pod.workload)
            for pod in self.state.daemon_pods_on(node):  # DaemonSet pods die with their node
                self.state.release(pod, self.env.now)
            node.removed_s = self.env.now
            self.state.touch()
            self._record_nodes(self.env.now, node.pool, node.zone)
            self._event(self.env.now, "Node", node.name, "NodeRemoved", reason)
            if then is not None:
                then(node)
            self.wake_scheduler()

        self.env.process(gone())

    def _evict_daemon_pod(self, pod: Pod) -> None:
        """Delete a DaemonSet pod gracefully (the node is on its way out: a replacement the
        DaemonSet controller might create there is not modelled)."""
        self._event(self.env.now, "Pod", pod.name, "Evicted", f"deleting pod of DaemonSet {pod.workload}")
        pod.phase, pod.deleted_s = PodPhase.TERMINATING, self.env.now
        if pod.node in self.state.nodes:
            self.state.nodes[pod.node].view_cache = None
        self.state.touch()

        def gone() -> Any:
            yield self.env.timeout(DAEMON_POD_GRACE_S)
            node = self.state.nodes.get(pod.node) if pod.node else None
            if node is not None and node.alive and not node.ready:
                return  # no kubelet to confirm: it goes when the node does
            if pod.phase is not PodPhase.GONE:
                self.state.release(pod, self.env.now)

        self.env.process(gone())

    def record_fault(self, kind: str, target: str, detail: str) -> None:
        self.out.fault_rows.append((self.env.now, kind, target, detail))
        self._event(self.env.now, "Fault", target, kind, detail)

    def event(self, kind: str, obj: str, reason: str, message: str) -> None:
        self._event(self.env.now, kind, obj, reason, message)

    def record_decision(
        self, controller: str, obj: str, before: int, after: int, reason: str, message: str
    ) -> None:
        self.out.decision_rows.append((self.env.now, controller, obj, before, after, reason, message))

    def _event(self, now: float, kind: str, obj: str, reason: str, message: str) -> None:
        self.out.event_rows.append((now, kind, obj, reason, message))
