"""The cluster autoscaler loop: a SimPy process around the pure `control.ca` scale_up / scale_down.

Every `--scan-interval` it builds the autoscaler's view of the cluster (`CAInputs`, rebuilt only
after a state change), calls the pure controller, and applies the result: launches and
cancellations through `engine.cloud`, node removals through the engine's drain.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from simkit.catalog.node_labels import zone_labels
from simkit.catalog.provisioning import provision_time_distribution
from simkit.control.ca import (
    CAFlags,
    CANode,
    CAPod,
    CAState,
    NodeGroup,
    PodDisruptionBudget,
    register_failed_scale_up,
    scale_down,
    scale_up,
)
from simkit.control.ca.model import ANN_SCALE_DOWN_DISABLED
from simkit.control.ca.scale_down import eligibility_reason
from simkit.control.daemonset import DAEMON_POD_GRACE_S, place_daemon_pods
from simkit.control.types import HOSTNAME_LABEL, NodeView
from simkit.engine.ca_noop import NoOpScan
from simkit.engine.cluster import WARM_START_S, Engine
from simkit.engine.state import Node, Pod, PodPhase
from simkit.scenario.model import NodePool

__all__ = [
    "CAInputs",
    "ca_group",
    "pods_read_by_scale_down",
    "scale_up_at_start",
    "start_cluster_autoscaler",
]


def start_cluster_autoscaler(engine: Engine) -> None:
    """The cluster autoscaler, if the scenario configures one and some pool autoscales."""
    flags = engine.scenario.cluster.ca_flags  # parsed once, when the scenario was validated
    if flags is not None and any(_bounds(engine, p, flags) for p in engine.scenario.cluster.node_pools):
        engine.env.process(_ca_loop(engine, flags))


@dataclass(frozen=True)
class CAInputs:
    """The CA's view of the cluster; valid while the engine's state version is `version`.

    The pods of each node (`pods_for`) and the PodDisruptionBudgets (`pdbs`) are built on first
    use and kept for the version: a scan asks only for what its scale-down pass can read.
    """

    version: int
    groups: list[NodeGroup]
    nodes: list[CANode]
    engine: Engine = field(repr=False, compare=False)
    _pods: dict[str, list[CAPod]] = field(default_factory=dict, repr=False, compare=False)
    _pdbs: list[list[PodDisruptionBudget]] = field(default_factory=list, repr=False, compare=False)

    memo: _Reuse | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(
        cls, engine: Engine, pools: list[NodePool], flags: CAFlags, memo: _Reuse | None = None
    ) -> CAInputs:
        """The view at the engine's state version; `memo` reuses the parts that did not change."""
        bounds = [(p, _bounds(engine, p, flags)) for p in pools]
        autoscaled = {p.name for p in pools}
        return cls(
            version=engine.state.version,
            groups=[
                ca_group(engine, p, b) if memo is None else memo.group(engine, p, b)  # type: ignore[arg-type]
                for p, b in bounds
            ],
            nodes=_ca_nodes(engine, autoscaled) if memo is None else memo.nodes(engine, autoscaled),
            engine=engine,
            memo=memo,
        )

    def pods_for(self, names: Iterable[str]) -> dict[str, list[CAPod]]:
        """The pods bound to each named node, as the CA sees them (built once per node and version)."""
        engine, built = self.engine, self._pods
        for name in names:
            if name not in built:
                built[name] = [_ca_pod(engine, p) for p in engine.state.bound_pods(engine.state.nodes[name])]
        return {name: built[name] for name in names}

    @property
    def pods_by_node(self) -> dict[str, list[CAPod]]:
        """The pods of every node (`pods_for` all of them)."""
        return self.pods_for([n.name for n in self.nodes])

    @property
    def pdbs(self) -> list[PodDisruptionBudget]:
        """The cluster's PodDisruptionBudgets with their allowed disruptions (built once per version)."""
        if not self._pdbs:
            self._pdbs.append(_pdbs(self.engine) if self.memo is None else self.memo.pdbs(self.engine))
        return self._pdbs[0]


