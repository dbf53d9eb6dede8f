"""Fault processes: spot interruptions, node crashes, AZ outages, and the data layer's availability.

Each process draws from its own random stream (`spot`, `failures`), so adding one leaves the others'
draws, and the traffic, unchanged. Timings follow Kubernetes (k8s_timings.md §1):

- a crashed or unreachable node keeps its pods bound but not serving; after the node monitor grace
  period (50 s) it is tainted `node.kubernetes.io/unreachable` (NoSchedule, NoExecute) — in a zone
  where every node is down, one node per 10 s; in a partially disrupted small zone not at all — and
  its pods are evicted when their toleration (300 s by default) runs out;
- a spot notice cordons and drains the node at once; the instance goes at the end of the notice;
  the auto-scaling group launches a replacement (unless that capacity is short).
"""

from __future__ import annotations

import math
from typing import Any

from simkit.catalog import HOURS_PER_MONTH, load_catalog
from simkit.control.node_lifecycle import (
    NODE_MONITOR_GRACE_S,
    NOT_READY_TOLERATION_S,
    UNREACHABLE,
    noexecute_taint,
)
from simkit.control.types import Taint
from simkit.engine.cluster import Engine
from simkit.engine.state import Node, PodPhase
from simkit.errors import SimkitError
from simkit.scenario.faults import SPOT_NOTICE_S, ZONE_BUSIEST, ZONE_EACH, ZONE_PRIMARY, AZOutage, DataService
from simkit.units import format_time

FAULTS = ("spot", "spot-reclaim", "node-failure", "az-outage")
"""The fault kinds `start_faults` starts, in this order (data-layer failover is `DataAvailability`).
A new fault kind: a scenario field in scenario/faults.py, a process here, one line in `start_faults`."""


def start_faults(engine: Engine) -> None:
    """Start every fault process the scenario asks for, in the order of `FAULTS`."""
    faults = engine.scenario.faults
    lifecycle = NodeLifecycle(engine)
    for pool in engine.scenario.cluster.node_pools:
        if pool.capacity_type == "spot" and faults.spot.enabled:
            rate = _spot_rate_per_s(engine, pool.instance_type)
            if rate > 0:
                engine.env.process(_spot_process(engine, pool.name, pool.max_nodes, rate))
    for reclaim in faults.spot.reclaims:
        engine.env.process(
            _at(engine, reclaim.at, lambda r=reclaim: _reclaim(engine, r.pool, r.zone, r.fraction))
        )
    if faults.node_failures is not None and faults.node_failures.annual_rate > 0:
        engine.env.process(
            _crash_process(
                lifecycle, faults.node_failures.annual_rate / (365 * 86400.0), faults.node_failures.pools
            )
        )
    for i, outage in enumerate(faults.az_outages):
        if outage.zone == ZONE_EACH:  # before the clock starts, not at the outage
            raise SimkitError(
                f"faults.az_outages[{i}].zone: 'each' means one run per zone: run it with "
                "simkit.replicate or the simkit command (simulate runs one scenario)"
            )
        engine.env.process(_az_outage(lifecycle, outage))


def _at(engine: Engine, t: float, action: Any) -> Any:
    yield engine.env.timeout(t)
    action()


# ------------------------------------------------------------------------------------- spot
def _spot_rate_per_s(engine: Engine, instance_type: str) -> float:
    spot = engine.scenario.faults.spot
    if spot.monthly_rate is not None:
        monthly = spot.monthly_rate
    else:
        cluster = engine.scenario.cluster
        itype = load_catalog().instance(cluster.provider, cluster.region, instance_type)
        monthly = itype.interruption_monthly_p
    return monthly / (HOURS_PER_MONTH * 3600.0)


def spot_notice_s(engine: Engine) -> float:
    notice = engine.scenario.faults.spot.notice
    return SPOT_NOTICE_S[engine.scenario.cluster.provider] if notice is None else notice


def _spot_process(engine: Engine, pool: str, max_nodes: int, rate: float) -> Any:
    """Poisson interruptions at `rate` per node, by thinning a process sized for `max_nodes` nodes."""
    rng = engine.rng["spot"]
    while True:
        yield engine.env.timeout(float(rng.exponential(1.0 / (rate * max_nodes))))
        nodes = [n for n in engine.state.alive_nodes() if n.pool == pool and n.ready and not n.interrupted]
        slot = int(rng.integers(max_nodes))
        if slot < len(nodes):
            interrupt(engine, nodes[slot], "SpotInterruption")


def _reclaim(engine: Engine, pool: str, zone: str | None, fraction: float) -> None:
    nodes = [
        n
        for n in engine.state.alive_nodes()
        if _in_pool(n, pool) and (zone is None or n.zone == zone) and not n.interrupted
    ]
    count = math.ceil(fraction * len(nodes))
    engine.record_fault("spot-reclaim", f"{pool}/{zone or 'all zones'}", f"{count} node(s) reclaimed at once")
    for node in nodes[:count]:
        interrupt(engine, node, "SpotReclaim")


