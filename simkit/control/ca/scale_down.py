"""Scale-down: which nodes are unneeded, for how long, and which deletions may start now (ca_spec §5).

One call is one `RunOnce` scale-down pass: eligibility (`CA137:core/scaledown/eligibility`), drainability
and removal simulation (`simulator/drain.go`, `simulator/cluster.go`), the unneeded timer
(`core/scaledown/unneeded/nodes.go`), cooldown (`static_autoscaler.go` `isScaleDownInCooldown`) and
deletion budgets (`core/scaledown/budgets/budgets.go`). Node reason codes are upstream's
`simulator.UnremovableReason` names, plus `ScaleDown` (deletion starts), `ScaleDownInCooldown`,
`ScaleDownBudgetExhausted` (unneeded long enough but over the parallelism budget this loop) and
`NotStarted` (a registered node still booting, which CA treats as upcoming, not as a candidate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from simkit.control.ca.clusterstate import cluster_healthy, is_not_started
from simkit.control.ca.drain import DrainPlan, UtilizationError, node_utilization, plan_drain
from simkit.control.ca.estimator import place_pod
from simkit.control.ca.flags import CAFlags
from simkit.control.ca.model import (
    ANN_SCALE_DOWN_DISABLED,
    CANode,
    CAPod,
    CAState,
    FitFn,
    NodeGroup,
    PodDisruptionBudget,
    as_ca_node,
    as_ca_pod,
    default_fit,
)
from simkit.control.types import NodeView, PodSpec

__all__ = [
    "ScaleDownDecision",
    "UnneededNode",
    "scale_down",
    "eligibility_reason",
    "is_being_deleted",
    "to_be_deleted_time",
    "TO_BE_DELETED_TAINT",
    "removable_at",
    "crop_to_budget",
    "cooldown_reason",
    "cluster_healthy",
    "is_not_started",
    "register_scale_down_failure",
]

CLOUD_PROVIDER_DELETION_TIME_S = 300.0  # MaxCloudProviderNodeDeletionTime (delete_in_batch.go:45)
KUBERNETES_EMPTY_NODE_DELETION_TIME_S = 180.0  # MaxKubernetesEmptyNodeDeletionTime (delete_in_batch.go:43)
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"  # utils/taints/taints.go ToBeDeletedTaint


@dataclass(frozen=True)
class ScaleDownDecision:
    """Nodes whose deletion starts now, why every other node stays, and the new state.

    `reasons` maps each node name to a reason code, `messages` to a human sentence; `empty` lists
    the removed nodes that need no drain (deleted after `node-delete-delay-after-taint`).
    """

    remove: tuple[str, ...]
    reasons: Mapping[str, str]
    state: CAState
    messages: Mapping[str, str] = field(default_factory=dict)
    empty: tuple[str, ...] = ()
    unneeded: tuple[str, ...] = ()
    status: str = "NoScaleDown"


@dataclass(frozen=True)
class UnneededNode:
    """A node that passed the removal simulation this loop."""

    name: str
    group: str
    since: float
    empty: bool
    ready: bool = True
    cpu_m: int = 0
    mem_mib: float = 0.0


# ------------------------------------------------------------------ gates


def cooldown_reason(flags: CAFlags, state: CAState, now: float) -> str | None:
    """Why no deletion may start this loop, or None (`isScaleDownInCooldown`, ca_spec §5.5).

    With --scale-down-delay-type-local only the "all pods new" gate is global; the three delays are
    then applied per node group by `_group_in_cooldown`.
    """
    if state.scale_down_disabled_at == now:
        return "scale-down disabled this loop: all unschedulable pods are new"
    if flags.scale_down_delay_type_local:
        return None
    if state.last_scale_up_time + flags.scale_down_delay_after_add > now:
        return "scale-down-delay-after-add has not passed since the last scale-up"
    if state.last_scale_down_fail_time + flags.scale_down_delay_after_failure > now:
        return "scale-down-delay-after-failure has not passed since the last failed scale-down"
    if state.last_scale_down_delete_time + flags.scale_down_delay_after_delete > now:
        return "scale-down-delay-after-delete has not passed since the last deletion"
    return None


def _group_in_cooldown(group: str, flags: CAFlags, state: CAState, now: float) -> bool:
    """Per-group delays (`ScaleDownCandidatesDelayProcessor`) used with --scale-down-delay-type-local."""
    inf = -float("inf")
    return (
        state.group_scale_up_time.get(group, inf) + flags.scale_down_delay_after_add > now
        or state.group_fail_time.get(group, inf) + flags.scale_down_delay_after_failure > now
        or state.group_delete_time.get(group, inf) + flags.scale_down_delay_after_delete > now
    )


def to_be_deleted_time(node: CANode) -> float | None:
    """When CA started deleting the node, or None (`CA137:utils/taints/taints.go` GetToBeDeletedTime).

    Upstream reads the value of the ToBeDeletedByClusterAutoscaler taint (seconds); simkit also
    accepts the node's `deletion_started_at`. A node marked `deletion` with no time counts as
    deleted just now. A taint value that is not a number is ignored, as upstream's parse error is.
    """
    for taint in node.view.taints:
        if taint.key == TO_BE_DELETED_TAINT:
            try:
                return float(int(taint.value))
            except ValueError:
                break
    if node.deletion_started_at is not None:
        return node.deletion_started_at
    return math.inf if node.deletion is not None else None


def is_being_deleted(node: CANode, now: float) -> bool:
    """Tainted for deletion less than 5 min ago (`CA137:core/scaledown/actuation/delete_in_batch.go`
    IsNodeBeingDeleted: MaxCloudProviderNodeDeletionTime 5m, MaxKubernetesEmptyNodeDeletionTime 3m)."""
    started = to_be_deleted_time(node)
    if started is None:
        return False
    elapsed = now - started
    return elapsed < CLOUD_PROVIDER_DELETION_TIME_S or elapsed < KUBERNETES_EMPTY_NODE_DELETION_TIME_S


def eligibility_reason(
    node: CANode,
    pods: Sequence[CAPod],
    groups: Mapping[str, NodeGroup],
    flags: CAFlags,
    state: CAState,
    now: float,
) -> tuple[str | None, float]:
    """(UnremovableReason or None, utilization) in upstream's check order.

    `CA137:core/scaledown/eligibility/eligibility.go` FilterOutUnremovable and
    unremovableReasonAndNodeUtilization: recently unremovable, being deleted, scale-down-disabled
    annotation, not autoscaled, utilization (an error is UnexpectedError), unready with
    --scale-down-unready-enabled=false, then the threshold (GPU threshold for GPU nodes).
    """
    if state.unremovable_until.get(node.name, -math.inf) > now:
        return "RecentlyUnremovable", 0.0
    if is_being_deleted(node, now):
        return "CurrentlyBeingDeleted", 0.0
    if node.annotations.get(ANN_SCALE_DOWN_DISABLED) == "true":
        return "ScaleDownDisabledAnnotation", 0.0
    if node.group is None or node.group not in groups:
        return "NotAutoscaled", 0.0
    try:
        util = node_utilization(
            node.view.alloc_cpu_m,
            node.view.alloc_mem_mib,
            pods,
            now=now,
            ignore_daemonsets=flags.ignore_daemonsets_utilization,
            ignore_mirror_pods=flags.ignore_mirror_pods_utilization,
            alloc_gpus=node.alloc_gpus,
            gpu_node=node.gpu_node,
        )
    except UtilizationError:
        return "UnexpectedError", 0.0
    if not node.ready and not flags.scale_down_unready_enabled:
        return "ScaleDownUnreadyDisabled", util.utilization
    threshold = (
        flags.scale_down_gpu_utilization_threshold
        if node.gpu_node
        else flags.scale_down_utilization_threshold
    )
    # CA >= 1.35 (and 1.32-1.34 patches after 2026-01-09): eligible iff utilization <= threshold.
    if util.utilization > threshold:
        return "NotUnderutilized", util.utilization
    return None, util.utilization


# ------------------------------------------------------------------ simulation


@dataclass
class _Sim:
    """Working snapshot of one removal simulation pass (private, mutable by design).

    Successful simulations are committed (`persistSuccessfulSimulations`, planner.go): the removed
    node leaves the snapshot and its pods stay on their new nodes, where later candidates see them.
    """

    views: dict[str, NodeView]
    destinations: list[str]
    pdb_left: dict[str, int]
    fits: FitFn
    moved_in: dict[str, list[CAPod]] = field(default_factory=dict)

    def pods_on(self, node: str, original: Sequence[CAPod]) -> list[CAPod]:
        """The node's own pods plus those moved onto it by earlier simulations."""
        return [*original, *self.moved_in.get(node, [])]

    def try_move(self, pods: Sequence[CAPod], removed: str) -> tuple[dict[str, NodeView], list[str]] | None:
        """Place every pod on destinations other than `removed`: (new views, target per pod), or None."""
        views = dict(self.views)
        views.pop(removed, None)
        targets: list[str] = []
        for pod in pods:
            everyone = list(views.values())
            target = next(
                (
                    d
                    for d in self.destinations
                    if d in views and self.fits(pod.spec, views[d], everyone) is None
                ),
                None,
            )
            if target is None:
                return None
            views[target] = place_pod(views[target], pod.spec)
            targets.append(target)
        return views, targets

    def commit(
        self,
        removed: str,
        moved: tuple[dict[str, NodeView], list[str]],
        plan: DrainPlan,
        pdbs: Sequence[PodDisruptionBudget],
    ) -> None:
        """Keep a successful simulation and spend the PDB disruptions it needs."""
        self.views, targets = moved
        self.destinations = [d for d in self.destinations if d != removed]
        self.moved_in.pop(removed, None)
        for pod, target in zip(plan.to_move, targets, strict=True):
            self.moved_in.setdefault(target, []).append(pod)
            for pdb in pdbs:
                if pdb.matches(pod):
                    self.pdb_left[pdb.name] = self.pdb_left.get(pdb.name, pdb.disruptions_allowed) - 1


