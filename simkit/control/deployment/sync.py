"""One reconcile of a Deployment: pkg/controller/deployment/deployment_controller.go (syncDeployment),
sync.go (scale, cleanupDeployment, calculateStatus, getNewReplicaSet), rolling.go (rolloutRolling),
recreate.go (rolloutRecreate) and progress.go (syncRolloutStatus, requeueStuckDeployment).

`sync(d, replica_sets, now)` is pure: the caller (the engine) applies the returned ReplicaSets,
keeps `result.deployment` (with its new status) for the next call, and calls again when a pod of the
Deployment changes readiness or terminates, when `result.changed` (the informer would requeue it), or
after `result.requeue_after` seconds (the progress-deadline check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkit.control.deployment.rolling import (
    PROPORTIONAL,
    SATURATED_SCALE_DOWN,
    ScaleResult,
    old_pods_running,
    reconcile_new_replica_set,
    reconcile_old_replica_sets,
    scale_and_record,
    scale_down_old_for_recreate,
    scale_replica_set,
    scale_up_new_for_recreate,
)
from simkit.control.deployment.types import (
    AVAILABLE,
    DESIRED_REPLICAS_ANNOTATION,
    FOUND_NEW_RS_REASON,
    MAX_REPLICAS_ANNOTATION,
    MIN_AVAILABLE_REASON,
    MIN_UNAVAILABLE_REASON,
    NEW_RS_AVAILABLE_REASON,
    NEW_RS_REASON,
    PAUSED_REASON,
    PROGRESSING,
    RECREATE,
    RESUMED_REASON,
    REVISION_ANNOTATION,
    RS_UPDATED_REASON,
    TIMED_OUT_REASON,
    Deployment,
    DeploymentStatus,
    ReplicaSet,
    ScaleAction,
    evolve,
)
from simkit.control.deployment.util import (
    actual_replica_count,
    available_replica_count,
    by_creation_timestamp,
    by_revision,
    by_size_newer,
    by_size_older,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    desired_replicas_annotation,
    filter_active,
    find_active_or_latest,
    has_progress_deadline,
    has_revision_history_limit,
    is_rolling_update,
    is_saturated,
    max_revision,
    max_surge,
    max_unavailable,
    new_condition,
    new_rs_new_replicas,
    proportion,
    ready_replica_count,
    remove_condition,
    replica_count,
    revision,
    set_condition,
)

# Reason codes of a sync (what the reconcile did).
SCALED_UP = "ScaledUpNewReplicaSet"
SCALED_DOWN = "ScaledDownOldReplicaSets"
SCALING_EVENT = "ScalingEvent"
PAUSED = "Paused"
WAITING = "WaitingForAvailability"
COMPLETE = "Complete"
DEADLINE_EXCEEDED = TIMED_OUT_REASON
RECREATE_SCALED_DOWN = "RecreateScaledDownOld"
RECREATE_WAITING = "RecreateWaitingForOldPods"
RECREATE_SCALED_UP = "RecreateScaledUpNew"


# ---------------------------------------------------------------------------------------------
# Proportional scaling and history cleanup (sync.go)
# ---------------------------------------------------------------------------------------------


def proportional_scale(
    d: Deployment, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]
) -> ScaleResult:
    """`dc.scale` (sync.go), run on a scaling event (e.g. the HPA changed replicas mid-rollout).

    One active RS (or none) takes all replicas; a saturated new RS zeroes the old ones; otherwise,
    for RollingUpdate, the difference to replicas + maxSurge is spread by each RS's share of the
    max-replicas annotation (Go rounding), the leftover going to the largest RS.
    """
    inputs = [*old_rss, *([new_rs] if new_rs is not None else [])]
    target = find_active_or_latest(new_rs, old_rss)
    if target is not None:
        if target.replicas == d.replicas:
            return ScaleResult(False, 0, tuple(inputs))
        rs, action = scale_and_record(target, d.replicas, d, PROPORTIONAL)
        return _merge(inputs, [rs], [action] if action else [])

    if is_saturated(d, new_rs):
        changed: list[ReplicaSet] = []
        actions: list[ScaleAction] = []
        for old in filter_active(old_rss):
            rs, action = scale_and_record(old, 0, d, SATURATED_SCALE_DOWN)
            changed.append(rs)
            if action:
                actions.append(action)
        return _merge(inputs, changed, actions)

    if not is_rolling_update(d):
        return ScaleResult(False, 0, tuple(inputs))
    active = filter_active(inputs)
    allowed = d.replicas + max_surge(d) if d.replicas > 0 else 0
    to_add = allowed - replica_count(active)
    if to_add > 0:
        active = by_size_newer(active)
    elif to_add < 0:
        active = by_size_older(active)
    sizes: dict[str, int] = {}
    added = 0
    for rs in active:
        if to_add != 0:
            share = proportion(d, rs, to_add, added)
            sizes[rs.name] = rs.replicas + share
            added += share
        else:
            sizes[rs.name] = rs.replicas
    changed, actions = [], []
    for i, rs in enumerate(active):
        if i == 0 and to_add != 0:
            sizes[rs.name] = max(0, sizes[rs.name] + to_add - added)
        scaled, action = scale_replica_set(rs, sizes[rs.name], d, PROPORTIONAL)
        changed.append(scaled)
        if action:
            actions.append(action)
    return _merge(inputs, changed, actions)


def _merge(
    inputs: Sequence[ReplicaSet], changed: Sequence[ReplicaSet], actions: list[ScaleAction]
) -> ScaleResult:
    by_name = {rs.name: rs for rs in changed}
    out = tuple(by_name.get(rs.name, rs) for rs in inputs)
    return ScaleResult(
        bool(actions), sum(abs(a.to_replicas - a.from_replicas) for a in actions), out, tuple(actions)
    )


def cleanup_deployment(d: Deployment, old_rss: Sequence[ReplicaSet]) -> tuple[str, ...]:
    """`cleanupDeployment` (sync.go): the old RSs to delete beyond revisionHistoryLimit.

    Only the `len - limit` lowest revisions are examined, and only empty, fully observed RSs that
    are not already being deleted go.
    """
    if not has_revision_history_limit(d):
        return ()
    assert d.revision_history_limit is not None
    cleanable = [rs for rs in old_rss if rs.deletion_timestamp is None]
    diff = len(cleanable) - d.revision_history_limit
    if diff <= 0:
        return ()
    deleted = []
    for rs in by_revision(cleanable)[:diff]:
        if rs.status_replicas != 0 or rs.replicas != 0 or rs.generation > rs.observed_generation:
            continue
        deleted.append(rs.name)
    return tuple(deleted)


# ---------------------------------------------------------------------------------------------
# Status and progress (sync.go calculateStatus, progress.go)
# ---------------------------------------------------------------------------------------------


def calculate_status(
    d: Deployment, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None, now: float
) -> DeploymentStatus:
    """`calculateStatus`: counts from the RSs' status, conditions copied, the Available condition set."""
    available = available_replica_count(all_rss)
    status = DeploymentStatus(
        replicas=actual_replica_count(all_rss),
        updated_replicas=actual_replica_count([new_rs]),
        ready_replicas=ready_replica_count(all_rss),
        available_replicas=available,
        unavailable_replicas=max(0, replica_count(all_rss) - available),
        observed_generation=d.generation,
        conditions=d.status.conditions,
    )
    if available >= d.replicas - max_unavailable(d):
        cond = new_condition(
            AVAILABLE, "True", MIN_AVAILABLE_REASON, "Deployment has minimum availability.", now
        )
    else:
        cond = new_condition(
            AVAILABLE, "False", MIN_UNAVAILABLE_REASON, "Deployment does not have minimum availability.", now
        )
    return set_condition(status, cond)