class _Reuse:
    """The CA's views that outlive a state version, each rebuilt only when what it reads changed.

    A node group is a function of its pool, bounds, launch zone and size (the pool's shape and the
    DaemonSet specs are fixed for the run); a node's `CANode` of its scheduler view (a new object
    after every change, `ClusterState.node_view`), readiness, cordon and upgrade; the PDBs of each
    budget's desired and healthy counts. One entry per pool and node: the last one.
    """

    def __init__(self) -> None:
        self._groups: dict[str, tuple[tuple[object, ...], NodeGroup]] = {}
        self._nodes: dict[str, tuple[tuple[object, ...], CANode]] = {}
        self._pdbs: tuple[tuple[object, ...], list[PodDisruptionBudget]] | None = None

    def group(self, engine: Engine, pool: NodePool, bounds: tuple[int, int]) -> NodeGroup:
        key = (pool, bounds, engine.cloud.launch_zone(pool), _group_size(engine, pool.name))
        last = self._groups.get(pool.name)
        if last is None or last[0] != key or last[0][0] is not pool:
            last = self._groups[pool.name] = (key, ca_group(engine, pool, bounds))
        return last[1]

    def nodes(self, engine: Engine, autoscaled: set[str]) -> list[CANode]:
        out = []
        for n in engine.state.alive_nodes():
            view = engine.state.node_view(n)
            key = (
                view,
                n.pool in autoscaled,
                n.ready,
                n.created_s,
                n.cordoned,
                n.pool in engine.upgrading_pools,
            )
            last = self._nodes.get(n.name)
            if last is None or last[0][0] is not view or last[0][1:] != key[1:]:
                last = self._nodes[n.name] = (key, _ca_node(engine, n, autoscaled))
            out.append(last[1])
        return out

    def pdbs(self, engine: Engine) -> list[PodDisruptionBudget]:
        key = tuple(
            (w.name, engine.desired[w.name], engine.ready_count[w.name])
            for w in engine.scenario.workloads
            if w.pdb is not None
        )
        if self._pdbs is None or self._pdbs[0] != key:
            self._pdbs = (key, _pdbs(engine))
        return self._pdbs[1]


def pods_read_by_scale_down(
    nodes: list[CANode], groups: list[NodeGroup], state: CAState, now: float
) -> list[str]:
    """The nodes whose pods `control.ca.scale_down` may read at `now` with `state`: the others' never are.

    scale_down reads a node's pods only in `eligibility_reason` (its utilization) and, for the
    eligible ones, the drain simulation. eligibility_reason returns before reading them for a node
    recently found unremovable (`state.unremovable_until` after `now`, the first check) and for a
    node outside the autoscaled groups (cluster-autoscaler `core/scaledown/eligibility/eligibility.go`
    checks both before the utilization, as `control/ca/scale_down.py` cites). So the decision is the
    same with only these nodes' pods: during a rollout, most scans find every autoscaled node
    recently unremovable and build no pod at all.
    """
    autoscaled = {g.name for g in groups}
    return [
        n.name
        for n in nodes
        if n.group is not None
        and n.group in autoscaled
        and not state.unremovable_until.get(n.name, -math.inf) > now
    ]


def scale_up_at_start(engine: Engine, pending: list[Pod]) -> dict[str, int]:
    """The nodes per pool the cluster autoscaler's scale-up asks for `pending` at t=0 (warm start).

    One `scale_up` pass on the bootstrapped cluster, from a fresh CA state, within each group's
    bounds (its `--nodes` range or the pool's own); {} without a cluster autoscaler. The pods are
    seen as pending since `-WARM_START_S`, as on a running platform (past `--new-pod-scale-up-delay`).
    """
    flags = engine.scenario.cluster.ca_flags
    if flags is None or not pending:
        return {}
    pools = [p for p in engine.scenario.cluster.node_pools if _bounds(engine, p, flags)]
    if not pools:
        return {}
    inputs = CAInputs.build(engine, pools, flags)
    pods = [replace(_ca_pod(engine, p), created_at=-WARM_START_S) for p in pending]
    upcoming = dict.fromkeys((p.name for p in pools), 0)
    up = scale_up(pods, inputs.groups, inputs.nodes, upcoming, flags, CAState(), 0.0, engine.rng["bootstrap"])
    return {name: count for name, count in up.increases.items() if count > 0}


