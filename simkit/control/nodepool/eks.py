"""EKS managed node group version update as a pure state machine.

Source: "Understand each phase of node updates - Amazon EKS" (see defaults.EKS_DOC). Setup: the
parallelism is updateConfig maxUnavailable (default 1, quota 100). Scale up (DEFAULT strategy): the
Auto Scaling group grows by max(2 x AZs, maxUnavailable); the phase succeeds when every new node is
Ready and each AZ with nodes has one; then the old nodes are marked unschedulable. Upgrade: up to
maxUnavailable old nodes at a time are drained; Pods not gone within 15 minutes fail the update with
PodEvictionFailure unless `force`; after the drain the node is cordoned, 60 s pass, it is terminated.
MINIMAL skips the scale up and lets the ASG replace each terminated node. Scale down: the group
returns to its size before the update.

Modelling choices (documented as assumptions in the report): nodes are picked in name order (EKS
picks randomly); each terminated old node is replaced by a new node in its zone (the ASG keeps the
raised desired size); the scale-down removes the surplus new nodes with the fewest pods, drained
without the 15-minute failure; after a PodEvictionFailure the pool is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simkit.control.nodepool import defaults as d
from simkit.control.nodepool.types import (
    COMPLETE,
    CORDON,
    DONE,
    DRAIN,
    FAILED,
    FORCE_DRAIN,
    LABEL,
    LAUNCH,
    POD_EVICTION_FAILURE,
    SCALE_DOWN,
    SCALE_UP,
    SETUP,
    TERMINATE,
    UPGRADE,
    NodeAction,
    PoolObservation,
    StepResult,
    UpgradeState,
    begin,
    blocked_message,
    drain_progress,
    fewest_pods,
    finish,
    old_nodes,
    spread,
)

DEFAULT, MINIMAL = "DEFAULT", "MINIMAL"


@dataclass(frozen=True)
class EKSSettings:
    """`update_config` of aws_eks_node_group / NodegroupUpdateConfig, plus the update's force flag."""

    max_unavailable: int | None = None
    max_unavailable_percentage: int | None = None
    update_strategy: str = d.EKS_STRATEGY_DEFAULT
    force: bool = False


