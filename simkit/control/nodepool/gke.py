"""GKE node pool upgrades as pure state machines: surge and blue-green.

Source: "UpgradeSettings - Google Kubernetes Engine REST v1" (defaults.GKE_DOC). Surge: at most
maxSurge nodes beyond the pool's size, at most maxSurge + maxUnavailable nodes upgraded at once, and
never fewer than size - maxUnavailable nodes available (Ready and schedulable): the reference's own
example, 5 nodes with maxSurge 2 and maxUnavailable 1, "ensures that there are always at least 4
nodes available". Blue-green (BlueGreenSettings): create the green pool, cordon the blue pool, drain
it in batches (batchNodeCount or batchPercentage) with batchSoakDuration after each, soak the whole
pool nodePoolSoakDuration, then delete the blue nodes.

Modelling choices: old nodes are taken in name order; a drain is forced once a node's PDBs have held
it for GKE_PDB_TIMEOUT_S (an assumption, see defaults); batchPercentage rounds up (assumption).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from simkit.control.nodepool import defaults as d
from simkit.control.nodepool.types import (
    COMPLETE,
    CORDON,
    DONE,
    DRAIN,
    FAILED,
    FORCE_DRAIN,
    LAUNCH,
    SCALE_UP,
    SETUP,
    SOAK,
    TERMINATE,
    UPGRADE,
    NodeAction,
    PoolObservation,
    StepResult,
    UpgradeState,
    begin,
    drain_progress,
    finish,
    old_nodes,
)

SURGE, BLUE_GREEN = "SURGE", "BLUE_GREEN"


@dataclass(frozen=True)
class GKESettings:
    """`upgrade_settings` of google_container_node_pool (strategy, max_surge, max_unavailable,
    blue_green_settings); durations in seconds."""

    strategy: str = SURGE
    max_surge: int = d.GKE_MAX_SURGE_DEFAULT
    max_unavailable: int = d.GKE_MAX_UNAVAILABLE_DEFAULT
    batch_node_count: int | None = None
    batch_percentage: float | None = None
    batch_soak_s: float = d.GKE_BATCH_SOAK_S
    node_pool_soak_s: float = d.GKE_NODE_POOL_SOAK_S
    pdb_timeout_s: float = d.GKE_PDB_TIMEOUT_S


def gke_start(settings: GKESettings = GKESettings()) -> UpgradeState:
    if settings.strategy not in (SURGE, BLUE_GREEN):
        raise ValueError(f"strategy must be SURGE or BLUE_GREEN, got {settings.strategy!r}")
    if settings.strategy == SURGE:
        if settings.max_surge < 0 or settings.max_unavailable < 0:
            raise ValueError("maxSurge and maxUnavailable must be >= 0")
        if settings.max_surge + settings.max_unavailable == 0:
            raise ValueError("maxSurge and maxUnavailable cannot both be 0")
    if settings.batch_percentage is not None and not 0.0 < settings.batch_percentage <= 1.0:
        raise ValueError("batchPercentage must be in (0, 1]")
    return UpgradeState(settings=settings)


def gke_batch_size(settings: GKESettings, size: int) -> int:
    """Blue nodes drained per batch: batchNodeCount, else ceil(batchPercentage x size), else 1."""
    if settings.batch_node_count is not None:
        return max(1, settings.batch_node_count)
    if settings.batch_percentage is not None:
        return max(1, math.ceil(settings.batch_percentage * size))
    return d.GKE_BATCH_NODE_COUNT_DEFAULT


def gke_step(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    """One reconcile of a GKE node pool upgrade: (actions, new state, reason)."""
    s: GKESettings = state.settings
    if state.phase in (DONE, FAILED):
        return (), state, state.reason
    if state.phase == SETUP:
        old = old_nodes(obs)
        surge_strategy = s.strategy == SURGE
        state = begin(
            state,
            old,
            now,
            surge=s.max_surge if surge_strategy else len(old),
            parallel=s.max_surge + s.max_unavailable if surge_strategy else gke_batch_size(s, len(old)),
            phase=UPGRADE if surge_strategy else SCALE_UP,
        )
        if s.strategy == BLUE_GREEN:
            acts = tuple(
                NodeAction(LAUNCH, zone=n.zone, reason="CreateGreenPool", message=f"green for {n.name}")
                for n in old
            )
            return acts, state, "CreateGreenPool"
    if s.strategy == SURGE:
        return _surge(state, obs, now)
    return _blue_green(state, obs, now)


def _forced(state: UpgradeState, obs: PoolObservation, now: float) -> tuple[list[NodeAction], list[str]]:
    s: GKESettings = state.settings
    drained, overdue = drain_progress(state, obs, now, s.pdb_timeout_s)
    acts = [
        NodeAction(FORCE_DRAIN, n, reason="PDBTimeout", message="PDBs respected for 1 h, then evicted")
        for n in overdue
    ]
    return acts, drained + overdue


def _surge(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    s: GKESettings = state.settings
    acts, drained = _forced(state, obs, now)
    finished = set(state.finished)
    for name in drained:
        finished.add(name)
        acts.append(NodeAction(TERMINATE, name, reason="DeleteOldNode"))
    gone = set(finished)
    nodes = [n for n in obs.nodes if n.name not in gone]
    new_count = sum(1 for n in nodes if n.upgraded)
    total = len(nodes)
    todo = [n for n in state.original if n not in gone]
    zone_of = {n.name: n.zone for n in obs.nodes}
    zones = [zone_of.get(n, state.zones[0] if state.zones else "default") for n in todo] or list(state.zones)
    i = 0
    while new_count < state.size and total < state.size + s.max_surge:
        acts.append(NodeAction(LAUNCH, zone=zones[i % len(zones)], reason="SurgeNode"))
        new_count += 1
        total += 1
        i += 1
    started = dict(state.drain_started)
    in_flight = [n for n in started if n not in finished]
    available = sum(1 for n in nodes if n.ready and not n.unschedulable and n.name not in started)
    floor = state.size - s.max_unavailable
    for name in todo:
        if len(in_flight) >= state.parallel or available - 1 < floor:
            break
        if name in started:
            continue
        started[name] = now
        in_flight.append(name)
        available -= 1
        acts.append(NodeAction(CORDON, name, reason="Upgrade"))
        acts.append(NodeAction(DRAIN, name, reason="Upgrade", limit_s=s.pdb_timeout_s))
    state = replace(state, drain_started=started, finished=frozenset(finished))
    if not todo and new_count >= state.size and all(n.ready for n in nodes):
        return finish(state, acts, COMPLETE, COMPLETE, f"{state.size} nodes upgraded")
    if in_flight:
        return tuple(acts), state, f"Upgrade: {len(in_flight)} in flight, {len(finished)}/{state.size} done"
    return tuple(acts), state, f"Upgrade: waiting for {available} available > {floor} to start the next node"


def _blue_green(state: UpgradeState, obs: PoolObservation, now: float) -> StepResult:
    s: GKESettings = state.settings
    acts: list[NodeAction] = []
    if state.phase == SCALE_UP:
        green = [n for n in obs.nodes if n.upgraded]
        if len(green) < state.size or not all(n.ready for n in green):
            return (), state, f"CreateGreenPool: {sum(n.ready for n in green)}/{state.size} green nodes Ready"
        acts = [NodeAction(CORDON, n, reason="CordonBluePool") for n in state.original]
        state = replace(state, phase=UPGRADE, phase_since=None)
    if state.phase == UPGRADE:
        more, drained = _forced(state, obs, now)
        acts += more
        drained_at = {**state.drained_at, **{n: now for n in drained}}
        state = replace(state, drained_at=drained_at)
        in_flight = [n for n in state.drain_started if n not in drained_at]
        if in_flight:
            return tuple(acts), state, f"DrainBluePool: batch of {len(in_flight)} draining"
        last = max(drained_at.values(), default=None)
        if last is not None and now - last < s.batch_soak_s:
            return tuple(acts), state, f"DrainBluePool: batch soak until {last + s.batch_soak_s:g}"
        todo = [n for n in state.original if n not in state.drain_started]
        if todo:
            batch = todo[: state.parallel]
            started = {**state.drain_started, **{n: now for n in batch}}
            acts += [NodeAction(DRAIN, n, reason="DrainBluePool", limit_s=s.pdb_timeout_s) for n in batch]
            return tuple(acts), replace(state, drain_started=started), f"DrainBluePool: batch of {len(batch)}"
        state = replace(state, phase=SOAK, phase_since=now)
    if state.phase == SOAK:
        since = state.phase_since if state.phase_since is not None else now
        if now - since < s.node_pool_soak_s:
            return tuple(acts), state, f"NodePoolSoak until {since + s.node_pool_soak_s:g}"
        acts += [NodeAction(TERMINATE, n, reason="DeleteBluePool") for n in state.original if obs.node(n)]
        state = replace(state, finished=frozenset(state.original))
        return finish(state, acts, COMPLETE, COMPLETE, f"{state.size} nodes replaced (blue-green)")
    return tuple(acts), state, state.phase
