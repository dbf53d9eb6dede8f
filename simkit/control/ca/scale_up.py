"""Scale-up: which node groups to grow, and by how much, for the pending pods (ca_spec §2.2, §3, §4).

One call is the scale-up half of one `RunOnce` (`CA137:core/static_autoscaler.go`): scale-up request
bookkeeping and timeouts (`clusterstate.go`), the pod-list processors (expendable, filter-out-
schedulable, DaemonSet), `filterOutYoungPods`, `shouldScaleUp`, then the orchestrator
(`core/scaleup/orchestrator/orchestrator.go`): valid groups, template fit, binpacking estimate,
expander, caps, balancing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from simkit.control.ca.backoff import is_backed_off, register_failure, remove_stale
from simkit.control.ca.balance import balance_scale_up, nodes_similar, template_info
from simkit.control.ca.clusterstate import cluster_healthy, is_not_started
from simkit.control.ca.estimator import Estimate, estimate_nodes, place_pod, template_copy
from simkit.control.ca.expanders import ExpansionOption, PodPriceModel, choose
from simkit.control.ca.flags import CAFlags
from simkit.control.ca.model import (
    ANN_POD_SCALE_UP_DELAY,
    CANode,
    CAPod,
    CAState,
    FitFn,
    NodeGroup,
    ScaleUpRequest,
    as_ca_node,
    as_ca_pod,
    default_fit,
)
from simkit.control.types import ZONE_LABEL, NodeView, PodSpec
from simkit.units import parse_duration

__all__ = [
    "ScaleUpDecision",
    "scale_up",
    "filter_young_pods",
    "all_pods_new",
    "update_scale_up_requests",
    "register_failed_scale_up",
    "group_template",
    "equivalence_groups",
]

UNSCHEDULABLE_POD_TIME_BUFFER_S = 2.0  # static_autoscaler.go unschedulablePodTimeBuffer
UNSCHEDULABLE_GPU_POD_TIME_BUFFER_S = 30.0  # static_autoscaler.go unschedulablePodWithGpuTimeBuffer


@dataclass(frozen=True)
class ScaleUpDecision:
    """Node-group size increases (deltas) to request now, why, and the new CA state.

    `reverted` are target-size decreases for scale-ups that timed out (`ScaleUpTimedOut`): the
    engine should cancel that many still-provisioning nodes of the group. `group_reasons` says why
    each group was not chosen; `pods_triggered` / `pods_remaining` name the pods helped or not.
    """

    increases: Mapping[str, int]
    reason: str
    message: str
    state: CAState
    reverted: Mapping[str, int] = field(default_factory=dict)
    group_reasons: Mapping[str, str] = field(default_factory=dict)
    pods_triggered: tuple[str, ...] = ()
    pods_remaining: tuple[str, ...] = ()


# ------------------------------------------------------------------ bookkeeping


def register_failed_scale_up(state: CAState, group: str, now: float, flags: CAFlags) -> CAState:
    """A scale-up of `group` failed (cloud error or timeout): back the group off (§3.6)."""
    backoff = register_failure(
        state.backoff,
        group,
        now,
        flags.initial_node_group_backoff_duration,
        flags.max_node_group_backoff_duration,
    )
    return replace(state, backoff=backoff)


def update_scale_up_requests(
    state: CAState, upcoming: Mapping[str, int], flags: CAFlags, now: float
) -> tuple[CAState, dict[str, int], list[str]]:
    """Drop fulfilled requests; time out late ones (`updateScaleRequests`, clusterstate.go l.341).

    Returns the new state, target decreases per timed-out group, and `ScaleUpTimedOut` messages.
    """
    state = replace(state, backoff=remove_stale(state.backoff, now, flags.node_group_backoff_reset_timeout))
    requests: dict[str, ScaleUpRequest] = {}
    reverted: dict[str, int] = {}
    events: list[str] = []
    for group, request in state.scale_up_requests.items():
        if upcoming.get(group, 0) <= 0:
            continue  # every requested node has registered and is Ready (or Unready): done
        if request.expected_add_time < now:
            state = register_failed_scale_up(state, group, now, flags)
            reverted[group] = request.increase
            events.append(f"ScaleUpTimedOut: {group}: nodes added at {request.time:.0f}s not ready in time")
            continue
        requests[group] = request
    return replace(state, scale_up_requests=requests), reverted, events


def _register_scale_up(state: CAState, increases: Mapping[str, int], flags: CAFlags, now: float) -> CAState:
    """`RegisterScaleUp`: a repeat request adds to Increase and resets both timestamps."""
    requests = dict(state.scale_up_requests)
    for group, delta in increases.items():
        previous = requests.get(group)
        total = delta + (previous.increase if previous else 0)
        requests[group] = ScaleUpRequest(total, now, now + flags.max_node_provision_time)
    return replace(
        state,
        scale_up_requests=requests,
        last_scale_up_time=now,
        group_scale_up_time={**state.group_scale_up_time, **{g: now for g in increases}},
    )


# ------------------------------------------------------------------ pod filters


def _pod_delay(pod: CAPod, global_delay: float) -> float:
    """The per-pod annotation may only lengthen the global delay; unparsable values are ignored."""
    text = pod.annotations.get(ANN_POD_SCALE_UP_DELAY)
    if text is None:
        return global_delay
    try:
        return max(global_delay, parse_duration(text))
    except ValueError:
        return global_delay


def filter_young_pods(pods: Sequence[CAPod], flags: CAFlags, now: float) -> list[CAPod]:
    """Pods older than max(--new-pod-scale-up-delay, annotation) (`filterOutYoungPods`)."""
    return [p for p in pods if now - p.created_at > _pod_delay(p, flags.new_pod_scale_up_delay)]


def all_pods_new(pods: Sequence[CAPod], now: float) -> bool:
    """The oldest pod is younger than 2s, or the oldest GPU pod younger than 30s (`allPodsAreNew`)."""
    if not pods:
        return False
    if now - min(p.created_at for p in pods) < UNSCHEDULABLE_POD_TIME_BUFFER_S:
        return True
    gpu_pods = [p for p in pods if p.gpus > 0]
    return bool(gpu_pods) and now - min(p.created_at for p in gpu_pods) < UNSCHEDULABLE_GPU_POD_TIME_BUFFER_S


def _filter_out_schedulable(pods: Sequence[CAPod], nodes: Sequence[NodeView], fits: FitFn) -> list[CAPod]:
    """Pods that fit no existing or upcoming node, binpacked by priority (`filter_out_schedulable.go`)."""
    views = list(nodes)
    left: list[CAPod] = []
    for pod in sorted(pods, key=lambda p: -p.priority):
        index = next((i for i, v in enumerate(views) if fits(pod.spec, v, views) is None), None)
        if index is None:
            left.append(pod)
        else:
            views[index] = place_pod(views[index], pod.spec)
    return left


def _spec_key(pod: CAPod) -> str:
    """Equivalence key: same owner and the same spec apart from the name (`equivalence.BuildPodGroups`)."""
    return repr((pod.namespace, pod.owner_kind, replace(pod.spec, name="")))


def equivalence_groups(pods: Sequence[CAPod]) -> list[list[CAPod]]:
    """Pods grouped by equivalence key, in first-seen order."""
    groups: dict[str, list[CAPod]] = {}
    for pod in pods:
        groups.setdefault(_spec_key(pod), []).append(pod)
    return list(groups.values())


# ------------------------------------------------------------------ node groups


def group_template(group: NodeGroup, name: str | None = None) -> NodeView:
    """The group's template node with the group's labels and zone, named `name`."""
    labels = {**group.template.labels, **group.labels}
    if group.zone:
        labels[ZONE_LABEL] = group.zone
    return template_copy(replace(group.template, labels=labels), name or f"template-node-for-{group.name}")


def _group_healthy(group: NodeGroup, nodes: Sequence[CANode], flags: CAFlags, now: float) -> bool:
    """`IsNodeGroupHealthy`: the same 3 / 45% rule as the cluster gate, on the group's nodes."""
    members = [n for n in nodes if n.group == group.name]
    unready = sum(1 for n in members if not n.ready and not is_not_started(n, flags, now))
    limit = flags.max_total_unready_percentage / 100 * len(members)
    return not (unready > flags.ok_total_unready_count and unready > limit)


