"""One scale step of a rollout: pkg/controller/deployment/rolling.go and recreate.go, and the
ReplicaSet scaling helpers of sync.go (scaleReplicaSet, scaleReplicaSetAndRecordEvent).

Each function takes ReplicaSets and returns a `ScaleResult` with the updated copies (an Update keeps
the status, as the real API does) and the scale actions with simkit reason codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkit.control.deployment.types import Deployment, ReplicaSet, ScaleAction, evolve
from simkit.control.deployment.util import (
    actual_replica_count,
    available_replica_count,
    by_creation_timestamp,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    replica_count,
    replicas_annotations_need_update,
    with_replicas_annotations,
)

# Reason codes of the scale actions (upstream they all share the event reason ScalingReplicaSet).
SCALE_UP_NEW = "ScaleUpNewReplicaSet"
SCALE_DOWN_NEW = "ScaleDownNewReplicaSet"
CLEANUP_UNHEALTHY = "CleanupUnhealthyReplicas"
SCALE_DOWN_OLD = "ScaleDownOldReplicaSet"
PROPORTIONAL = "ProportionalScale"
SATURATED_SCALE_DOWN = "NewReplicaSetSaturated"
RECREATE_SCALE_DOWN = "RecreateScaleDownOld"
RECREATE_SCALE_UP = "RecreateScaleUpNew"


@dataclass(frozen=True)
class ScaleResult:
    """What one helper did: `count` replicas moved, the RSs after it (input order), the actions."""

    scaled: bool
    count: int
    replica_sets: tuple[ReplicaSet, ...]
    actions: tuple[ScaleAction, ...] = ()

    def get(self, name: str) -> ReplicaSet:
        return next(rs for rs in self.replica_sets if rs.name == name)


def scale_replica_set(
    rs: ReplicaSet, new_scale: int, d: Deployment, reason: str
) -> tuple[ReplicaSet, ScaleAction | None]:
    """`scaleReplicaSet`: set the size and the desired/max-replicas annotations when either changed.

    A spec change bumps metadata.generation, as the API server does.
    """
    max_replicas = d.replicas + max_surge(d)
    size_changed = rs.replicas != new_scale
    if not size_changed and not replicas_annotations_need_update(rs, d.replicas, max_replicas):
        return rs, None
    updated = with_replicas_annotations(rs, d.replicas, max_replicas)
    if not size_changed:
        return updated, None
    updated = evolve(updated, replicas=new_scale, generation=rs.generation + 1)
    return updated, ScaleAction(rs.name, rs.replicas, new_scale, reason)


def scale_and_record(
    rs: ReplicaSet, new_scale: int, d: Deployment, reason: str
) -> tuple[ReplicaSet, ScaleAction | None]:
    """`scaleReplicaSetAndRecordEvent`: no call at all when the size is already right."""
    if rs.replicas == new_scale:
        return rs, None
    return scale_replica_set(rs, new_scale, d, reason)


def _result(
    originals: Sequence[ReplicaSet], updated: dict[str, ReplicaSet], actions: list[ScaleAction], count: int
) -> ScaleResult:
    out = tuple(updated.get(rs.name, rs) for rs in originals)
    return ScaleResult(bool(actions), count, out, tuple(actions))


def reconcile_new_replica_set(
    d: Deployment, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet
) -> ScaleResult:
    """`reconcileNewReplicaSet` (rolling.go): scale the new RS down to spec, or up by NewRSNewReplicas."""
    if new_rs.replicas == d.replicas:
        return ScaleResult(False, 0, (new_rs,))
    if new_rs.replicas > d.replicas:
        rs, action = scale_and_record(new_rs, d.replicas, d, SCALE_DOWN_NEW)
    else:
        rs, action = scale_and_record(new_rs, new_rs_new_replicas(d, all_rss, new_rs), d, SCALE_UP_NEW)
    actions = [action] if action else []
    return ScaleResult(bool(actions), abs(rs.replicas - new_rs.replicas), (rs,), tuple(actions))


def cleanup_unhealthy_replicas(
    old_rss: Sequence[ReplicaSet], d: Deployment, max_cleanup_count: int
) -> ScaleResult:
    """`cleanupUnhealthyReplicas` (rolling.go): remove unavailable old pods, oldest RS first.

    The ReplicaSet controller deletes not-ready pods first, so this never lowers availability.
    Returns the old RSs in ByCreationTimestamp order, as upstream does.
    """
    ordered = by_creation_timestamp(old_rss)
    updated: dict[str, ReplicaSet] = {}
    actions: list[ScaleAction] = []
    total = 0
    for rs in ordered:
        if total >= max_cleanup_count:
            break
        if rs.replicas == 0 or rs.replicas == rs.available_replicas:
            continue
        count = min(max_cleanup_count - total, rs.replicas - rs.available_replicas)
        new_scale = rs.replicas - count
        if new_scale > rs.replicas:
            raise ValueError(f"invalid request to scale down {rs.name} {rs.replicas} -> {new_scale}")
        scaled, action = scale_and_record(rs, new_scale, d, CLEANUP_UNHEALTHY)
        updated[rs.name] = scaled
        if action:
            actions.append(action)
        total += count
    return _result(ordered, updated, actions, total)


def scale_down_old_replica_sets(
    all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], d: Deployment
) -> ScaleResult:
    """`scaleDownOldReplicaSetsForRollingUpdate` (rolling.go): remove available - minAvailable old
    replicas, oldest RS first, never more than an RS has."""
    min_avail = d.replicas - max_unavailable(d)
    available = available_replica_count(all_rss)
    ordered = by_creation_timestamp(old_rss)
    if available <= min_avail:
        return ScaleResult(False, 0, tuple(ordered))
    to_remove = available - min_avail
    updated: dict[str, ReplicaSet] = {}
    actions: list[ScaleAction] = []
    total = 0
    for rs in ordered:
        if total >= to_remove:
            break
        if rs.replicas == 0:
            continue
        count = min(rs.replicas, to_remove - total)
        scaled, action = scale_and_record(rs, rs.replicas - count, d, SCALE_DOWN_OLD)
        updated[rs.name] = scaled
        if action:
            actions.append(action)
        total += count
    return _result(ordered, updated, actions, total)


def reconcile_old_replica_sets(
    d: Deployment, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], new_rs: ReplicaSet
) -> ScaleResult:
    """`reconcileOldReplicaSets` (rolling.go): maxScaledDown = all - minAvailable - new unavailable;
    clean up unhealthy old replicas, then scale old RSs down while keeping minAvailable."""
    if replica_count(old_rss) == 0:
        return ScaleResult(False, 0, tuple(old_rss))
    min_avail = d.replicas - max_unavailable(d)
    new_unavailable = new_rs.replicas - new_rs.available_replicas
    max_scaled_down = replica_count(all_rss) - min_avail - new_unavailable
    if max_scaled_down <= 0:
        return ScaleResult(False, 0, tuple(old_rss))
    cleaned = cleanup_unhealthy_replicas(old_rss, d, max_scaled_down)
    old_after = list(cleaned.replica_sets)
    down = scale_down_old_replica_sets([*old_after, new_rs], old_after, d)
    final = {rs.name: rs for rs in down.replica_sets}
    total = cleaned.count + down.count
    return ScaleResult(
        total > 0,
        total,
        tuple(final.get(rs.name, rs) for rs in old_after),
        cleaned.actions + down.actions,
    )


# ---------------------------------------------------------------------------------------------
# Recreate (recreate.go)
# ---------------------------------------------------------------------------------------------


def scale_down_old_for_recreate(active_old: Sequence[ReplicaSet], d: Deployment) -> ScaleResult:
    """`scaleDownOldReplicaSetsForRecreate`: every active old RS to 0."""
    updated: dict[str, ReplicaSet] = {}
    actions: list[ScaleAction] = []
    for rs in active_old:
        if rs.replicas == 0:
            continue
        scaled, action = scale_and_record(rs, 0, d, RECREATE_SCALE_DOWN)
        updated[rs.name] = scaled
        if action:
            actions.append(action)
    return _result(active_old, updated, actions, sum(a.from_replicas for a in actions))


def old_pods_running(old_rss: Sequence[ReplicaSet]) -> bool:
    """`oldPodsRunning`: an old RS still reports pods, or has pods terminating (not yet gone)."""
    return actual_replica_count(old_rss) > 0 or any((rs.terminating_replicas or 0) > 0 for rs in old_rss)


def scale_up_new_for_recreate(new_rs: ReplicaSet, d: Deployment) -> ScaleResult:
    """`scaleUpNewReplicaSetForRecreate`: the new RS straight to spec replicas."""
    rs, action = scale_and_record(new_rs, d.replicas, d, RECREATE_SCALE_UP)
    return ScaleResult(
        action is not None, abs(rs.replicas - new_rs.replicas), (rs,), (action,) if action else ()
    )