def _order_candidates(
    candidates: Sequence[CANode], plans: Mapping[str, DrainPlan], state: CAState
) -> list[CANode]:
    """Empty nodes first, then nodes already unneeded last loop (builder/autoscaler.go order)."""
    return sorted(
        candidates,
        key=lambda n: (not plans[n.name].empty, n.name not in state.unneeded_since),
    )


# ------------------------------------------------------------------ removal and budgets


def removable_at(
    unneeded: Sequence[UnneededNode],
    groups: Mapping[str, NodeGroup],
    deletions_in_progress: Mapping[str, int],
    flags: CAFlags,
    now: float,
    cluster_cores: float = 0.0,
    cluster_mem_gib: float = 0.0,
) -> tuple[list[UnneededNode], list[UnneededNode], dict[str, str]]:
    """(empty, drain) nodes removable now, and the reason for each one kept (`Nodes.RemovableAt`).

    A node passes once unneeded for longer than unneeded-time (unready-time if NotReady) and while
    its group's target − deletions in progress − nodes already accepted stays above min size.
    Empty nodes are considered first. The cluster cores/memory minimums must also hold.
    """
    sizes = {name: g.target_size - deletions_in_progress.get(name, 0) for name, g in groups.items()}
    cores, mem = cluster_cores, cluster_mem_gib
    empty: list[UnneededNode] = []
    drain: list[UnneededNode] = []
    kept: dict[str, str] = {}
    for node in sorted(unneeded, key=lambda n: not n.empty):
        threshold = flags.scale_down_unneeded_time if node.ready else flags.scale_down_unready_time
        if not node.since + threshold < now:
            kept[node.name] = "NotUnneededLongEnough" if node.ready else "NotUnreadyLongEnough"
            continue
        if sizes[node.group] <= groups[node.group].min_size:
            kept[node.name] = "NodeGroupMinSizeReached"
            continue
        if cluster_cores and (
            cores - node.cpu_m / 1000 < flags.cores_total[0]
            or mem - node.mem_mib / 1024 < flags.memory_total[0]
        ):
            kept[node.name] = "MinimalResourceLimitExceeded"
            continue
        sizes[node.group] -= 1
        cores, mem = cores - node.cpu_m / 1000, mem - node.mem_mib / 1024
        (empty if node.empty else drain).append(node)
    return empty, drain, kept