@dataclass(frozen=True)
class _Cluster:
    """What the orchestrator needs to know about the whole cluster in one loop."""

    views: tuple[NodeView, ...]  # existing schedulable nodes + upcoming template copies
    node_count: int  # registered + upcoming
    cores: float
    mem_gib: float


def _quota_room(group: NodeGroup, cluster: _Cluster, flags: CAFlags) -> int:
    """How many nodes of `group` fit under --cores-total / --memory-total (`applyLimits`)."""
    cores = group.cpu_capacity / 1000
    mem = group.mem_capacity / 1024
    room_cpu = (flags.cores_total[1] - cluster.cores) / cores if cores else math.inf
    room_mem = (flags.memory_total[1] - cluster.mem_gib) / mem if mem else math.inf
    room = min(room_cpu, room_mem)
    return int(math.floor(room)) if room != math.inf else 1 << 30


def _group_problem(
    group: NodeGroup, nodes: Sequence[CANode], cluster: _Cluster, flags: CAFlags, state: CAState, now: float
) -> str | None:
    """Why `group` cannot be scaled up now (`filterValidScaleUpNodeGroups`), or None."""
    if is_backed_off(state.backoff, group.name, now):
        return "BackedOff"
    if not _group_healthy(group, nodes, flags, now):
        return "NodeGroupUnhealthy"
    if group.target_size >= group.max_size:
        return "MaxNodesReached"
    if group.target_size == 0 and not flags.scale_up_from_zero:
        return "ScaleUpFromZeroDisabled"
    if _quota_room(group, cluster, flags) < 1:
        return "MaxResourceLimitReached"
    return None


