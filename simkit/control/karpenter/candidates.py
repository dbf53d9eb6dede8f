"""Which nodes may be disrupted, by which method, within which budget.

Follows kubernetes-sigs/karpenter at 2266468104f36373ed002241afaee2d3bbc26078:
pkg/controllers/disruption/types.go (`NewCandidate`), helpers.go (`BuildDisruptionBudgetMapping`,
`BuildNodePoolMap`), emptiness.go / consolidation.go / drift.go (`ShouldDisrupt`),
pkg/utils/pod/scheduling.go (`IsReschedulable`, `IsEvictable`, `HasDoNotDisrupt`),
pkg/utils/pdb/pdb.go (`CanEvictPods`, `IsFullyBlocked`), and
pkg/controllers/nodeclaim/disruption/consolidation.go (the `Consolidatable` condition).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simkit.control.karpenter.budgets import must_allowed_disruptions
from simkit.control.karpenter.cost import eviction_cost
from simkit.control.karpenter.types import (
    DO_NOT_DISRUPT,
    PDB,
    Cluster,
    InstanceType,
    Node,
    NodePool,
    Pod,
)

__all__ = [
    "Candidate",
    "CandidateResult",
    "ConsolidatableCondition",
    "BudgetMapping",
    "GRACEFUL",
    "EVENTUAL",
    "do_not_disrupt_active",
    "is_reschedulable",
    "is_evictable",
    "matching_pdbs",
    "fully_blocked",
    "pdb_blockers",
    "reschedule_disruption_cost",
    "candidate_price",
    "new_candidate",
    "should_disrupt",
    "is_under_consolidate_after",
    "consolidation_event",
    "consolidatable_condition",
    "budget_mapping",
]

GRACEFUL, EVENTUAL = "graceful", "eventual"
_GO_DURATION = re.compile(r"(?:[0-9]*\.?[0-9]+(?:ns|us|µs|ms|s|m|h))+")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _go_duration(text: str) -> timedelta | None:
    """Go time.ParseDuration for unsigned values; None when Go would reject the text."""
    if not _GO_DURATION.fullmatch(text):
        return None
    parts = re.findall(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)", text)
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def do_not_disrupt_active(pod: Pod, now: datetime) -> bool:
    """`karpenter.sh/do-not-disrupt` on a pod: "true", or a positive duration not yet elapsed since
    the pod started (a missing startTime counts as not elapsed). Other values are ignored."""
    value = pod.annotations.get(DO_NOT_DISRUPT)
    if value is None:
        return False
    if value == "true":
        return True
    duration = _go_duration(value)
    if duration is None or duration <= timedelta(0):
        return False
    return pod.start_time is None or now - pod.start_time < duration


def is_reschedulable(pod: Pod) -> bool:
    """`IsReschedulable`: active (or a terminating StatefulSet pod), not DaemonSet- or Node-owned."""
    if pod.owner in ("DaemonSet", "Node"):
        return False
    return pod.active or (pod.terminating and not pod.terminal and pod.owner == "StatefulSet")


def is_evictable(pod: Pod, now: datetime) -> bool:
    """`IsEvictable`: active, not a mirror pod, not under an active do-not-disrupt (tolerations of the
    karpenter.sh/disrupted taint are not modelled)."""
    return pod.active and pod.owner != "Node" and not do_not_disrupt_active(pod, now)


def matching_pdbs(pod: Pod, pdbs: Sequence[PDB]) -> list[PDB]:
    """PDBs in the pod's namespace whose matchLabels select it."""
    return [b for b in pdbs if b.namespace == pod.namespace and b.match_labels.items() <= pod.labels.items()]


def fully_blocked(pdb: PDB) -> bool:
    """`IsFullyBlocked`: maxUnavailable 0 / "0%" or minAvailable "100%" blocks every eviction."""
    return pdb.max_unavailable in (0, "0", "0%") or pdb.min_available == "100%"


def reschedule_disruption_cost(pods: Sequence[Pod]) -> float:
    """`RescheduleDisruptionCost`: 1 + the positive eviction costs of the reschedulable pods."""
    return 1.0 + sum(max(0.0, eviction_cost(p.annotations, p.priority)) for p in pods if is_reschedulable(p))


@dataclass(frozen=True)
class Candidate:
    """A node a disruption method may act on (`disruption.Candidate`)."""

    node: Node
    pool: NodePool
    instance_type: InstanceType | None
    price: float
    pods: tuple[Pod, ...]
    reschedulable: tuple[Pod, ...]
    disruption_cost: float  # RescheduleDisruptionCost: ordering and emptiness

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def empty(self) -> bool:
        return self.disruption_cost <= 1.0


@dataclass(frozen=True)
class CandidateResult:
    """`NewCandidate`'s answer: a candidate, or Karpenter's error text."""

    candidate: Candidate | None
    error: str | None = None