def crop_to_budget(
    empty: Sequence[UnneededNode],
    drain: Sequence[UnneededNode],
    flags: CAFlags,
    empty_in_progress: int,
    drain_in_progress: int,
) -> tuple[list[UnneededNode], list[UnneededNode]]:
    """Deletions allowed to start (`budgets.go` `CropNodes`): empty nodes up to the parallelism
    budget, then drained nodes up to min(what is left, max-drain-parallelism − drains running)."""
    parallelism = max(flags.max_scale_down_parallelism - empty_in_progress - drain_in_progress, 0)
    take_empty = list(empty[:parallelism])
    drain_budget = min(parallelism - len(take_empty), flags.max_drain_parallelism - drain_in_progress)
    return take_empty, list(drain[: max(drain_budget, 0)])


# ------------------------------------------------------------------ the pass


def _candidate_filter(
    nodes: Sequence[CANode], flags: CAFlags, state: CAState, now: float
) -> tuple[list[CANode], dict[str, str]]:
    """Registered, not-being-deleted, started nodes; with local delays, not in a cooling group."""
    candidates: list[CANode] = []
    reasons: dict[str, str] = {}
    for node in nodes:
        if is_not_started(node, flags, now):
            reasons[node.name] = "NotStarted"
        elif (
            flags.scale_down_delay_type_local
            and node.group is not None
            and _group_in_cooldown(node.group, flags, state, now)
        ):
            reasons[node.name] = "ScaleDownInCooldown"
        else:
            candidates.append(node)
    return candidates, reasons