def eks_max_unavailable(settings: EKSSettings, size: int) -> int:
    """Nodes upgraded in parallel: maxUnavailable (default 1) or a percentage (floor, at least 1;
    an assumption), at most the 100-node quota."""
    if settings.max_unavailable is not None and settings.max_unavailable_percentage is not None:
        raise ValueError("set maxUnavailable or maxUnavailablePercentage, not both")
    if settings.max_unavailable_percentage is not None:
        pct = settings.max_unavailable_percentage
        if not 1 <= pct <= 100:
            raise ValueError("maxUnavailablePercentage must be between 1 and 100")
        n = max(1, size * pct // 100)
    else:
        n = d.EKS_MAX_UNAVAILABLE_DEFAULT if settings.max_unavailable is None else settings.max_unavailable
        if n < 1:
            raise ValueError("maxUnavailable must be at least 1")
    return min(n, d.EKS_MAX_UNAVAILABLE_QUOTA)


def eks_surge(azs: int, max_unavailable: int) -> int:
    """Scale-up phase: the ASG desired size grows by max(2 x AZs, maxUnavailable)."""
    return max(d.EKS_SURGE_PER_AZ * azs, max_unavailable)


def eks_start(settings: EKSSettings = EKSSettings()) -> UpgradeState:
    if settings.update_strategy not in (DEFAULT, MINIMAL):
        raise ValueError(f"updateStrategy must be DEFAULT or MINIMAL, got {settings.update_strategy!r}")
    return UpgradeState(settings=settings)


def eks_step(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    """One reconcile of an EKS managed node group update: (actions, new state, reason)."""
    s: EKSSettings = state.settings
    if state.phase in (DONE, FAILED):
        return (), state, state.reason
    if state.phase == SETUP:
        old = old_nodes(obs)
        zones = tuple(sorted({n.zone for n in old}))
        mu = eks_max_unavailable(s, len(old))
        surge = eks_surge(len(zones), mu) if s.update_strategy == DEFAULT else 0
        state = begin(state, old, now, surge=surge, parallel=mu, phase=SCALE_UP if surge else UPGRADE)
        if surge:
            msg = f"desired size +max({d.EKS_SURGE_PER_AZ} x {len(zones)} AZs, maxUnavailable {mu}) = {surge}"
            acts = tuple(
                NodeAction(LAUNCH, zone=z, reason="ScaleUp", message=msg) for z in spread(surge, zones)
            )
            return acts, state, "ScaleUp"
    if state.phase == SCALE_UP:
        new = [n for n in obs.nodes if n.upgraded]
        ready = [n for n in new if n.ready]
        missing = set(state.zones) - {n.zone for n in ready}
        if len(ready) < len(new) or missing:
            return (), state, f"ScaleUp: waiting for {len(ready)}/{len(new)} new nodes Ready"
        cordons: list[NodeAction] = []
        for name in state.original:
            node = obs.node(name)
            if node is not None and not node.unschedulable:
                cordons.append(NodeAction(CORDON, name, reason="MarkUnschedulable"))
                cordons.append(
                    NodeAction(
                        LABEL,
                        name,
                        reason="ExcludeFromLoadBalancers",
                        message="node.kubernetes.io/exclude-from-external-load-balancers=true",
                    )
                )
        state = replace(state, phase=UPGRADE, phase_since=now)
        more, state, reason = _upgrade(state, obs, now)
        return (*cordons, *more), state, reason
    if state.phase == UPGRADE:
        return _upgrade(state, obs, now)
    return _scale_down(state, obs, now)


def _upgrade(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    s: EKSSettings = state.settings
    acts: list[NodeAction] = []
    drained_at = dict(state.drained_at)
    finished = set(state.finished)
    drained, overdue = drain_progress(state, obs, now, d.EKS_DRAIN_LIMIT_S)
    for name in overdue:
        if not s.force:
            msg = f"PodEvictionFailure: pods did not leave within 15 minutes: {blocked_message(obs, name)}"
            return finish(state, acts, POD_EVICTION_FAILURE, POD_EVICTION_FAILURE, msg)
        acts.append(NodeAction(FORCE_DRAIN, name, reason="ForceUpdate", message="pods deleted (force flag)"))
        drained.append(name)
    for name in drained:
        drained_at[name] = now
        acts.append(
            NodeAction(CORDON, name, reason="CordonAfterDrain", message="waiting 60 s before terminate")
        )
    for name, t in sorted(drained_at.items()):
        if name in finished or now - t < d.EKS_WAIT_AFTER_CORDON_S:
            continue
        node = obs.node(name)
        finished.add(name)
        acts.append(NodeAction(TERMINATE, name, reason="Terminate"))
        zone = node.zone if node is not None else (state.zones[0] if state.zones else None)
        acts.append(NodeAction(LAUNCH, zone=zone, reason="ReplaceCapacity", message=f"replaces {name}"))
    state = replace(state, drained_at=drained_at, finished=frozenset(finished))

    in_flight = [n for n in state.drain_started if n not in finished]
    booting = sum(1 for n in obs.nodes if n.upgraded and not n.ready) if s.update_strategy == MINIMAL else 0
    slots = state.parallel - len(in_flight) - booting
    started = dict(state.drain_started)
    for name in state.original:
        if slots <= 0:
            break
        if name in started or obs.node(name) is None:
            continue
        started[name] = now
        slots -= 1
        acts.append(NodeAction(DRAIN, name, reason="Drain", limit_s=d.EKS_DRAIN_LIMIT_S))
    state = replace(state, drain_started=started)
    if all(n in finished for n in state.original):
        if state.surge:
            # The scale-down picks its nodes at the next step, when the last replacement is seen.
            state = replace(state, phase=SCALE_DOWN, phase_since=now)
            return tuple(acts), state, f"ScaleDown: desired size -{state.surge}"
        if any(n.upgraded and not n.ready for n in obs.nodes):
            return tuple(acts), state, "Upgrade: waiting for replacement nodes Ready"
        return finish(state, acts, COMPLETE, COMPLETE, f"{state.size} nodes upgraded")
    waiting = [n for n in state.drain_started if n not in drained_at]
    return tuple(acts), state, f"Upgrade: draining {len(waiting)}, {len(finished)}/{state.size} done"


def _scale_down(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    """Back to the size before the update: drain then terminate the surplus new nodes."""
    acts: list[NodeAction] = []
    if not state.surplus:
        new = [n for n in obs.nodes if n.upgraded and n.name not in state.original]
        victims = fewest_pods(new, min(state.surge, max(0, len(new) - state.size)))
        state = replace(state, surplus=tuple(n.name for n in victims))
        started = {**state.drain_started, **{n.name: now for n in victims}}
        state = replace(state, drain_started=started)
        acts += [NodeAction(DRAIN, n.name, reason="ScaleDown") for n in victims]
    drained, _ = drain_progress(state, obs, now, None)
    finished = set(state.finished)
    for name in drained:
        if name in state.surplus:
            finished.add(name)
            acts.append(NodeAction(TERMINATE, name, reason="ScaleDown"))
    state = replace(state, finished=frozenset(finished))
    if all(n in finished for n in state.surplus) and all(n.ready for n in obs.nodes if n.upgraded):
        return finish(state, acts, COMPLETE, COMPLETE, f"{state.size} nodes upgraded")
    return tuple(acts), state, "ScaleDown: removing surplus nodes"