def _bounds(engine: Engine, pool: NodePool, flags: CAFlags) -> tuple[int, int] | None:
    """(min, max) of an autoscaled pool: its `--nodes` entry, else the pool's own, if it autoscales."""
    declared = flags.bounds_for(pool.name)
    if declared is not None:
        return declared.min_size, declared.max_size
    return (pool.min_nodes, pool.max_nodes) if pool.autoscaling and not flags.nodes else None


LIGHT_SCANS = True  # scans after the first as timer callbacks, not process resumptions; tests turn it off
SKIP_QUIET_SCANS = (
    True  # while quiet, no timers for the scans before the next queued event; tests turn it off
)
REUSE_VIEWS = (
    True  # node groups, CANodes and PDBs rebuilt only when what they read changed; tests turn it off
)
SKIP_NOOP_SCANS = True  # scans that provably repeat a quiet one are skipped (ca_noop); tests turn it off
RECHECK_BUSY_NODES = (
    True  # a busy node whose pods changed is rechecked, not rescanned (ca_noop); tests turn it off
)
LEAN_SCALE_DOWN = True  # scale-down gets just the pods it reads (pods_read_by_scale_down); tests turn it off


def _ca_loop(engine: Engine, flags: CAFlags) -> Any:
    """The CA process: a scan every `--scan-interval` (cluster-autoscaler `main.go`, default 10 s).

    With `LIGHT_SCANS`, the first timer resumes this process and every later scan runs as a callback
    of a plain `Timeout` created at the very instant the process would have created its next timer
    (`_Scanner.tick`): same times (`now + interval`), same place among same-instant events (SimPy
    orders them by (time, priority, insertion order), and the timer is inserted at the same point),
    so every decision is the same; what is saved is the process machinery around the ~60,000 scans
    of a 7-day run that find nothing changed (`_Scanner.scan`'s first test). With
    `SKIP_QUIET_SCANS`, a scan that leaves the CA quiet sets the timer of the first scan at or after
    the next queued event (`_past_idle_scans`): the scans before it are provably no-ops. The CA's
    own timers (unneeded time, delays after scale-up) need no wake-up of their own: a quiet scan has
    no unneeded node, no pending pod and nothing provisioning, and the reference loop too skips on
    an unchanged state version alone.
    """
    scanner = _Scanner(engine, flags)
    yield engine.env.timeout(flags.scan_interval)
    if LIGHT_SCANS:
        scanner.tick(None)
        yield engine.env.event()  # never triggered: the timers carry the loop from here on
    while True:
        scanner.scan()
        yield engine.env.timeout(flags.scan_interval)


def _past_idle_scans(now: float, interval: float, next_event: float) -> float:
    """The delay from `now` to the first scan at or after `next_event`, the next event in the queue.

    Called after a scan that left the CA quiet (`quiet_version` is the state's version). Until the
    next queued event nothing at all happens: every scan on the grid before it would find the same
    version (a no-op) and do nothing but set its successor's timer. So the timer of the first scan
    at or after `next_event` can be set now instead: same time (the grid by repeated addition, as
    `Timeout` computes `now + interval`), and the same place among same-instant events, since SimPy
    orders them by insertion and nothing else is inserted between now and that skipped last scan.
    Falls back to one interval when the delay's float sum would not land exactly on the grid point.
    """
    if not math.isfinite(next_event):
        return interval
    at = now + interval
    while at < next_event:
        at = at + interval
    delay = at - now
    return delay if now + delay == at else interval


