"""AKS node pool rolling upgrade as a pure state machine.

Sources: "AgentPoolUpgradeSettings interface - @azure/arm-containerservice" (defaults.AKS_DOC:
maxSurge default 10 %, percentages rounded up; maxUnavailable default 0; drainTimeoutInMinutes
default 30, exceeding it fails the upgrade; nodeSoakDurationInMinutes default 0;
undrainableNodeBehavior Cordon | Schedule) and "Configure rolling upgrades for Azure Kubernetes
Service (AKS) node pools" (learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling: add the
surge (buffer) nodes; cordon and drain as many old nodes at once as there are buffer nodes; wait the
soak time; reimage the drained node, which becomes a buffer node for the next set; repeat; remove
the remaining buffer nodes).

Undrainable nodes (drain past the timeout): Schedule uncordons the node, leaves it on the old
version, removes the surge nodes and fails the upgrade (we stop at the first such node, an
assumption); Cordon labels it kubernetes.azure.com/upgrade-status=Quarantined, keeps one surge node
per blocked node, carries on, and ends failed (or canceled = Aborted when there were more blocked
nodes than surge nodes). The outcome of a failure is DrainTimeout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simkit.control.deployment.intstr import IntOrStr
from simkit.control.nodepool import defaults as d
from simkit.control.nodepool.types import (
    ABORTED,
    COMPLETE,
    DONE,
    DRAIN,
    DRAIN_TIMEOUT,
    FAILED,
    LABEL,
    LAUNCH,
    REIMAGE,
    SCALE_DOWN,
    SCALE_UP,
    SETUP,
    TERMINATE,
    UNCORDON,
    UPGRADE,
    NodeAction,
    PoolObservation,
    StepResult,
    UpgradeState,
    begin,
    blocked_message,
    count_of,
    drain_progress,
    fewest_pods,
    finish,
    old_nodes,
    spread,
)

CORDON_BEHAVIOR, SCHEDULE_BEHAVIOR = "Cordon", "Schedule"


@dataclass(frozen=True)
class AKSSettings:
    """`upgrade_settings` of azurerm_kubernetes_cluster_node_pool; durations in seconds."""

    max_surge: IntOrStr = d.AKS_MAX_SURGE_DEFAULT
    max_unavailable: IntOrStr = d.AKS_MAX_UNAVAILABLE_DEFAULT
    drain_timeout_s: float = d.AKS_DRAIN_TIMEOUT_S
    node_soak_s: float = d.AKS_NODE_SOAK_S
    undrainable_node_behavior: str = d.AKS_UNDRAINABLE_DEFAULT


def aks_surge(settings: AKSSettings, size: int) -> int:
    """maxSurge in nodes: an int, or a percentage of the pool rounded up (default 10 %)."""
    return count_of(settings.max_surge, size, True)


def aks_start(settings: AKSSettings = AKSSettings()) -> UpgradeState:
    if settings.undrainable_node_behavior not in (CORDON_BEHAVIOR, SCHEDULE_BEHAVIOR):
        raise ValueError("undrainableNodeBehavior must be Cordon or Schedule")
    return UpgradeState(settings=settings)


def aks_step(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    """One reconcile of an AKS node pool upgrade: (actions, new state, reason)."""
    s: AKSSettings = state.settings
    if state.phase in (DONE, FAILED):
        return (), state, state.reason
    if state.phase == SETUP:
        old = old_nodes(obs)
        surge = aks_surge(s, len(old))
        unavailable = count_of(s.max_unavailable, len(old), True)
        if surge + unavailable <= 0:
            raise ValueError("maxSurge and maxUnavailable cannot both be 0")
        state = begin(state, old, now, surge=surge, parallel=surge + unavailable, phase=SCALE_UP)
        zones = state.zones
        acts = tuple(
            NodeAction(
                LAUNCH, zone=z, reason="SurgeNode", message=f"maxSurge {s.max_surge} of {len(old)} = {surge}"
            )
            for z in spread(surge, zones)
        )
        return acts, state, f"AddSurgeNodes: {surge}"
    if state.phase == SCALE_UP:
        booting = [n for n in obs.nodes if n.upgraded and not n.ready]
        if booting:
            return (), state, f"AddSurgeNodes: {len(booting)} not Ready"
        state = replace(state, phase=UPGRADE, phase_since=now)
    if state.phase == UPGRADE:
        return _upgrade(state, obs, now)
    return _remove_surge(state, obs, now)


def _upgrade(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    s: AKSSettings = state.settings
    acts: list[NodeAction] = []
    drained, overdue = drain_progress(state, obs, now, s.drain_timeout_s)
    blocked = list(state.blocked)
    finished = set(state.finished)
    for name in overdue:
        if s.undrainable_node_behavior == SCHEDULE_BEHAVIOR:
            acts.append(NodeAction(UNCORDON, name, reason="UndrainableNodeSchedule"))
            msg = f"drain timeout {s.drain_timeout_s / 60:g} min exceeded: {blocked_message(obs, name)}"
            state = replace(state, blocked=(*blocked, name), finished=frozenset(finished | {name}))
            extra = [n.name for n in obs.nodes if n.name not in state.original]
            acts += [NodeAction(TERMINATE, n, reason="RemoveSurgeNode") for n in extra]
            return finish(state, acts, DRAIN_TIMEOUT, DRAIN_TIMEOUT, msg)
        acts.append(
            NodeAction(
                LABEL,
                name,
                reason="UndrainableNodeCordon",
                message="kubernetes.azure.com/upgrade-status=Quarantined",
            )
        )
        blocked.append(name)
        finished.add(name)
    drained_at = {**state.drained_at, **{n: now for n in drained}}
    for name, t in sorted(drained_at.items()):
        if name not in finished and now - t >= s.node_soak_s:
            finished.add(name)
            acts.append(NodeAction(REIMAGE, name, reason="Reimage"))
    state = replace(state, drained_at=drained_at, finished=frozenset(finished), blocked=tuple(blocked))
    # A node holds a slot from its drain until it is back Ready on the new image.
    busy = [
        n
        for n in state.drain_started
        if n not in state.blocked
        and not ((node := obs.node(n)) is not None and n in finished and node.upgraded and node.ready)
    ]
    slots = state.parallel - len(busy)
    started = dict(state.drain_started)
    for name in state.original:
        if slots <= 0:
            break
        if name in started:
            continue
        started[name] = now
        slots -= 1
        acts.append(NodeAction(DRAIN, name, reason="CordonAndDrain", limit_s=s.drain_timeout_s))
    state = replace(state, drain_started=started)
    if all(n in finished for n in state.original) and not busy:
        more, state, reason = _remove_surge(replace(state, phase=SCALE_DOWN, phase_since=now), obs, now)
        return (*acts, *more), state, reason
    return tuple(acts), state, f"Upgrade: {len(busy)} in progress, {len(finished)}/{state.size} done"


def _remove_surge(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    """Delete the buffer nodes (keeping one per quarantined node under Cordon)."""
    s: AKSSettings = state.settings
    acts: list[NodeAction] = []
    if not state.surplus:
        keep = len(state.blocked) if s.undrainable_node_behavior == CORDON_BEHAVIOR else 0
        extra = [n for n in obs.nodes if n.name not in state.original]
        victims = fewest_pods(extra, max(0, len(extra) - keep))
        state = replace(
            state,
            surplus=tuple(n.name for n in victims),
            drain_started={**state.drain_started, **{n.name: now for n in victims}},
        )
        acts += [NodeAction(DRAIN, n.name, reason="RemoveSurgeNode") for n in victims]
    drained, _ = drain_progress(state, obs, now, None)
    finished = set(state.finished)
    for name in drained:
        if name in state.surplus:
            finished.add(name)
            acts.append(NodeAction(TERMINATE, name, reason="RemoveSurgeNode"))
    state = replace(state, finished=frozenset(finished))
    if any(n not in finished for n in state.surplus):
        return tuple(acts), state, "RemoveSurgeNodes"
    if state.blocked:
        outcome = ABORTED if len(state.blocked) > state.surge else DRAIN_TIMEOUT
        nodes = ", ".join(blocked_message(obs, n) for n in state.blocked)
        return finish(state, acts, outcome, outcome, f"undrainable nodes quarantined: {nodes}")
    return finish(state, acts, COMPLETE, COMPLETE, f"{state.size} nodes upgraded")