def _in_pool(node: Node, pool: str) -> bool:
    """A node of the node group `pool`, or a spot node of the Karpenter NodePool `pool`."""
    if node.pool == pool:
        return True
    return node.labels.get("karpenter.sh/nodepool") == pool and node.capacity_type == "spot"


def interrupt(engine: Engine, node: Node, reason: str) -> None:
    """A spot notice: cordon and drain now, the instance is gone when the notice runs out."""
    node.interrupted = True
    engine.nodes_interrupted += 1
    notice = spot_notice_s(engine)
    engine.record_fault("spot-interruption", node.name, f"{reason}: {format_time(notice)} notice")
    engine.remove_node(node, reason, deadline_s=notice, then=engine.cloud.replace)


# ------------------------------------------------------------------------------------ crashes
def _crash_process(lifecycle: NodeLifecycle, rate: float, pools: list[str] | None) -> Any:
    engine = lifecycle.engine
    rng = engine.rng["failures"]
    cap = sum(p.max_nodes for p in engine.scenario.cluster.node_pools if pools is None or p.name in pools)
    while True:
        yield engine.env.timeout(float(rng.exponential(1.0 / (rate * cap))))
        nodes = [n for n in engine.state.alive_nodes() if n.ready and (pools is None or n.pool in pools)]
        slot = int(rng.integers(cap))
        if slot < len(nodes):
            engine.record_fault("node-failure", nodes[slot].name, "host failure")
            lifecycle.crash(nodes[slot], replace=True)