class _Scanner:
    """One cluster autoscaler's state across scans (`CAState`, the cached `CAInputs`, the last status)."""

    def __init__(self, engine: Engine, flags: CAFlags) -> None:
        self.engine, self.flags = engine, flags
        self.state = CAState()
        self.rng = engine.rng["provisioning"]
        self.provision = provision_time_distribution("node-group")
        self.pools = [p for p in engine.scenario.cluster.node_pools if _bounds(engine, p, flags)]
        self.last = ("", "")
        self.cache: CAInputs | None = None
        self.reuse = _Reuse() if REUSE_VIEWS else None
        self.quiet_version = -1  # state version at which the last scan found nothing to do, no timer running
        self.noop: NoOpScan | None = None  # the last full scan, if one that read no pod (`ca_noop`)

    def tick(self, _event: object) -> None:
        """Scan now, then set the timer of the next scan that may see something (a callback of it)."""
        self.scan()
        env = self.engine.env
        delay = self.flags.scan_interval
        if SKIP_QUIET_SCANS and self.quiet_version == self.engine.state.version:
            delay = _past_idle_scans(env.now, delay, env.peek())
        env.timeout(delay).callbacks.append(self.tick)  # type: ignore[union-attr]

    def _recheck(self, name: str) -> str | None:
        """Node `name`'s scale-down eligibility reason now, as a full scan's `scale_down` finds it
        (the node and its pods as `CAInputs` builds them; `ca_noop.NoOpScan.repeats`)."""
        engine, cache = self.engine, self.cache
        if not RECHECK_BUSY_NODES or cache is None:
            return None
        node = engine.state.nodes[name]
        ca_node = _ca_node(engine, node, {p.name for p in self.pools})
        pods = [_ca_pod(engine, p) for p in engine.state.bound_pods(node)]
        groups = {g.name: g for g in cache.groups}  # read for their names only, fixed for the run
        return eligibility_reason(ca_node, pods, groups, self.flags, self.state, engine.env.now)[0]

    def scan(self) -> None:
        """One CA loop iteration (`StaticAutoscaler.RunOnce`): scale-up, then scale-down."""
        engine, flags, pools = self.engine, self.flags, self.pools
        if engine.state.version == self.quiet_version:
            # Nothing changed since a loop that found nothing to do: every new pending pod, launch
            # and launch failure changes the version; the same decision again.
            return
        cloud = engine.cloud
        now = engine.env.now
        pending_pods = engine.pending_pods()
        stirred = pending_pods or cloud.launch_failures or any(cloud.provisioning[p.name] for p in pools)
        if (
            self.noop is not None
            and not stirred
            and self.noop.repeats(engine, flags, self.state, now, self._recheck)
        ):
            self.quiet_version = engine.state.version  # the same quiet decision again (`ca_noop`)
            return
        self.noop = None
        state = self.state
        for failed in cloud.launch_failures:  # the cloud refused instances: back the group off
            if failed in {p.name for p in pools}:
                state = register_failed_scale_up(state, failed, now, flags)
                engine.record_decision(
                    "cluster-autoscaler",
                    failed,
                    0,
                    0,
                    "FailedToScaleUpGroup",
                    f"{failed}: instances could not be launched; backing off",
                )
        cloud.launch_failures.clear()
        busy = pending_pods or any(cloud.provisioning[p.name] for p in pools)
        cache = self.cache
        if cache is None or cache.version != engine.state.version:  # rebuild the views only after a change
            cache = self.cache = CAInputs.build(engine, pools, flags, self.reuse)
        groups, nodes = cache.groups, cache.nodes
        pending = [_ca_pod(engine, p) for p in pending_pods]
        upcoming = {p.name: len(cloud.provisioning[p.name]) for p in pools}
        up = scale_up(pending, groups, nodes, upcoming, flags, state, now, engine.rng["controllers"])
        for pool_name, count in up.reverted.items():
            cloud.cancel(pool_name, count)
        for pool_name, count in up.increases.items():
            pool = engine.scenario.pool(pool_name)
            before = _group_size(engine, pool_name)
            for _ in range(count):
                cloud.launch(pool, cloud.launch_zone(pool), self.provision.sample(self.rng))
            engine.record_decision(
                "cluster-autoscaler", pool_name, before, before + count, up.reason, up.message
            )
        read = pods_read_by_scale_down(nodes, groups, up.state, now) if LEAN_SCALE_DOWN else None
        pods_by_node = cache.pods_by_node if read is None else cache.pods_for(read)
        pdbs = cache.pdbs if read is None or read else []  # read only for the nodes with pods
        down = scale_down(nodes, pods_by_node, groups, flags, up.state, now, pdbs=pdbs)
        self.state = down.state
        for name in down.remove:
            node = engine.state.nodes[name]
            before = _group_size(engine, node.pool)
            engine.record_decision(
                "cluster-autoscaler",
                node.pool,
                before,
                before - 1,
                "ScaleDown",
                down.messages.get(name, f"removing {name}"),
            )
            evict_ds = (
                flags.daemonset_eviction_for_empty_nodes
                if name in down.empty
                else flags.daemonset_eviction_for_occupied_nodes
            )
            engine.remove_node(node, "ScaleDown", evict_daemon_pods=evict_ds)
        if (up.reason, down.status) != self.last and not up.increases and not down.remove:
            engine.record_decision(
                "cluster-autoscaler",
                "cluster",
                sum(g.target_size for g in groups),
                sum(g.target_size for g in groups),
                up.reason,
                up.message,
            )
        self.last = (up.reason, down.status)
        quiet = not (up.increases or up.reverted or down.remove or down.unneeded or busy)
        self.quiet_version = engine.state.version if quiet else -1
        if SKIP_NOOP_SCANS and quiet and read is not None:
            why = {name: down.reasons.get(name) for name in read}
            self.noop = NoOpScan.after(engine, flags, self.state, {p.name for p in pools}, now, why)