# ------------------------------------------------------------------ orchestrator


@dataclass(frozen=True)
class _Candidate:
    group: NodeGroup
    schedulable: tuple[int, ...]  # indexes of the pod equivalence groups that fit its template
    estimate: Estimate


def _schedulable_groups(
    group: NodeGroup, pod_groups: Sequence[Sequence[CAPod]], cluster: _Cluster, fits: FitFn
) -> tuple[tuple[int, ...], str]:
    """Indexes of pod groups whose exemplar fits the empty template node, and the first misfit reason."""
    template = group_template(group)
    nodes = [*cluster.views, template]
    ok: list[int] = []
    first_reason = ""
    for i, pods in enumerate(pod_groups):
        reason = fits(pods[0].spec, template, nodes)
        if reason is None:
            ok.append(i)
        elif not first_reason:
            first_reason = reason
    return tuple(ok), first_reason


def _similar(group: NodeGroup, others: Sequence[NodeGroup], flags: CAFlags) -> list[NodeGroup]:
    """Other groups whose templates are similar to `group`'s (`ComputeSimilarNodeGroups`)."""
    if not flags.balance_similar_node_groups:
        return []
    mine = template_info(group)
    return [
        g
        for g in others
        if g.name != group.name
        and nodes_similar(
            mine,
            template_info(g),
            memory_ratio=flags.memory_difference_ratio,
            allocatable_ratio=flags.max_allocatable_difference_ratio,
            free_ratio=flags.max_free_difference_ratio,
            extra_ignored_labels=flags.balancing_ignore_label,
            balancing_labels=flags.balancing_label,
        )
    ]


def _estimate(
    group: NodeGroup,
    pod_groups: Sequence[Sequence[CAPod]],
    schedulable: Sequence[int],
    similar: Sequence[NodeGroup],
    cluster: _Cluster,
    flags: CAFlags,
    fits: FitFn,
) -> Estimate:
    """Binpack the schedulable pod groups onto new template nodes, within the three limiters."""
    limit = min(flags.max_nodes_per_scaleup, sum(g.max_size - g.target_size for g in [group, *similar]))
    if flags.max_nodes_total > 0:
        limit = min(limit, flags.max_nodes_total - cluster.node_count)
    if limit <= 0:
        return Estimate(0, (), ())
    specs = [[p.spec for p in pod_groups[i]] for i in schedulable]
    return estimate_nodes(specs, group_template(group), cluster.views, fits, limit, f"{group.name}-new")


def _cap_new_nodes(option: ExpansionOption, cluster: _Cluster, flags: CAFlags) -> int:
    """Cap by max-nodes-total (`GetCappedNewNodeCount`) and the resource quotas (`applyLimits`)."""
    count = option.node_count
    if flags.max_nodes_total > 0:
        count = min(count, flags.max_nodes_total - cluster.node_count)
    return min(count, _quota_room(option.group, cluster, flags))


def _build_cluster(
    nodes: Sequence[CANode], groups: Sequence[NodeGroup], upcoming: Mapping[str, int]
) -> _Cluster:
    """Snapshot: schedulable registered nodes plus upcoming nodes as Ready template copies (§2.2.5)."""
    views = [n.view for n in nodes if n.ready and n.deletion is None]
    cores = sum((n.capacity_cpu_m or n.view.alloc_cpu_m) / 1000 for n in nodes)
    mem = sum(n.view.alloc_mem_mib / 1024 for n in nodes)
    for group in groups:
        for i in range(max(upcoming.get(group.name, 0), 0)):
            views.append(group_template(group, f"{group.name}-upcoming-{i}"))
            cores += group.cpu_capacity / 1000
            mem += group.mem_capacity / 1024
    count = len(nodes) + sum(max(v, 0) for v in upcoming.values())
    return _Cluster(tuple(views), count, cores, mem)