def _pool_instance_types(cluster: Cluster) -> dict[str, tuple[InstanceType, ...]]:
    """`BuildNodePoolMap`: pools whose instance types resolve; failing or empty pools are left out."""
    out: dict[str, tuple[InstanceType, ...]] = {}
    for pool in cluster.nodepools:
        its = () if pool.instance_types_error else cluster.pool_instance_types(pool)
        if its:
            out[pool.name] = its
    return out


def candidate_price(node: Node, its: Sequence[InstanceType]) -> tuple[InstanceType | None, float]:
    """The node's instance type and the price of its (zone, capacity type) offering, available or
    not; 0 when the type or the offering is unknown."""
    it = next((t for t in its if t.name == node.instance_type), None)
    if it is None:
        return None, 0.0
    price = next(
        (o.price for o in it.offerings if o.zone == node.zone and o.capacity_type == node.capacity_type), 0.0
    )
    return it, price


def pdb_blockers(pod: Pod, pdbs: Sequence[PDB], now: datetime, fully: bool = False) -> tuple[PDB, ...]:
    """`Limits.isEvictable`: the PDBs that stop evicting `pod` (empty if it may be evicted).

    Pods that are not evictable are never blocked; more than one matching PDB always blocks; with
    `AlwaysAllow` an unready pod passes. `fully` selects the fully-blocking test used for
    rescheduling (`IsCurrentlyReschedulable`) instead of `disruptionsAllowed == 0` (`CanEvictPods`).
    """
    if not is_evictable(pod, now):
        return ()
    matched = matching_pdbs(pod, pdbs)
    if len(matched) > 1:
        return tuple(matched)
    for pdb in matched:
        if pdb.unhealthy_pod_eviction_policy == "AlwaysAllow" and pod.ready is False:
            return ()
        if fully_blocked(pdb) if fully else pdb.disruptions_allowed == 0:
            return (pdb,)
    return ()


def _pod_block(pods: Sequence[Pod], pdbs: Sequence[PDB], now: datetime) -> str | None:
    """do-not-disrupt on an active pod, then PDBs over the pods (`CanEvictPods`)."""
    for pod in pods:
        if pod.active and do_not_disrupt_active(pod, now):
            return f'pod has "{DO_NOT_DISRUPT}" annotation (Pod={pod.key})'
    for pod in pods:
        blockers = pdb_blockers(pod, pdbs, now)
        keys = " ".join(b.key for b in blockers)
        if len(blockers) > 1:
            return f"eviction does not support multiple PDBs (PodDisruptionBudget=[{keys}])"
        if blockers:
            return f"pdb prevents pod evictions (PodDisruptionBudget=[{keys}])"
    return None


def new_candidate(cluster: Cluster, node: Node, disruption_class: str) -> CandidateResult:
    """`NewCandidate`: the node as a candidate, or the first reason it is not one, in Karpenter's order."""
    if node.in_queue:
        return CandidateResult(None, "candidate is already being disrupted")
    if not node.managed:
        return CandidateResult(None, "node isn't managed by karpenter")
    if not node.has_node:
        return CandidateResult(None, "nodeclaim does not have an associated node")
    if not node.initialized:
        return CandidateResult(None, "node isn't initialized")
    if node.deleting:
        return CandidateResult(None, "node is deleting or marked for deletion")
    if node.nominated:
        return CandidateResult(None, "node is nominated for a pending pod")
    if node.annotations.get(DO_NOT_DISRUPT) == "true":
        return CandidateResult(None, f'disruption is blocked through the "{DO_NOT_DISRUPT}" annotation')
    if node.nodepool is None:
        return CandidateResult(None, "node doesn't have required label (label=karpenter.sh/nodepool)")
    pool = cluster.nodepool(node.nodepool)
    its = _pool_instance_types(cluster).get(node.nodepool)
    if pool is None or its is None:
        return CandidateResult(None, f"nodepool not found (NodePool={node.nodepool})")
    pods = tuple(cluster.pods_on(node.name))
    if not (node.termination_grace_period is not None and disruption_class == EVENTUAL):
        error = _pod_block(pods, cluster.pdbs, cluster.now)
        if error is not None:
            return CandidateResult(None, error)
    it, price = candidate_price(node, its)
    resched = tuple(p for p in pods if is_reschedulable(p))
    return CandidateResult(Candidate(node, pool, it, price, pods, resched, reschedule_disruption_cost(pods)))