def _group_size(engine: Engine, pool: str) -> int:
    """The group's target size: every node still in it (cordoned ones too, as the ASG counts them
    until they are deleted) plus those launching. Cordoned nodes are the deletions in progress that
    scale-down subtracts (`_ca_nodes`); leaving them out here too subtracted them twice, and a pool
    with nodes left cordoned (after a failed upgrade, a drain) never scaled down again."""
    alive = sum(1 for n in engine.state.alive_nodes() if n.pool == pool)
    return alive + len(engine.cloud.provisioning[pool])


def ca_group(engine: Engine, pool: NodePool, bounds: tuple[int, int]) -> NodeGroup:
    """The pool as a node group; its template node carries the DaemonSet pods a new node would run."""
    shape = engine.pool_shape(pool)
    zone = engine.cloud.launch_zone(pool)
    labels = {**shape.labels, **zone_labels(zone), HOSTNAME_LABEL: f"template-{pool.name}"}
    template = NodeView(
        name=f"template-{pool.name}",
        labels=labels,
        taints=shape.taints,
        alloc_cpu_m=shape.cpu_m,
        alloc_mem_mib=shape.mem_mib,
        alloc_pods=shape.max_pods,
    )
    template, _ = place_daemon_pods(engine.daemon_specs, template)
    return NodeGroup(
        name=pool.name,
        min_size=bounds[0],
        max_size=bounds[1],
        target_size=_group_size(engine, pool.name),
        template=template,
        price_per_hour=shape.usd_hour,
        zone=zone,
        labels=labels,
    )


def _ca_nodes(engine: Engine, autoscaled: set[str]) -> list[CANode]:
    return [_ca_node(engine, n, autoscaled) for n in engine.state.alive_nodes()]


def _ca_node(engine: Engine, n: Node, autoscaled: set[str]) -> CANode:
    return CANode(
        view=engine.state.node_view(n),
        group=n.pool if n.pool in autoscaled else None,
        ready=n.ready,
        created_at=n.created_s,
        deletion="drain" if n.cordoned else None,
        annotations={ANN_SCALE_DOWN_DISABLED: "true"} if n.pool in engine.upgrading_pools else {},
    )


def _ca_pod(engine: Engine, pod: Pod) -> CAPod:
    if pod.daemonset:
        namespace, owner, grace = engine.daemonsets[pod.workload].namespace, "DaemonSet", DAEMON_POD_GRACE_S
    else:
        w = engine.workloads[pod.workload]
        namespace, grace = w.namespace, float(w.terminationGracePeriodSeconds)
        owner = "StatefulSet" if w.kind == "StatefulSet" else "ReplicaSet"
    return CAPod(
        spec=pod.spec,
        namespace=namespace,
        owner_kind=owner,
        created_at=pod.created_s,
        termination_grace_s=grace,
        phase="Pending" if pod.phase is PodPhase.PENDING else "Running",
        deletion_timestamp=pod.deleted_s if pod.phase is PodPhase.TERMINATING else None,
    )


def _pdbs(engine: Engine) -> list[PodDisruptionBudget]:
    out = []
    for w in engine.scenario.workloads:
        if w.pdb is None:
            continue
        healthy = engine.ready_count[w.name]
        out.append(
            PodDisruptionBudget(
                name=f"{w.name}-pdb",
                namespace=w.namespace,
                match_labels=w.pod_labels,
                disruptions_allowed=w.pdb.allowed_disruptions(engine.desired[w.name], healthy),
            )
        )
    return out