def _no_scale_up(
    reason: str,
    message: str,
    state: CAState,
    reverted: Mapping[str, int],
    group_reasons: Mapping[str, str] | None = None,
    pods_remaining: tuple[str, ...] = (),
) -> ScaleUpDecision:
    """A decision that adds no node (timed-out requests may still be reverted)."""
    return ScaleUpDecision({}, reason, message, state, reverted, group_reasons or {}, (), pods_remaining)


def _pending_to_help(
    pending: Sequence[CAPod | PodSpec], cluster: _Cluster, flags: CAFlags, now: float, fits: FitFn
) -> tuple[list[CAPod], list[CAPod]]:
    """(pods after the processors and the young-pod filter, pods before the young-pod filter)."""
    pods = [as_ca_pod(p) for p in pending]
    pods = [p for p in pods if p.priority >= flags.expendable_pods_priority_cutoff and not p.daemonset]
    pods = _filter_out_schedulable(pods, cluster.views, fits)
    return filter_young_pods(pods, flags, now), pods


def scale_up(
    pending: Sequence[CAPod | PodSpec],
    groups: Sequence[NodeGroup],
    nodes: Sequence[CANode | NodeView],
    upcoming: Mapping[str, int],
    flags: CAFlags,
    state: CAState,
    now: float,
    rng: np.random.Generator,
    *,
    fits: FitFn | None = None,
    priorities: Mapping[int, Sequence[str]] | None = None,
    price_model: PodPriceModel | None = None,
) -> ScaleUpDecision:
    """One scale-up pass at `now` (seconds).

    `pending`: pods the scheduler marked unschedulable; `groups`: autoscaled node groups;
    `nodes`: registered nodes; `upcoming[g]`: nodes requested for g but not yet Ready
    (target − Ready − Unready, as `calculateUpcomingNodesInNodeGroup`); `rng` breaks expander ties;
    `priorities`: the priority expander's ConfigMap. Returns increases (deltas) per group.
    """
    fit = fits or default_fit()
    ca_nodes = [as_ca_node(n) for n in nodes]
    state, reverted, events = update_scale_up_requests(state, upcoming, flags, now)
    upcoming = {g: n - reverted.get(g, 0) for g, n in upcoming.items()}
    timed_out = "; ".join(events)
    if not cluster_healthy(ca_nodes, flags, now):
        return _no_scale_up("ClusterUnhealthy", "too many unready nodes; CA halts", state, reverted)
    cluster = _build_cluster(ca_nodes, groups, upcoming)
    pods, before_young = _pending_to_help(pending, cluster, flags, now, fit)
    if not pods:
        why = "pods younger than new-pod-scale-up-delay" if before_young else "no unschedulable pods"
        return _no_scale_up("NoUnschedulablePods", timed_out or why, state, reverted)
    if all_pods_new(pods, now):
        state = replace(state, scale_down_disabled_at=now)
        return _no_scale_up(
            "AllPodsNew", "all unschedulable pods are new; scale-up and scale-down skipped", state, reverted
        )
    ready = sum(1 for n in ca_nodes if n.ready)
    if flags.max_nodes_total > 0 and ready >= flags.max_nodes_total:
        return _no_scale_up(
            "MaxNodesTotalReached", f"{ready} ready nodes >= max-nodes-total", state, reverted
        )
    return _orchestrate(
        pods, groups, ca_nodes, cluster, flags, state, now, rng, fit, reverted, priorities, price_model
    )