def rollout_status(
    d: Deployment, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None, now: float
) -> DeploymentStatus:
    """`syncRolloutStatus` (progress.go): the new status with the Progressing condition.

    Without a deadline the condition goes. A complete rollout is not re-estimated. Otherwise
    complete -> True/NewReplicaSetAvailable; progress -> True/ReplicaSetUpdated with a fresh
    lastUpdateTime; past the deadline -> False/ProgressDeadlineExceeded (no rollback).
    """
    status = calculate_status(d, all_rss, new_rs, now)
    if not has_progress_deadline(d):
        status = remove_condition(status, PROGRESSING)
    current = d.status.condition(PROGRESSING)
    is_complete = (
        status.replicas == status.updated_replicas
        and current is not None
        and current.reason == NEW_RS_AVAILABLE_REASON
    )
    if has_progress_deadline(d) and not is_complete:
        subject = f'ReplicaSet "{new_rs.name}"' if new_rs is not None else f'Deployment "{d.name}"'
        if deployment_complete(d, status):
            cond = new_condition(
                PROGRESSING, "True", NEW_RS_AVAILABLE_REASON, f"{subject} has successfully progressed.", now
            )
            status = set_condition(status, cond)
        elif deployment_progressing(d.status, status):
            cond = new_condition(PROGRESSING, "True", RS_UPDATED_REASON, f"{subject} is progressing.", now)
            if current is not None:
                if current.status == "True":
                    cond = evolve(cond, last_transition_time=current.last_transition_time)
                status = remove_condition(status, PROGRESSING)
            status = set_condition(status, cond)
        elif deployment_timed_out(d, status, now):
            cond = new_condition(
                PROGRESSING, "False", TIMED_OUT_REASON, f"{subject} has timed out progressing.", now
            )
            status = set_condition(status, cond)
    return status