def should_disrupt(cluster: Cluster, cand: Candidate, method: str) -> bool:
    """The method's `ShouldDisrupt`: emptiness, consolidation (multi/single) or drift."""
    pool, node = cand.pool, cand.node
    if pool.replicas is not None:  # static NodePools are never disrupted by these methods
        return False
    if method == "drift":
        return node.drifted is True
    if pool.consolidate_after is None or node.consolidatable is not True:
        return False
    if method == "emptiness":
        return cluster.buffer_pod_counts.get(node.name, 0) == 0 and cand.empty
    if method in ("multi", "single"):
        if cand.instance_type is None or node.capacity_type is None or node.zone is None:
            return False
        return not cand.empty and pool.consolidation_policy != "WhenEmpty"
    return False


def consolidation_event(cluster: Cluster, cand: Candidate, method: str) -> str | None:
    """The `Unconsolidatable` text the emptiness or consolidation `ShouldDisrupt` publishes for this
    candidate, if any (static pools, empty nodes and a missing Consolidatable condition are
    rejected silently)."""
    pool, node = cand.pool, cand.node
    if pool.replicas is not None or method not in ("emptiness", "multi", "single"):
        return None
    if method == "emptiness":
        if pool.consolidate_after is None:
            return f'NodePool "{pool.name}" has consolidation disabled'
        if cluster.buffer_pod_counts.get(node.name, 0) > 0:
            return f'Node "{node.name}" has buffer pods'
        return None
    if cand.instance_type is None:
        return f'Instance Type "{node.instance_type or ""}" not found'
    if node.capacity_type is None:
        return 'Node does not have label "karpenter.sh/capacity-type"'
    if node.zone is None:
        return 'Node does not have label "topology.kubernetes.io/zone"'
    if pool.consolidate_after is None:
        return f'NodePool "{pool.name}" has consolidation disabled'
    if not cand.empty and pool.consolidation_policy == "WhenEmpty":
        return f'NodePool "{pool.name}" has consolidation policy WhenEmpty, but node is not empty'
    return None


def is_under_consolidate_after(node: Node, pool: NodePool | None, now: datetime) -> bool:
    """`NodeClaim.IsUnderConsolidateAfter`: a non-zero consolidateAfter has not passed since the last
    pod event (or initialization). The comparison is strict."""
    if pool is None or pool.consolidate_after is None or pool.consolidate_after == timedelta(0):
        return False
    since = node.last_pod_event_time or node.initialized_at or now
    return now - since < pool.consolidate_after


@dataclass(frozen=True)
class ConsolidatableCondition:
    """The NodeClaim `Consolidatable` condition after one reconcile, and when to look again."""

    present: bool
    is_true: bool
    requeue_after: timedelta | None = None


def consolidatable_condition(
    now: datetime,
    consolidate_after: timedelta | None,
    initialized: str,
    initialized_at: datetime,
    last_pod_event_time: datetime | None,
) -> ConsolidatableCondition:
    """The nodeclaim disruption controller's Consolidatable reconcile: cleared when consolidateAfter is
    Never or the NodeClaim is not Initialized; cleared and requeued while under consolidateAfter;
    True otherwise (at exactly `t + consolidateAfter` it is True)."""
    if consolidate_after is None or initialized != "True":
        return ConsolidatableCondition(False, False)
    since = last_pod_event_time or initialized_at
    if consolidate_after != timedelta(0) and now - since < consolidate_after:
        return ConsolidatableCondition(False, False, consolidate_after - (now - since))
    return ConsolidatableCondition(True, True)


@dataclass(frozen=True)
class BudgetMapping:
    """Per-NodePool disruptions left for one reason, and the two gauges Karpenter sets beside it."""

    mapping: Mapping[str, int]
    allowed_metric: Mapping[str, int] = field(default_factory=dict)  # before subtraction
    consuming_metric: Mapping[str, int] = field(default_factory=dict)


def budget_mapping(cluster: Cluster, reason: str) -> BudgetMapping:
    """`BuildDisruptionBudgetMapping`: allowed = budget(nodes) minus nodes NotReady or being deleted.

    Only managed, initialized nodes without InstanceTerminating count; the result is clamped at 0.
    """
    num: dict[str, int] = {}
    disrupting: dict[str, int] = {}
    for node in cluster.nodes:
        if not (node.managed and node.has_node and node.initialized) or node.instance_terminating:
            continue
        if node.nodepool is None:
            continue
        num[node.nodepool] = num.get(node.nodepool, 0) + 1
        if not node.ready or node.deleting:
            disrupting[node.nodepool] = disrupting.get(node.nodepool, 0) + 1
    mapping, allowed_metric, consuming = {}, {}, {}
    for pool in cluster.nodepools:
        allowed = must_allowed_disruptions(pool.budgets, num.get(pool.name, 0), cluster.now, reason)
        mapping[pool.name] = max(0, allowed - disrupting.get(pool.name, 0))
        allowed_metric[pool.name] = allowed
        consuming[pool.name] = disrupting.get(pool.name, 0)
    return BudgetMapping(mapping, allowed_metric, consuming)