def _orchestrate(
    pods: Sequence[CAPod],
    groups: Sequence[NodeGroup],
    nodes: Sequence[CANode],
    cluster: _Cluster,
    flags: CAFlags,
    state: CAState,
    now: float,
    rng: np.random.Generator,
    fits: FitFn,
    reverted: Mapping[str, int],
    priorities: Mapping[int, Sequence[str]] | None,
    price_model: PodPriceModel | None,
) -> ScaleUpDecision:
    """Valid groups -> estimates -> expander -> caps -> balancing -> registered scale-up."""
    pod_groups = equivalence_groups(pods)
    group_reasons: dict[str, str] = {}
    candidates: dict[str, _Candidate] = {}
    valid = [g for g in groups if _group_problem(g, nodes, cluster, flags, state, now) is None]
    for group in groups:
        problem = _group_problem(group, nodes, cluster, flags, state, now)
        if problem is not None:
            group_reasons[group.name] = problem
            continue
        schedulable, misfit = _schedulable_groups(group, pod_groups, cluster, fits)
        if not schedulable:
            group_reasons[group.name] = f"NoFit: {misfit}"
            continue
        similar = _similar(group, valid, flags)
        estimate = _estimate(group, pod_groups, schedulable, similar, cluster, flags, fits)
        if estimate.node_count > 0 and estimate.scheduled:
            candidates[group.name] = _Candidate(group, schedulable, estimate)
        else:
            group_reasons[group.name] = "NoFit: estimator placed no pod"
    names = [p.name for p in pods]
    if not candidates:
        return _no_scale_up(
            _summarise(group_reasons),
            _message(group_reasons),
            state,
            reverted,
            group_reasons=group_reasons,
            pods_remaining=tuple(names),
        )
    options = [
        ExpansionOption(c.group, c.estimate.node_count, c.estimate.scheduled) for c in candidates.values()
    ]
    best = choose(
        flags.expander,
        options,
        rng,
        priorities=priorities,
        cluster_nodes=cluster.node_count,
        price_model=price_model,
    )
    if best is None:
        return _no_scale_up(
            "NotTriggerScaleUp",
            "expander chose no option",
            state,
            reverted,
            group_reasons=group_reasons,
            pods_remaining=tuple(names),
        )
    count = _cap_new_nodes(best, cluster, flags)
    if count < 1:
        return _no_scale_up(
            "MaxNodesTotalReached",
            "max node total count already reached",
            state,
            reverted,
            group_reasons=group_reasons,
            pods_remaining=tuple(names),
        )
    chosen = candidates[best.group.name]
    increases = _distribute(chosen, candidates, valid, pod_groups, cluster, flags, count, fits)
    helped = {p.name for p in best.pods}
    message = ", ".join(f"{g} +{d}" for g, d in increases.items())
    return ScaleUpDecision(
        increases=increases,
        reason="ScaleUp",
        message=f"TriggeredScaleUp: {message} for {len(best.pods)} pod(s)",
        state=_register_scale_up(state, increases, flags, now),
        reverted=reverted,
        group_reasons=group_reasons,
        pods_triggered=tuple(n for n in names if n in helped),
        pods_remaining=tuple(n for n in names if n not in helped),
    )


def _distribute(
    chosen: _Candidate,
    candidates: Mapping[str, _Candidate],
    valid: Sequence[NodeGroup],
    pod_groups: Sequence[Sequence[CAPod]],
    cluster: _Cluster,
    flags: CAFlags,
    count: int,
    fits: FitFn,
) -> dict[str, int]:
    """Split `count` new nodes over the chosen group and its similar groups (§4.2-4.3), as deltas."""
    balanced = [chosen.group]
    for group in _similar(chosen.group, valid, flags):
        other = candidates.get(group.name)
        schedulable = other.schedulable if other else _schedulable_groups(group, pod_groups, cluster, fits)[0]
        if set(chosen.schedulable) <= set(schedulable):  # matchingSchedulablePodGroups
            balanced.append(group)
    sizes = balance_scale_up(balanced, count)
    targets = {g.name: g.target_size for g in balanced}
    return {name: size - targets[name] for name, size in sizes.items()}


_SUMMARY_ORDER = ("BackedOff", "MaxNodesReached", "MaxResourceLimitReached", "NodeGroupUnhealthy")


def _summarise(group_reasons: Mapping[str, str]) -> str:
    """One reason code when every group failed the same way, else NotTriggerScaleUp."""
    codes = {r.split(":")[0] for r in group_reasons.values()}
    if len(codes) == 1 and (code := next(iter(codes))) in _SUMMARY_ORDER:
        return code
    if codes == {"NoFit"}:
        return "NoScaleUpNoFit"
    return "NotTriggerScaleUp"


def _message(group_reasons: Mapping[str, str]) -> str:
    """Like the pod event: "pod didn't trigger scale-up: ng1: BackedOff, ng2: NoFit: ..."."""
    if not group_reasons:
        return "pod didn't trigger scale-up: no node groups"
    return "pod didn't trigger scale-up: " + ", ".join(f"{g}: {r}" for g, r in group_reasons.items())