class NodeLifecycle:
    """The node lifecycle controller of one run: a node that stops reporting is tainted and its
    pods evicted on `control.node_lifecycle`'s timing; per zone, when its limiter next has a token."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.next_token: dict[str, float] = {}  # per zone: when the eviction limiter next has a token

    def crash(self, node: Node, replace: bool) -> None:
        """The node stops: its pods stop serving now; Kubernetes notices after the grace period."""
        engine = self.engine
        node.ready = False
        engine.state.touch()
        engine.record_nodes(node.pool, node.zone)
        for name in sorted(node.pods):
            pod = engine.state.pods.get(name)
            if pod is None:
                continue
            if pod.phase is PodPhase.READY:
                engine.mark_lost(pod)
            elif pod.phase is PodPhase.STARTING:  # it will not come up on a dead node
                pod.phase = PodPhase.LOST
        engine.pods_lost += sum(1 for p in node.pods if p in engine.state.pods)
        engine.nodes_lost += 1
        engine.env.process(self._not_ready(node, replace))

    def _not_ready(self, node: Node, replace: bool) -> Any:
        """NotReady after the grace period, tainted (rate-limited per zone), pods evicted."""
        engine = self.engine
        yield engine.env.timeout(NODE_MONITOR_GRACE_S)
        if node.ready or not node.alive:
            return
        node.set_taints((*node.taints, Taint(UNREACHABLE, "", "NoSchedule")))
        engine.state.touch()
        zone = [n for n in engine.state.alive_nodes() if n.zone == node.zone]
        not_ready = sum(1 for n in zone if not n.ready)
        now = engine.env.now
        decision = noexecute_taint(now, len(zone), not_ready, self.next_token.get(node.zone))
        if decision.next_token_s is not None:
            self.next_token[node.zone] = decision.next_token_s
        if decision.delay_s is None:  # partial disruption of a small zone: the controller stops tainting
            engine.event("Node", node.name, "NodeNotReady", "zone partially disrupted: no eviction")
            return
        yield engine.env.timeout(decision.delay_s)
        if node.ready or not node.alive:
            return
        node.set_taints((*node.taints, Taint(UNREACHABLE, "", "NoExecute")))
        engine.state.touch()
        yield engine.env.timeout(NOT_READY_TOLERATION_S)
        if node.ready or not node.alive:
            return
        for name in sorted(node.pods):
            pod = engine.state.pods.get(name)
            if pod is not None and pod.phase is not PodPhase.TERMINATING:
                engine.evict(pod, "TaintManagerEviction")
        if replace:  # the instance is gone for good: its Node object is deleted, the ASG launches another
            engine.remove_node(node, "NodeLost", deadline_s=0.0, then=engine.cloud.replace)


# ---------------------------------------------------------------------------------- AZ outage
def _az_outage(lifecycle: NodeLifecycle, outage: AZOutage) -> Any:
    engine = lifecycle.engine
    yield engine.env.timeout(outage.at)
    zone, why = resolve_zone(engine, outage.zone)
    engine.cloud.zones_down.add(zone)
    nodes = [n for n in engine.state.alive_nodes() if n.zone == zone and n.ready]
    engine.record_fault(
        "az-outage", zone, f"{len(nodes)} node(s) unreachable for {format_time(outage.duration)}{why}"
    )
    for node in nodes:
        lifecycle.crash(node, replace=False)
    yield engine.env.timeout(outage.duration)
    engine.cloud.zones_down.discard(zone)
    engine.record_fault("az-recovered", zone, "zone reachable again")
    for node in [n for n in engine.state.alive_nodes() if n.zone == zone and not n.ready]:
        recover(engine, node)


def resolve_zone(engine: Engine, selector: str) -> tuple[str, str]:
    """The zone an outage's `zone` selects now, and a note saying how it was chosen ('' for a name).

    `primary:<workload>`: the zone of the node holding that data service's primary (with no primary
    at that instant, e.g. mid-failover, the busiest zone); `busiest`: the zone with the most ready pods
    of the services on the routes, ties to the first in `cluster.zones`. `each` never gets here:
    `Faults.zone_variants` expands it into one run per zone before the run.
    """
    if selector.startswith(ZONE_PRIMARY):
        workload = selector.removeprefix(ZONE_PRIMARY)
        data = engine.data.get(workload)
        pod = engine.state.pods.get(data.primary or "") if isinstance(data, DataAvailability) else None
        node = engine.state.nodes.get(pod.node or "") if pod is not None else None
        if node is not None:
            return node.zone, f" ({selector}: {pod.name if pod else ''} runs there)"
        zone, _ = resolve_zone(engine, ZONE_BUSIEST)
        return zone, f" ({selector}: no primary at this time, so the busiest zone)"
    if selector == ZONE_BUSIEST:
        services = {step.service for route in engine.scenario.traffic.routes for step in route.path}
        ready = {zone: 0 for zone in engine.scenario.cluster.zones}
        for pod in engine.state.pods.values():
            if pod.workload in services and pod.phase is PodPhase.READY and pod.node in engine.state.nodes:
                zone = engine.state.nodes[pod.node].zone
                ready[zone] = ready.get(zone, 0) + 1
        zone = max(ready, key=lambda z: ready[z])  # the first of the busiest, in cluster.zones order
        return zone, f" (busiest: {ready[zone]} ready pod(s) of the routes' services)"
    return selector, ""


def recover(engine: Engine, node: Node) -> None:
    """The kubelet reports again: taints lifted, surviving pods serve again."""
    node.ready = True
    node.set_taints(tuple(t for t in node.taints if t.key != UNREACHABLE))
    engine.state.touch()
    engine.record_nodes(node.pool, node.zone)
    for name in sorted(node.pods):
        pod = engine.state.pods.get(name)
        if pod is not None and pod.phase is PodPhase.LOST:
            engine.restore_lost(pod)
        elif pod is not None and pod.phase is PodPhase.TERMINATING and pod.deleted_s is not None:
            grace = engine.workloads[pod.workload].terminationGracePeriodSeconds
            if engine.env.now - pod.deleted_s >= grace:  # the kubelet finishes the long-due deletion
                engine.finish_termination(pod)
    engine.wake_scheduler()


# -------------------------------------------------------------------------------- data layer
class DataAvailability:
    """Whether a stateful service can serve: a primary (with failover) or a quorum of replicas."""

    def __init__(self, engine: Engine, spec: DataService) -> None:
        self.engine, self.spec = engine, spec
        self.primary: str | None = None
        self.available = True
        self.failing_over = False

    def start(self) -> None:
        """Elect the first primary from the bootstrapped pods (the lowest-named Ready one)."""
        ready = sorted(
            p.name for p in self.engine.state.pods_of(self.spec.workload) if p.phase is PodPhase.READY
        )
        self.primary = ready[0] if ready else None
        self.on_change()

    def on_change(self) -> None:
        """Re-evaluate after any change of the workload's ready pods."""
        eng, name = self.engine, self.spec.workload
        ready = [p.name for p in eng.state.pods_of(name) if p.phase is PodPhase.READY]
        if self.spec.kind == "quorum":
            self._set(len(ready) >= eng.desired[name] // 2 + 1)
            return
        if self.primary in ready:
            self._set(True)
        elif not self.failing_over:
            self._set(False)
            self.failing_over = True
            eng.env.process(self._failover())

    def _failover(self) -> Any:
        yield self.engine.env.timeout(self.spec.failover)
        self.failing_over = False
        ready = sorted(
            p.name for p in self.engine.state.pods_of(self.spec.workload) if p.phase is PodPhase.READY
        )
        if ready:
            self.primary = ready[0]
            self.engine.record_fault("failover", self.spec.workload, f"{self.primary} promoted")
            self._set(True)
        else:
            self.primary = None  # the first replica to come back will be promoted (on_change)

    def _set(self, available: bool) -> None:
        if available != self.available:
            self.available = available
            self.engine.availability_changed(self.spec.workload)