def requeue_stuck_deployment(d: Deployment, new_status: DeploymentStatus, now: float) -> float | None:
    """`requeueStuckDeployment` (progress.go): seconds until the deadline check, 0 = now, None = never.

    Upstream enqueues after remaining + 1 s (clock skew) and returns `remaining`; so does this.
    """
    current = d.status.condition(PROGRESSING)
    if not has_progress_deadline(d) or current is None:
        return None
    if deployment_complete(d, new_status) or current.reason == TIMED_OUT_REASON:
        return None
    assert d.progress_deadline_seconds is not None
    start = current.last_update_time if current.last_update_time is not None else float("-inf")
    remaining = start + d.progress_deadline_seconds - now
    return 0.0 if remaining < 1.0 else remaining


def check_paused_conditions(d: Deployment, now: float) -> Deployment:
    """`checkPausedConditions` (sync.go): Progressing=Unknown while paused, so a resume does not time out."""
    if not has_progress_deadline(d):
        return d
    cond = d.status.condition(PROGRESSING)
    if cond is not None and cond.reason == TIMED_OUT_REASON:
        return d
    paused_cond = cond is not None and cond.reason == PAUSED_REASON
    if d.paused and not paused_cond:
        new = new_condition(PROGRESSING, "Unknown", PAUSED_REASON, "Deployment is paused", now)
    elif not d.paused and paused_cond:
        new = new_condition(PROGRESSING, "Unknown", RESUMED_REASON, "Deployment is resumed", now)
    else:
        return d
    return evolve(d, status=set_condition(d.status, new))


# ---------------------------------------------------------------------------------------------
# The reconcile
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """One reconcile: the Deployment with its new status, the ReplicaSets after it, what it did."""

    deployment: Deployment
    replica_sets: tuple[ReplicaSet, ...]
    actions: tuple[ScaleAction, ...]
    reason: str
    created: str | None = None
    deleted: tuple[str, ...] = ()
    requeue_after: float | None = None
    changed: bool = False

    @property
    def status(self) -> DeploymentStatus:
        return self.deployment.status


