"""Karpenter as the node provisioner: a SimPy process around the pure control/karpenter functions.

Provisioning (control/karpenter/provisioning.py) batches the unschedulable pods and launches the
cheapest fitting offerings through `engine.cloud` ("karpenter" provisioning-time preset); nodes
carry Karpenter's labels. Disruption (control/karpenter/controller.py `reconcile`) runs every 10 s:
the command is validated again after 15 s, replacements are launched and Ready before the
candidates are drained through `Engine.remove_node`. Spot interruptions of Karpenter's spot nodes
go through faults.interrupt (notice, drain); their pods go Pending and the provisioner refills.
Every decision and non-decision goes to `result.decisions` with Karpenter's reason text.

Drift and expiry (control/karpenter/drift.py): each synthetic node group remembers the NodePool
template hash it was launched from; a `cluster.nodepool_changes` entry replaces the pool's spec at its
time, and nodes from the old template (or whose labels no longer meet the requirements) are Drifted
candidates for the disruption controller. A node older than its `expireAfter` is deleted at once
(forceful, no budget), drained within the pool's `terminationGracePeriod`.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from simkit.catalog.allocatable import allocatable_for
from simkit.catalog.catalog import InstanceType as CatalogType
from simkit.catalog.node_labels import karpenter_labels, pool_labels
from simkit.catalog.provisioning import provision_time_distribution
from simkit.control import karpenter as k
from simkit.control.karpenter.drift import drift_reason, expires_at
from simkit.control.karpenter.provisioning import Offer, batch_ready, provision
from simkit.control.scheduler import filter_node
from simkit.engine.ca_loop import _pdbs, start_cluster_autoscaler
from simkit.engine.cluster import Engine
from simkit.engine.faults import _spot_rate_per_s, interrupt
from simkit.engine.state import Node, Pod
from simkit.scenario.karpenter import KarpenterNodePool, NodePoolChange, instance_labels, matching_types
from simkit.scenario.model import NodePool

__all__ = [
    "DISRUPTION_INTERVAL_S",
    "EPOCH",
    "UNAVAILABLE_OFFERING_TTL_S",
    "VALIDATION_S",
    "Karpenter",
    "bootstrap_nodeclaims",
    "karpenter_of",
    "start_node_provisioner",
]

DISRUPTION_INTERVAL_S = 10.0  # disruption controller's polling period (controller.go pollingPeriod)
VALIDATION_S = 15.0  # consolidation validation delay (validation.go)
UNAVAILABLE_OFFERING_TTL_S = 180.0  # unavailable-offerings cache TTL (aws provider, 3 min)
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)  # simulated t=0 as the controller's wall clock
_MIB = 1048576 * 1000  # MiB in Karpenter's milli-bytes
_RUNNING: weakref.WeakKeyDictionary[Engine, Karpenter] = weakref.WeakKeyDictionary()


def karpenter_of(engine: Engine) -> Karpenter | None:
    """The Karpenter running in `engine` (None under the cluster autoscaler): for dry runs."""
    return _RUNNING.get(engine)


def start_node_provisioner(engine: Engine) -> None:
    """Karpenter when `cluster.node_provisioner` is karpenter, else the cluster autoscaler."""
    if engine.scenario.cluster.node_provisioner != "karpenter":
        start_cluster_autoscaler(engine)
        return
    kp = _RUNNING.get(engine) or Karpenter(engine)
    _RUNNING[engine] = kp
    engine.env.process(kp.provisioner())
    engine.env.process(kp.disruption())
    engine.env.process(kp.expiration())
    for change in engine.scenario.cluster.nodepool_changes:
        engine.env.process(kp.apply_change(change))
    if engine.scenario.faults.spot.enabled:
        engine.env.process(kp.spot_interruptions())


def bootstrap_nodeclaims(engine: Engine, pods: list[Pod]) -> list[tuple[NodePool, str]]:
    """The NodeClaims Karpenter runs before t=0 for the pods no fixed pool fits: the cheapest
    offerings its provisioner picks for them (the steady state the node groups' start size is for
    the cluster autoscaler), so a Karpenter run does not start with its workloads Pending."""
    kp = _RUNNING.get(engine) or Karpenter(engine)
    _RUNNING[engine] = kp
    result = provision(
        [(p.name, p.spec) for p in pods],
        engine.state.node_views(),
        kp.offers(0.0),
        {n: p.weight for n, p in kp.pools.items()},
        kp._limits_left(),
        engine.daemon_specs,
    )
    out = []
    for launch in result.launches:
        o = launch.offer
        np = kp.pools[o.nodepool]
        it = next(t for t in kp.types[np.name] if t.name == o.instance_type)
        out.append((kp._engine_pool(np, it, o.capacity_type), o.zone))
        engine.record_decision(
            "karpenter",
            o.nodepool,
            0,
            1,
            "Launched",
            f"nodeclaim {o.instance_type} {o.capacity_type} in {o.zone} (${o.price:.4f}/h) running before "
            f"t=0 for {len(launch.pods)} pod(s)",
        )
    return out


def _t(s: float) -> datetime:
    return EPOCH + timedelta(seconds=s)


def _td(s: float | None) -> timedelta | None:
    return None if s is None else timedelta(seconds=s)


class Karpenter:
    """Karpenter's state in one run: NodePools, offerings, in-flight NodeClaims, refused offerings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        cl = engine.scenario.cluster
        self.pools = {p.name: p for p in cl.nodepools}
        self.types: dict[str, list[CatalogType]] = {
            p.name: matching_types(p, engine.catalog.instance_types(cl.provider, cl.region))
            for p in cl.nodepools
        }
        self.node_pools: dict[str, NodePool] = {}  # engine pool name -> its synthetic node group
        self.owner: dict[str, str] = {}  # engine pool name -> Karpenter NodePool
        self.inflight: dict[str, tuple[str, tuple[str, ...]]] = {}  # ticket -> (engine pool, pods)
        self.refused: dict[tuple[str, str, str], float] = {}  # (type, zone, ct) -> until
        self.provision_time = provision_time_distribution("karpenter")
        self.last_command = ""
        self.generation: dict[str, int] = {p.name: 0 for p in cl.nodepools}  # NodePool revisions
        self.changed_at: dict[str, float] = {}  # NodePool -> time of its last spec change
        self.launched_from: dict[str, KarpenterNodePool] = {}  # engine pool -> template it launched
        self.blocked: dict[str, str] = {}  # node -> its last DisruptionBlocked text
        self._hashes: dict[int, tuple[KarpenterNodePool, str]] = {}  # id -> (template, its hash)

    # ------------------------------------------------------------------------ offerings
    def _engine_pool(self, np: KarpenterNodePool, it: CatalogType, ct: str) -> NodePool:
        name = f"{np.name}-{it.name.replace('.', '-')}-{'spot' if ct == 'spot' else 'od'}"
        if self.generation.get(np.name, 0):
            name += f"-r{self.generation[np.name]}"
        pool = self.node_pools.get(name)
        if pool is None:
            labels = {**instance_labels(it), **karpenter_labels(np.name, ct), **np.labels}
            pool = NodePool(
                name=name,
                instance_type=it.name,
                capacity_type=ct,  # type: ignore[arg-type]
                min_nodes=0,
                max_nodes=10000,
                autoscaling=False,
                labels=labels,
                taints=np.taints,
            )
            self.node_pools[name], self.owner[name] = pool, np.name
            self.launched_from[name] = np
            self.engine.cloud.self_replacing.add(name)
        return pool

    def _capacity_types(self, np: KarpenterNodePool) -> list[str]:
        return [ct for ct in ("spot", "on-demand") if np.allows("karpenter.sh/capacity-type", ct)]

    def _zones(self, np: KarpenterNodePool) -> list[str]:
        return [z for z in self.engine.scenario.cluster.zones if np.allows("topology.kubernetes.io/zone", z)]

    def offers(self, now: float) -> list[Offer]:
        """Every available offering of every NodePool (refused ones dropped until their TTL)."""
        cl = self.engine.scenario.cluster
        out = []
        for np in self.pools.values():
            for it in self.types[np.name]:
                cpu_m, mem_mib = allocatable_for(it)
                for ct in self._capacity_types(np):
                    pool = self._engine_pool(np, it, ct)
                    shape = self.engine.pool_shape(pool)
                    for zone in self._zones(np):
                        if (
                            self.refused.get((it.name, zone, ct), -1.0) > now
                            or zone in self.engine.cloud.zones_down
                        ):
                            continue
                        out.append(
                            Offer(
                                np.name,
                                it.name,
                                zone,
                                ct,
                                it.usd_hour(ct),
                                cpu_m,
                                mem_mib,
                                shape.max_pods,
                                it.vcpu * 1000,
                                it.memory_gib * 1024,
                                {
                                    **pool_labels(cl.provider, cl.region, pool.name, it.name, ct),
                                    **shape.labels,
                                },
                                shape.taints,
                            )
                        )
        return out

    def _limits_left(self) -> dict[str, tuple[float, float]]:
        used: dict[str, list[float]] = {p: [0.0, 0.0] for p in self.pools}
        launched = [n.pool for n in self.engine.state.alive_nodes()] + [p for p, _ in self.inflight.values()]
        for pool_name in launched:
            if pool_name in self.owner:
                it = self.engine.catalog.instance(
                    self.engine.scenario.cluster.provider,
                    self.engine.scenario.cluster.region,
                    self.node_pools[pool_name].instance_type,
                )
                u = used[self.owner[pool_name]]
                u[0] += it.vcpu * 1000
                u[1] += it.memory_gib * 1024
        out = {}
        for name, np in self.pools.items():
            cpu = float("inf") if np.limits.cpu is None else np.limits.cpu - used[name][0]
            mem = float("inf") if np.limits.memory is None else np.limits.memory - used[name][1]
            out[name] = (cpu, mem)
        return out

    def launch(self, offer: Offer, pods: tuple[str, ...]) -> str:
        np = self.pools[offer.nodepool]
        it = next(t for t in self.types[np.name] if t.name == offer.instance_type)
        pool = self._engine_pool(np, it, offer.capacity_type)
        delay = self.provision_time.sample(self.engine.rng["provisioning"])
        ticket = self.engine.cloud.launch(pool, offer.zone, delay)
        self.inflight[ticket] = (pool.name, pods)
        return ticket

    def _settle(self, now: float) -> None:
        """Forget claims that joined or failed; a refused offering is unavailable for a while.

        A NodeClaim's CreateFleet request carries every compatible instance type of its capacity type
        (karpenter-provider-aws pkg/providers/instance/instance.go, up to 60 overrides), so an
        InsufficientInstanceCapacity answer marks all of them unavailable (pkg/cache/
        unavailableofferings.go, 3 min) and the next launch falls back to the other capacity type."""
        for failed in self.engine.cloud.launch_failures:
            pool = self.node_pools.get(failed)
            if pool is not None:
                owner = self.owner[failed]
                for it in self.types[owner]:
                    for zone in self.engine.scenario.cluster.zones:
                        self.refused[(it.name, zone, pool.capacity_type)] = now + UNAVAILABLE_OFFERING_TTL_S
                self.engine.record_decision(
                    "karpenter",
                    owner,
                    0,
                    0,
                    "InsufficientCapacityError",
                    f"{pool.instance_type} {pool.capacity_type}: launch refused; "
                    f"{len(self.types[owner])} {pool.capacity_type} offering(s) marked unavailable for 3m",
                )
        self.engine.cloud.launch_failures[:] = [
            f for f in self.engine.cloud.launch_failures if f not in self.owner
        ]
        live = {t for tickets in self.engine.cloud.provisioning.values() for t in tickets}
        self.inflight = {t: v for t, v in self.inflight.items() if t in live}

    # ----------------------------------------------------------------------- provisioner
    def provisioner(self) -> Any:
        engine = self.engine
        while True:
            self._settle(engine.env.now)
            waiting = self._unclaimed()
            if not waiting:
                yield engine.changed()
                continue
            first = last = engine.env.now
            seen = {p.name for p in waiting}
            while not batch_ready(first, last, engine.env.now):  # batcher.go
                yield engine.env.timeout(1.0)
                now_waiting = {p.name for p in self._unclaimed()}
                if now_waiting - seen:
                    last = engine.env.now
                seen |= now_waiting
            self._settle(engine.env.now)
            self._provision(self._unclaimed())
            yield engine.env.timeout(1.0)

    def _unclaimed(self) -> list[Pod]:
        claimed = {p for _, pods in self.inflight.values() for p in pods}
        return [p for p in self.engine.pending_pods() if p.name not in claimed]

    def _provision(self, pending: list[Pod]) -> None:
        if not pending:
            return
        engine, now = self.engine, self.engine.env.now
        result = provision(
            [(p.name, p.spec) for p in pending],
            engine.state.node_views(),
            self.offers(now),
            {n: p.weight for n, p in self.pools.items()},
            self._limits_left(),
            engine.daemon_specs,
        )
        for launch in result.launches:
            o = launch.offer
            self.launch(o, launch.pods)
            engine.record_decision(
                "karpenter",
                o.nodepool,
                0,
                1,
                "Launched",
                f"created nodeclaim {o.instance_type} {o.capacity_type} in {o.zone} "
                f"(${o.price:.4f}/h) for {len(launch.pods)} pod(s)",
            )
        if result.unschedulable:
            pod, why = next(iter(result.unschedulable.items()))
            engine.record_decision(
                "karpenter",
                "cluster",
                0,
                0,
                "FailedScheduling",
                f"{len(result.unschedulable)} pod(s) could not be scheduled, e.g. {pod}: {why}",
            )

    # ------------------------------------------------------------------------ disruption
    def cluster(self) -> k.Cluster:
        """The cluster as the disruption controller reads it."""
        engine, now = self.engine, self.engine.env.now
        its = []
        for name, np in self.pools.items():
            zones = self._zones(np)
            for it in self.types[name]:
                cpu_m, mem_mib = allocatable_for(it)
                offerings = tuple(
                    k.Offering(ct, z, it.usd_hour(ct), self.refused.get((it.name, z, ct), -1.0) <= now)
                    for ct in self._capacity_types(np)
                    for z in zones
                )
                cap = {"cpu": it.vcpu * 1000, "memory": int(it.memory_gib * 1024 * _MIB), "pods": 110_000}
                over = {"cpu": cap["cpu"] - cpu_m, "memory": cap["memory"] - int(mem_mib * _MIB)}
                its.append(k.InstanceType(it.name, cap, it.arch, offerings=offerings, overhead=over))
        unique = {it.name: it for it in its}
        pools = tuple(np.to_control(tuple(t.name for t in self.types[n])) for n, np in self.pools.items())
        nodes = []
        for n in engine.state.alive_nodes():
            owner = self.owner.get(n.pool)
            claim = self.launched_from.get(n.pool)  # the NodeClaim's template
            drifted, drifted_at = self._drift(n, owner, claim)
            nodes.append(
                k.Node(
                    name=n.name,
                    nodepool=owner,
                    instance_type=n.instance_type,
                    capacity_type=n.capacity_type,
                    zone=n.zone,
                    labels={kk: v for kk, v in n.labels.items() if kk != "karpenter.sh/nodepool"},
                    allocatable={
                        "cpu": n.alloc_cpu_m,
                        "memory": int(n.alloc_mem_mib * _MIB),
                        "pods": 110_000,
                    },
                    managed=owner is not None,
                    initialized_at=_t(n.created_s),
                    created_at=_t(n.created_s),
                    ready=n.ready,
                    annotations=dict(claim.annotations) if claim is not None else {},
                    marked_for_deletion=n.cordoned,
                    consolidatable=True,
                    drifted=drifted,
                    drifted_at=drifted_at,
                    termination_grace_period=_td(claim.terminationGracePeriod if claim else None),
                    expire_after=_td(claim.expire_after_s if claim else None),
                )
            )
        pods = []
        for p in engine.state.pods.values():
            if p.node is None:
                continue
            w = engine.workloads[p.workload]
            pods.append(
                k.Pod(
                    name=p.name,
                    namespace=w.namespace,
                    node=p.node,
                    requests={"cpu": p.spec.cpu_m, "memory": int(p.spec.mem_mib * _MIB)},
                    owner="StatefulSet" if w.kind == "StatefulSet" else "ReplicaSet",
                    labels=dict(p.spec.labels),
                    node_selector=dict(getattr(p.spec, "node_selector", {}) or {}),
                    annotations=dict(w.annotations),
                    start_time=_t(p.created_s),
                )
            )
        pdbs = tuple(
            k.PDB(b.name, b.namespace, dict(b.match_labels), disruptions_allowed=b.disruptions_allowed)
            for b in _pdbs(engine)
        )
        return k.Cluster(_t(now), tuple(unique.values()), pools, tuple(nodes), tuple(pods), pdbs)

    def _drift(
        self, n: Node, owner: str | None, claim: KarpenterNodePool | None
    ) -> tuple[bool, datetime | None]:
        """Whether a node drifted from its NodePool (nodeclaim/disruption/drift.go) and since when."""
        if owner is None or claim is None:
            return False, None
        pool = self.pools[owner]
        why = drift_reason(self._hash(pool), self._hash(claim), pool.requirement_tuples(), n.labels)
        if not why:
            return False, None
        return True, _t(self.changed_at.get(owner, n.created_s))

    def _hash(self, pool: KarpenterNodePool) -> str:
        """The template hash of a NodePool revision, computed once (the revision is kept alive)."""
        got = self._hashes.get(id(pool))
        if got is None or got[0] is not pool:
            got = self._hashes[id(pool)] = (pool, pool.template_hash())
        return got[1]

    def drift_reasons(self) -> dict[str, str]:
        """Every drifted node with its DriftReason (`NodePoolDrifted`, `RequirementsDrifted`)."""
        out = {}
        for n in self.engine.state.alive_nodes():
            owner, claim = self.owner.get(n.pool), self.launched_from.get(n.pool)
            if owner is not None and claim is not None:
                pool = self.pools[owner]
                why = drift_reason(self._hash(pool), self._hash(claim), pool.requirement_tuples(), n.labels)
                if why:
                    out[n.name] = why
        return out

    def apply_change(self, change: NodePoolChange) -> Any:
        """A NodePool edit at its time: new template, new instance types; old nodes drift."""
        engine = self.engine
        yield engine.env.timeout(max(0.0, change.at - engine.env.now))
        name = change.nodepool
        pool = self.pools[name] = change.apply(self.pools[name])
        cl = engine.scenario.cluster
        self.types[name] = matching_types(pool, engine.catalog.instance_types(cl.provider, cl.region))
        self.generation[name] += 1
        self.changed_at[name] = engine.env.now
        drifted = self.drift_reasons()
        reasons = sorted(set(drifted.values()))
        engine.record_decision(
            "karpenter",
            name,
            0,
            0,
            "NodePoolUpdated",
            f"NodePool {name} revision {self.generation[name]}: {len(drifted)} node(s) drifted"
            + (f" ({', '.join(reasons)})" if reasons else ""),
        )
        engine.state.touch()

    def expiration(self) -> Any:
        """nodeclaim/expiration/controller.go: delete each NodeClaim at creation + expireAfter,
        forcefully (no budget, no replacement first); its pods go Pending and are provisioned for."""
        engine = self.engine
        while True:
            now = engine.env.now
            due = []
            soonest = float("inf")
            for n in engine.state.alive_nodes():
                claim = self.launched_from.get(n.pool)
                if claim is None or n.cordoned:
                    continue
                at = expires_at(n.created_s, claim.expire_after_s)
                if at is None:
                    continue
                if at <= now:
                    due.append((n, claim))
                else:
                    soonest = min(soonest, at)
            for n, claim in due:
                grace = claim.terminationGracePeriod
                engine.record_decision(
                    "karpenter",
                    self.owner[n.pool],
                    1,
                    0,
                    "Disrupting/Expired",
                    f"deleting expired nodeclaim {n.name} (expireAfter {claim.expireAfter}s"
                    + (f", terminationGracePeriod {grace:g}s" if grace is not None else "")
                    + ")",
                )
                pod_grace = max(
                    (
                        float(engine.workloads[engine.state.pods[p].workload].terminationGracePeriodSeconds)
                        for p in n.pods
                        if p in engine.state.pods
                    ),
                    default=0.0,
                )
                deadline = None if grace is None else min(grace, pod_grace)
                engine.remove_node(n, "DisruptedExpired", deadline_s=deadline)
            wait = min(soonest - now, 600.0)
            yield engine.env.timeout(max(wait, 1.0))

    def _publish_blocked(self, cluster: k.Cluster) -> None:
        """`DisruptionBlocked` events of NewCandidate (disruption/types.go), each once per node and text."""
        for node, text in k.blocked_events(cluster):
            if self.blocked.get(node) != text:
                self.blocked[node] = text
                self.engine.record_decision("karpenter", node, 0, 0, "DisruptionBlocked", text)

    def disruption(self) -> Any:
        engine = self.engine
        quiet = -1
        while True:
            yield engine.env.timeout(DISRUPTION_INTERVAL_S)
            if engine.state.version == quiet or self.inflight:
                continue
            state = self.cluster()
            self._publish_blocked(state)
            result = k.reconcile(state)
            cmd = result.command
            if cmd is None:
                text = "; ".join(result.events[:3]) or "no disruption candidates"
                if text != self.last_command:
                    engine.record_decision("karpenter", "cluster", 0, 0, "Unconsolidatable", text)
                    self.last_command = text
                quiet = engine.state.version
                continue
            yield engine.env.timeout(VALIDATION_S)  # validation.go: the command must still hold
            again = k.reconcile(self.cluster()).command
            if again is None or set(again.candidate_names) != set(cmd.candidate_names):
                engine.record_decision(
                    "karpenter",
                    "cluster",
                    0,
                    0,
                    "ValidationFailed",
                    f"{cmd.method} command for {', '.join(cmd.candidate_names)} no longer valid after 15s",
                )
                continue
            blocked = self.unplaceable(again)
            extra = self._drift_replacements(again) if blocked and again.method == "drift" else []
            if extra:
                yield from self._execute(again, extra)
                quiet = -1
                continue
            if blocked:
                engine.record_decision(
                    "karpenter",
                    "cluster",
                    0,
                    0,
                    "Unconsolidatable",
                    f"{again.method} {again.decision} of {', '.join(again.candidate_names)}: pod {blocked} "
                    "would not schedule elsewhere (scheduler filters: spread, affinity, taints)",
                )
                quiet = engine.state.version
                continue
            yield from self._execute(again)
            quiet = -1

    def unplaceable(self, cmd: k.Command) -> str:
        """A pod of a delete command's candidates that the full scheduler could not place on the
        remaining nodes ("" if all fit): Karpenter's simulation uses the scheduler's filters."""
        if cmd.replacements:
            return ""
        engine, gone = self.engine, set(cmd.candidate_names)
        views = {v.name: v for v in engine.state.node_views() if v.name not in gone}
        for name in gone:
            node = engine.state.nodes.get(name)
            for pod_name in sorted(node.pods) if node is not None else ():
                pod = engine.state.pods.get(pod_name)
                if pod is None:
                    continue
                nodes = list(views.values())
                home = next(
                    (v for v in nodes if not v.unschedulable and filter_node(pod.spec, v, nodes) is None),
                    None,
                )
                if home is None:
                    return pod_name
                views[home.name] = replace(
                    home,
                    requested_cpu_m=home.requested_cpu_m + pod.spec.cpu_m,
                    requested_mem_mib=home.requested_mem_mib + pod.spec.mem_mib,
                    pod_labels=(*home.pod_labels, pod.spec.labels),
                    spread_pod_labels=None,
                )
        return ""

    def _drift_replacements(self, cmd: k.Command) -> list[tuple[Offer, tuple[str, ...]]]:
        """The NodeClaims a drifted node's pods need where the full scheduler cannot place them on
        the other nodes: drift.go launches whatever its scheduling simulation creates, at any price."""
        engine, gone = self.engine, set(cmd.candidate_names)
        pods = [
            (p.name, p.spec)
            for name in sorted(gone)
            for p in (engine.state.pods.get(q) for q in sorted(engine.state.nodes[name].pods))
            if p is not None and p.workload in engine.workloads
        ]
        views = [v for v in engine.state.node_views() if v.name not in gone]
        result = provision(
            pods,
            views,
            self.offers(engine.env.now),
            {n: p.weight for n, p in self.pools.items()},
            self._limits_left(),
            engine.daemon_specs,
        )
        return [(launch.offer, launch.pods) for launch in result.launches]

    def _execute(self, cmd: k.Command, extra: Sequence[tuple[Offer, tuple[str, ...]]] = ()) -> Any:
        engine = self.engine
        tickets = [self.launch(offer, ()) for offer, _ in extra]
        for rep in cmd.replacements:
            offers = [
                o
                for o in self.offers(engine.env.now)
                if o.nodepool == rep.nodepool
                and o.instance_type in rep.instance_types
                and (rep.capacity_type is None or o.capacity_type == rep.capacity_type)
            ]
            if offers:
                cheapest = min(offers, key=lambda o: (o.price, o.instance_type, o.zone))
                tickets.append(self.launch(cheapest, ()))
        names = ", ".join(cmd.candidate_names)
        engine.record_decision(
            "karpenter",
            cmd.candidates[0].pool.name if cmd.candidates else "cluster",
            len(cmd.candidates),
            len(tickets),
            f"Disrupting/{cmd.reason}",
            f"{cmd.method} {'replace' if tickets else cmd.decision}: {names}"
            + (f" with {len(tickets)} replacement(s)" if tickets else ""),
        )
        while any(t in self.inflight for t in tickets):  # replacements Ready before the drain
            yield engine.env.timeout(1.0)
            self._settle(engine.env.now)
        for name in cmd.candidate_names:
            node: Node | None = engine.state.nodes.get(name)
            if node is not None and node.removed_s is None and not node.cordoned:
                engine.remove_node(node, f"Disrupted{cmd.reason}")

    # --------------------------------------------------------------------- interruptions
    def spot_interruptions(self) -> Any:
        """Spot interruptions of Karpenter's spot nodes, per node at the catalog's monthly rate."""
        engine = self.engine
        rng = engine.rng["spot"]
        step = 600.0
        while True:
            yield engine.env.timeout(step)
            for n in list(engine.state.alive_nodes()):
                mine = n.pool in self.owner and n.capacity_type == "spot" and n.ready and not n.interrupted
                if mine and rng.random() < _spot_rate_per_s(engine, n.instance_type) * step:
                    interrupt(engine, n, "SpotInterruption")