def _simulate(
    candidates: Sequence[CANode],
    pods_by_node: Mapping[str, Sequence[CAPod]],
    all_nodes: Sequence[CANode],
    pdbs: Sequence[PodDisruptionBudget],
    flags: CAFlags,
    state: CAState,
    now: float,
    fits: FitFn,
) -> tuple[list[CANode], dict[str, bool], dict[str, str], dict[str, str]]:
    """Run drainability + removal simulation in candidate order; return the unneeded nodes,
    whether each is empty, and reason codes / messages for the rest."""
    pdb_left = {b.name: b.disruptions_allowed for b in pdbs}
    matched: dict[int, list[PodDisruptionBudget]] = {}  # pod id -> its PDBs: the pods outlive the pass
    plans = {
        n.name: plan_drain(pods_by_node.get(n.name, ()), flags, pdbs, pdb_left, now=now, matched=matched)
        for n in candidates
    }
    destinations = [n.name for n in all_nodes if n.ready and n.deletion is None and not n.view.unschedulable]
    sim = _Sim({n.name: n.view for n in all_nodes if n.deletion is None}, destinations, pdb_left, fits)
    unneeded: list[CANode] = []
    empty: dict[str, bool] = {}
    reasons: dict[str, str] = {}
    messages: dict[str, str] = {}
    for node in _order_candidates(candidates, plans, state):
        plan = plan_drain(
            sim.pods_on(node.name, pods_by_node.get(node.name, ())),
            flags,
            pdbs,
            sim.pdb_left,
            now=now,
            matched=matched,
        )
        if plan.blocking is not None:
            pod, why = plan.blocking
            reasons[node.name] = "BlockedByPod"
            messages[node.name] = f"pod {pod.namespace}/{pod.name} cannot be moved: {why}"
            continue
        moved = sim.try_move(plan.to_move, node.name)
        if moved is None:
            reasons[node.name] = "NoPlaceToMovePods"
            messages[node.name] = f"{len(plan.to_move)} pod(s) do not all fit on the other nodes"
            continue
        sim.commit(node.name, moved, plan, pdbs)
        unneeded.append(node)
        empty[node.name] = plan.empty
    return unneeded, empty, reasons, messages


def _in_progress(nodes: Sequence[CANode]) -> tuple[dict[str, int], int, int]:
    """Deletions running per group, and counts of empty and drain deletions in progress."""
    per_group: dict[str, int] = {}
    for n in nodes:
        if n.deletion is not None and n.group is not None:
            per_group[n.group] = per_group.get(n.group, 0) + 1
    empty = sum(1 for n in nodes if n.deletion == "empty")
    drain = sum(1 for n in nodes if n.deletion is not None and n.deletion != "empty")
    return per_group, empty, drain