def find_new_replica_set(d: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """`FindNewReplicaSet`: the oldest RS whose template matches the Deployment's (by hash)."""
    return next((rs for rs in by_creation_timestamp(rss) if rs.template_hash == d.template_hash), None)


def _get_new_rs(
    d: Deployment, old: Sequence[ReplicaSet], new_rs: ReplicaSet | None, create: bool, now: float
) -> tuple[Deployment, ReplicaSet | None, bool]:
    """`getNewReplicaSet` (sync.go): sync the new RS's revision, or create it (replicas from
    NewRSNewReplicas, the revision and replicas annotations, Progressing=NewReplicaSetCreated)."""
    new_revision = max_revision(old) + 1
    if new_rs is not None:
        rev = revision(new_rs)
        if rev is None or rev < new_revision:
            new_rs = evolve(
                new_rs, annotations={**new_rs.annotations, REVISION_ANNOTATION: str(new_revision)}
            )
        if has_progress_deadline(d) and d.status.condition(PROGRESSING) is None:
            cond = new_condition(
                PROGRESSING, "True", FOUND_NEW_RS_REASON, f'Found new replica set "{new_rs.name}"', now
            )
            d = evolve(d, status=set_condition(d.status, cond))
        return d, new_rs, False
    if not create:
        return d, None, False
    blank = ReplicaSet(
        name=f"{d.name}-{d.template_hash}", replicas=0, created=now, template_hash=d.template_hash
    )
    replicas = new_rs_new_replicas(d, [*old, blank], blank)
    annotations = {
        REVISION_ANNOTATION: str(new_revision),
        DESIRED_REPLICAS_ANNOTATION: str(d.replicas),
        MAX_REPLICAS_ANNOTATION: str(d.replicas + max_surge(d)),
    }
    created = evolve(blank, replicas=replicas, annotations=annotations, generation=1)
    if has_progress_deadline(d):
        cond = new_condition(
            PROGRESSING, "True", NEW_RS_REASON, f'Created new replica set "{created.name}"', now
        )
        d = evolve(d, status=set_condition(d.status, cond))
    return d, created, True


def _is_scaling_event(d: Deployment, rss: Sequence[ReplicaSet]) -> bool:
    """`isScalingEvent`: an active RS's desired-replicas annotation differs from spec replicas."""
    for rs in filter_active(rss):
        desired = desired_replicas_annotation(rs)
        if desired is not None and desired != d.replicas:
            return True
    return False


def sync(d: Deployment, replica_sets: Sequence[ReplicaSet], now: float) -> SyncResult:
    """`syncDeployment` for one Deployment: pause, scaling event, then Recreate or RollingUpdate.

    `replica_sets` are the Deployment's RSs with the status the ReplicaSet controller reports (from
    pod readiness and minReadySeconds); the RS whose `template_hash` equals `d.template_hash` is
    the new one (created here when missing, named `<deployment>-<hash>`).
    """
    before = {rs.name: rs for rs in replica_sets}
    existing_new = find_new_replica_set(d, replica_sets)
    old = [rs for rs in replica_sets if existing_new is None or rs.name != existing_new.name]
    d = check_paused_conditions(d, now)

    if d.paused or _is_scaling_event(d, [*old, *([existing_new] if existing_new else [])]):
        d, new_rs, _ = _get_new_rs(d, old, existing_new, False, now)
        scaled = proportional_scale(d, new_rs, old)
        deleted = cleanup_deployment(d, old) if d.paused else ()
        status = calculate_status(d, [*old, new_rs], new_rs, now)
        reason = PAUSED if d.paused else SCALING_EVENT
        return _finish(
            d, before, scaled.replica_sets, scaled.actions, reason, None, deleted, status, now, False
        )

    if d.strategy == RECREATE:
        return _recreate(d, before, old, existing_new, now)
    d, new_rs, created = _get_new_rs(d, old, existing_new, True, now)
    assert new_rs is not None
    all_rss = [*old, new_rs]
    created_name = new_rs.name if created else None
    up = reconcile_new_replica_set(d, all_rss, new_rs)
    if up.scaled:
        return _finish(
            d,
            before,
            [*old, *up.replica_sets],
            up.actions,
            SCALED_UP,
            created_name,
            (),
            None,
            now,
            True,
            all_rss,
            new_rs,
        )
    down = reconcile_old_replica_sets(d, all_rss, filter_active(old), new_rs)
    if down.scaled:
        return _finish(
            d,
            before,
            [*old, new_rs, *down.replica_sets],
            down.actions,
            SCALED_DOWN,
            created_name,
            (),
            None,
            now,
            True,
            all_rss,
            new_rs,
        )
    deleted = cleanup_deployment(d, old) if deployment_complete(d, d.status) else ()
    return _finish(
        d, before, [*old, new_rs], (), WAITING, created_name, deleted, None, now, True, all_rss, new_rs
    )


def _recreate(
    d: Deployment,
    before: dict[str, ReplicaSet],
    old: list[ReplicaSet],
    existing_new: ReplicaSet | None,
    now: float,
) -> SyncResult:
    """`rolloutRecreate` (recreate.go): all old pods down and gone before the new RS scales up."""
    d, new_rs, _ = _get_new_rs(d, old, existing_new, False, now)
    all_rss: list[ReplicaSet | None] = [*old, new_rs]
    down = scale_down_old_for_recreate(filter_active(old), d)
    if down.scaled:
        return _finish(
            d,
            before,
            down.replica_sets,
            down.actions,
            RECREATE_SCALED_DOWN,
            None,
            (),
            None,
            now,
            True,
            all_rss,
            new_rs,
        )
    if old_pods_running(old):
        return _finish(d, before, [], (), RECREATE_WAITING, None, (), None, now, True, all_rss, new_rs)
    created_name = None
    if new_rs is None:
        d, new_rs, _ = _get_new_rs(d, old, None, True, now)
        assert new_rs is not None
        created_name = new_rs.name
        all_rss = [*old, new_rs]
    up = scale_up_new_for_recreate(new_rs, d)
    deleted = cleanup_deployment(d, old) if deployment_complete(d, d.status) else ()
    reason = RECREATE_SCALED_UP if up.scaled or created_name else WAITING
    return _finish(
        d,
        before,
        [*old, *up.replica_sets],
        up.actions,
        reason,
        created_name,
        deleted,
        None,
        now,
        True,
        all_rss,
        new_rs,
    )


def _finish(
    d: Deployment,
    before: dict[str, ReplicaSet],
    changed: Sequence[ReplicaSet],
    actions: Sequence[ScaleAction],
    reason: str,
    created: str | None,
    deleted: tuple[str, ...],
    status: DeploymentStatus | None,
    now: float,
    rollout: bool,
    all_rss: Sequence[ReplicaSet | None] = (),
    new_rs: ReplicaSet | None = None,
) -> SyncResult:
    """Assemble the result; with `rollout`, the status comes from syncRolloutStatus."""
    if status is None:
        status = rollout_status(d, all_rss, new_rs, now) if rollout else d.status
    requeue = requeue_stuck_deployment(d, status, now) if rollout else None
    merged = dict(before)
    for rs in changed:
        merged[rs.name] = rs
    for name in deleted:
        merged.pop(name, None)
    if rollout and not actions and reason == WAITING:
        if deployment_complete(d, status):
            reason = COMPLETE
        else:
            cond = status.condition(PROGRESSING)
            if cond is not None and cond.reason == TIMED_OUT_REASON:
                reason = DEADLINE_EXCEEDED
    changed_any = bool(actions) or created is not None or bool(deleted) or status != d.status
    changed_any = changed_any or any(before.get(rs.name) != rs for rs in merged.values())
    return SyncResult(
        deployment=evolve(d, status=status),
        replica_sets=tuple(merged.values()),
        actions=tuple(actions),
        reason=reason,
        created=created,
        deleted=deleted,
        requeue_after=requeue,
        changed=changed_any,
    )