def scale_down(
    nodes: Sequence[CANode | NodeView],
    pods_by_node: Mapping[str, Sequence[CAPod | PodSpec]],
    groups: Sequence[NodeGroup],
    flags: CAFlags,
    state: CAState,
    now: float,
    *,
    pdbs: Sequence[PodDisruptionBudget] = (),
    fits: FitFn | None = None,
) -> ScaleDownDecision:
    """One scale-down pass at time `now` (seconds): returns the nodes to start deleting and why.

    `nodes` are all registered nodes (bare NodeViews count as Ready and not autoscaled);
    `pods_by_node` the pods bound to each; `pdbs` the PodDisruptionBudgets of the cluster.
    """
    ca_nodes = [as_ca_node(n) for n in nodes]
    pods = {name: [as_ca_pod(p) for p in ps] for name, ps in pods_by_node.items()}
    by_name = {g.name: g for g in groups}
    if not flags.scale_down_enabled:
        return ScaleDownDecision((), {}, state, status="ScaleDownDisabled")
    if not cluster_healthy(ca_nodes, flags, now):  # §2.2 step 3: halt and clear the timers
        return ScaleDownDecision((), {}, replace(state, unneeded_since={}), status="ClusterUnhealthy")
    candidates, reasons = _candidate_filter(ca_nodes, flags, state, now)
    messages: dict[str, str] = {}
    eligible: list[CANode] = []
    for node in candidates:
        why, util = eligibility_reason(node, pods.get(node.name, []), by_name, flags, state, now)
        if why is None:
            eligible.append(node)
        else:
            reasons[node.name] = why
            messages[node.name] = f"utilization {util:.3f}" if why == "NotUnderutilized" else why
    unneeded, empty, sim_reasons, sim_messages = _simulate(
        eligible, pods, ca_nodes, pdbs, flags, state, now, fits or default_fit()
    )
    reasons.update(sim_reasons)
    messages.update(sim_messages)
    recheck = flags.unremovable_node_recheck_timeout
    unremovable = {n: t for n, t in state.unremovable_until.items() if t > now}
    unremovable.update({n: now + recheck for n in sim_reasons})
    since = {n.name: state.unneeded_since.get(n.name, now) for n in unneeded}
    new_state = replace(state, unneeded_since=since, unremovable_until=unremovable)
    unneeded_names = tuple(n.name for n in unneeded)
    cooldown = cooldown_reason(flags, state, now)
    if cooldown is not None:
        for name in unneeded_names:
            reasons[name], messages[name] = "ScaleDownInCooldown", cooldown
        return ScaleDownDecision((), reasons, new_state, messages, (), unneeded_names, "ScaleDownInCooldown")
    return _start_deletions(unneeded, empty, ca_nodes, by_name, flags, new_state, now, reasons, messages)


def _start_deletions(
    unneeded: Sequence[CANode],
    empty: Mapping[str, bool],
    nodes: Sequence[CANode],
    groups: Mapping[str, NodeGroup],
    flags: CAFlags,
    state: CAState,
    now: float,
    reasons: dict[str, str],
    messages: dict[str, str],
) -> ScaleDownDecision:
    """Apply RemovableAt and the budgets to the unneeded nodes; record the deletions in state."""
    per_group, empty_running, drain_running = _in_progress(nodes)
    records = [
        UnneededNode(
            n.name,
            n.group or "",
            state.unneeded_since[n.name],
            empty[n.name],
            n.ready,
            n.view.alloc_cpu_m if n.capacity_cpu_m is None else n.capacity_cpu_m,
            n.view.alloc_mem_mib,
        )
        for n in unneeded
    ]
    cores = sum((n.capacity_cpu_m or n.view.alloc_cpu_m) / 1000 for n in nodes)
    mem = sum(n.view.alloc_mem_mib / 1024 for n in nodes)
    ok_empty, ok_drain, kept = removable_at(records, groups, per_group, flags, now, cores, mem)
    reasons.update(kept)
    take_empty, take_drain = crop_to_budget(ok_empty, ok_drain, flags, empty_running, drain_running)
    chosen = [*take_empty, *take_drain]
    for node in [*ok_empty, *ok_drain]:
        if node not in chosen:
            reasons[node.name] = "ScaleDownBudgetExhausted"
            messages[node.name] = "max-scale-down-parallelism / max-drain-parallelism budget used up"
    for node in chosen:
        reasons[node.name] = "ScaleDown"
        messages[node.name] = "empty node" if node.empty else "node will be drained"
    if chosen:
        deleted_groups = {**state.group_delete_time, **{n.group: now for n in chosen}}
        state = replace(state, last_scale_down_delete_time=now, group_delete_time=deleted_groups)
    return ScaleDownDecision(
        remove=tuple(n.name for n in chosen),
        reasons=reasons,
        state=state,
        messages=messages,
        empty=tuple(n.name for n in take_empty),
        unneeded=tuple(n.name for n in unneeded),
        status="ScaleDown" if chosen else "NoScaleDown",
    )


def register_scale_down_failure(state: CAState, group: str | None, now: float) -> CAState:
    """A node deletion failed (e.g. an eviction was refused): start delay-after-failure (§5.5)."""
    fails = dict(state.group_fail_time)
    if group is not None:
        fails[group] = now
    return replace(state, last_scale_down_fail_time=now, group_fail_time=fails)
