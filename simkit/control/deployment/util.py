"""Deployment helpers, one per upstream function of pkg/controller/deployment/util/deployment_util.go
(and the ReplicaSet orderings of pkg/controller/controller_utils.go). Pure: no clock, `now` passed in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from simkit.control.deployment.intstr import IntOrStr, go_round_ratio, scaled_value, value_or_default
from simkit.control.deployment.types import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_INT32,
    MAX_REPLICAS_ANNOTATION,
    NEW_RS_AVAILABLE_REASON,
    PROGRESSING,
    RECREATE,
    REVISION_ANNOTATION,
    ROLLING_UPDATE,
    TIMED_OUT_REASON,
    Condition,
    Deployment,
    DeploymentStatus,
    ReplicaSet,
    evolve,
)

# ---------------------------------------------------------------------------------------------
# Fenceposts
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096, typed=True)  # pure, asked dozens of times a rollout; typed: True is not 1
def resolve_fenceposts(
    max_surge: IntOrStr | None, max_unavailable: IntOrStr | None, desired: int
) -> tuple[int, int]:
    """`ResolveFenceposts`: (surge rounded up, unavailable rounded down); both 0 -> unavailable 1.

    A nil value counts as 0. Raises IntOrStringError on a malformed value (Go returns 0, 0, err;
    an error is not cached, so it is raised again on every call).
    """
    surge = scaled_value(value_or_default(max_surge, 0), desired, True)
    unavailable = scaled_value(value_or_default(max_unavailable, 0), desired, False)
    if surge == 0 and unavailable == 0:
        # Rounding down may resolve a valid maxUnavailable to 0; surge might not work (quota).
        unavailable = 1
    return surge, unavailable


def is_rolling_update(d: Deployment) -> bool:
    return d.strategy == ROLLING_UPDATE


def max_surge(d: Deployment) -> int:
    """`MaxSurge`: the resolved surge, 0 for Recreate."""
    if not is_rolling_update(d):
        return 0
    return resolve_fenceposts(d.max_surge, d.max_unavailable, d.replicas)[0]


def max_unavailable(d: Deployment) -> int:
    """`MaxUnavailable`: the resolved unavailable, clamped to replicas; 0 for Recreate or 0 replicas."""
    if not is_rolling_update(d) or d.replicas == 0:
        return 0
    return min(resolve_fenceposts(d.max_surge, d.max_unavailable, d.replicas)[1], d.replicas)


def min_available(d: Deployment) -> int:
    """`MinAvailable`: replicas - MaxUnavailable, 0 for Recreate."""
    if not is_rolling_update(d):
        return 0
    return d.replicas - max_unavailable(d)


# ---------------------------------------------------------------------------------------------
# Counts
# ---------------------------------------------------------------------------------------------


def replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """`GetReplicaCountForReplicaSets`: the sum of spec replicas."""
    return sum(rs.replicas for rs in rss if rs is not None)


def actual_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """`GetActualReplicaCountForReplicaSets`: the sum of status.replicas."""
    return sum(rs.status_replicas for rs in rss if rs is not None)


def ready_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """`GetReadyReplicaCountForReplicaSets`."""
    return sum(rs.ready_replicas for rs in rss if rs is not None)


def available_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """`GetAvailableReplicaCountForReplicaSets`."""
    return sum(rs.available_replicas for rs in rss if rs is not None)


def terminating_replica_count(rss: Iterable[ReplicaSet | None]) -> int | None:
    """`GetTerminatingReplicaCountForReplicaSets` (k8s >= 1.33): None when any synced RS has no count.

    An RS never synced (observedGeneration 0 and no count) is skipped.
    """
    total = 0
    for rs in rss:
        if rs is None:
            continue
        if rs.terminating_replicas is None:
            if rs.observed_generation == 0:
                continue
            return None
        total += rs.terminating_replicas
    return total


def filter_active(rss: Iterable[ReplicaSet | None]) -> list[ReplicaSet]:
    """`controller.FilterActiveReplicaSets`: RSs with spec replicas > 0."""
    return [rs for rs in rss if rs is not None and rs.replicas > 0]


# ---------------------------------------------------------------------------------------------
# Annotations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotationValue:
    """`getNonNegativeInt32FromAnnotation` result: value, whether it was valid, and Go's error text."""

    value: int
    valid: bool
    error: str | None


def nonneg_int32_annotation(annotations: Mapping[str, str] | None, key: str) -> AnnotationValue:
    """`getNonNegativeInt32FromAnnotation`: strconv.ParseUint(s, 10, 32), then at most MaxInt32."""
    if not annotations or key not in annotations:
        return AnnotationValue(0, False, None)
    raw = annotations[key]
    if not raw.isascii() or not raw.isdigit():
        return AnnotationValue(0, False, f'strconv.ParseUint: parsing "{raw}": invalid syntax')
    value = int(raw)
    if value > 4294967295:
        return AnnotationValue(0, False, f'strconv.ParseUint: parsing "{raw}": value out of range')
    if value > MAX_INT32:
        return AnnotationValue(0, False, f"value {raw} is out of range (higher than {MAX_INT32})")
    return AnnotationValue(value, True, None)


def revision(rs: ReplicaSet) -> int | None:
    """`Revision`: the revision annotation (missing = 0); None when it does not parse as int64."""
    raw = rs.annotations.get(REVISION_ANNOTATION)
    if raw is None:
        return 0
    try:
        return int(raw, 10) if raw.strip() == raw and "_" not in raw else None
    except ValueError:
        return None


def max_revision(rss: Iterable[ReplicaSet]) -> int:
    """`MaxRevision`: the highest parsable revision (0 if none)."""
    return max((r for r in (revision(rs) for rs in rss) if r is not None), default=0)


def replicas_annotations_need_update(rs: ReplicaSet, desired: int, max_replicas: int) -> bool:
    """`ReplicasAnnotationsNeedUpdate`."""
    return rs.annotations.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or rs.annotations.get(
        MAX_REPLICAS_ANNOTATION
    ) != str(max_replicas)


def with_replicas_annotations(rs: ReplicaSet, desired: int, max_replicas: int) -> ReplicaSet:
    """`SetReplicasAnnotations` on a copy."""
    annotations = dict(rs.annotations)
    annotations[DESIRED_REPLICAS_ANNOTATION] = str(desired)
    annotations[MAX_REPLICAS_ANNOTATION] = str(max_replicas)
    return evolve(rs, annotations=annotations)


def desired_replicas_annotation(rs: ReplicaSet) -> int | None:
    """`GetDesiredReplicasAnnotation`: the value, or None when missing or invalid."""
    parsed = nonneg_int32_annotation(rs.annotations, DESIRED_REPLICAS_ANNOTATION)
    return parsed.value if parsed.valid else None


# ---------------------------------------------------------------------------------------------
# Orderings (pkg/controller/controller_utils.go, deployment_util.go ReplicaSetsByRevision)
# ---------------------------------------------------------------------------------------------


def _by_creation_less(a: ReplicaSet, b: ReplicaSet) -> bool:
    if a.created == b.created:
        return a.name < b.name
    return a.created < b.created


def _sorted(rss: Iterable[ReplicaSet], less: Callable[[ReplicaSet, ReplicaSet], bool]) -> list[ReplicaSet]:
    def cmp(a: ReplicaSet, b: ReplicaSet) -> int:
        return -1 if less(a, b) else (1 if less(b, a) else 0)

    return sorted(rss, key=functools.cmp_to_key(cmp))


def by_creation_timestamp(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """`ReplicaSetsByCreationTimestamp`: older first, then name ascending."""
    return _sorted(rss, _by_creation_less)


def by_size_newer(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """`ReplicaSetsBySizeNewer`: larger first; ties go to the newer RS."""

    def less(a: ReplicaSet, b: ReplicaSet) -> bool:
        return _by_creation_less(b, a) if a.replicas == b.replicas else a.replicas > b.replicas

    return _sorted(rss, less)


def by_size_older(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """`ReplicaSetsBySizeOlder`: larger first; ties go to the older RS."""

    def less(a: ReplicaSet, b: ReplicaSet) -> bool:
        return _by_creation_less(a, b) if a.replicas == b.replicas else a.replicas > b.replicas

    return _sorted(rss, less)


def by_revision(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """`ReplicaSetsByRevision`: revision ascending; unparsable or equal falls back to creation."""

    def less(a: ReplicaSet, b: ReplicaSet) -> bool:
        ra, rb = revision(a), revision(b)
        if ra is None or rb is None or ra == rb:
            return _by_creation_less(a, b)
        return ra < rb

    return _sorted(rss, less)


# ---------------------------------------------------------------------------------------------
# New RS sizing and proportional scaling
# ---------------------------------------------------------------------------------------------


def new_rs_new_replicas(d: Deployment, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> int:
    """`NewRSNewReplicas`: RollingUpdate adds up to maxSurge over the total, never past replicas.

    maxSurge comes straight from the spec rounded up (not through ResolveFenceposts); a nil maxSurge
    is an error upstream (the API server always defaults it), here it counts as 0.
    """
    if d.strategy == RECREATE:
        return d.replicas
    if d.strategy != ROLLING_UPDATE:
        raise ValueError(f"deployment type {d.strategy} isn't supported")
    surge = scaled_value(value_or_default(d.max_surge, 0), d.replicas, True)
    current = replica_count(all_rss)
    max_total = d.replicas + surge
    if current >= max_total:
        return new_rs.replicas
    return new_rs.replicas + min(max_total - current, d.replicas - new_rs.replicas)


def replica_set_fraction(d: Deployment, rs: ReplicaSet) -> int:
    """`getReplicaSetFraction` (newest): this RS's share of a scaling event, Go-rounded.

    The base is the RS's max-replicas annotation; missing, invalid or 0 falls back to the
    deployment's status.replicas, and 0 there too means no change.
    """
    if d.replicas == 0:
        return -rs.replicas
    target = d.replicas + max_surge(d)
    annotated = nonneg_int32_annotation(rs.annotations, MAX_REPLICAS_ANNOTATION)
    base = annotated.value if annotated.valid else 0
    if base == 0:
        base = d.status.replicas
        if base == 0:
            return 0
    return go_round_ratio(rs.replicas * target, base) - rs.replicas


def proportion(d: Deployment, rs: ReplicaSet, to_add: int, added: int) -> int:
    """`GetProportion`: the fraction, capped by what is left to add (or remove)."""
    if rs.replicas == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(d, rs)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def is_saturated(d: Deployment, rs: ReplicaSet | None) -> bool:
    """`IsSaturated`: the new RS runs all replicas, all available, with a matching desired annotation."""
    if rs is None:
        return False
    raw = rs.annotations.get(DESIRED_REPLICAS_ANNOTATION)
    try:
        desired = int(raw) if raw is not None else None
    except ValueError:
        desired = None
    return (
        desired is not None
        and rs.replicas == d.replicas
        and desired == d.replicas
        and rs.available_replicas == d.replicas
    )


def find_active_or_latest(new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """`FindActiveOrLatest`: the only active RS; with none active, the new RS or the newest old one."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation_timestamp(old_rss)))
    active = filter_active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


# ---------------------------------------------------------------------------------------------
# Conditions and progress
# ---------------------------------------------------------------------------------------------


def has_progress_deadline(d: Deployment) -> bool:
    """`HasProgressDeadline`: set and not MaxInt32."""
    return d.progress_deadline_seconds is not None and d.progress_deadline_seconds != MAX_INT32


def has_revision_history_limit(d: Deployment) -> bool:
    """`HasRevisionHistoryLimit`: set and not MaxInt32."""
    return d.revision_history_limit is not None and d.revision_history_limit != MAX_INT32


def new_condition(type_: str, status: str, reason: str, message: str, now: float) -> Condition:
    """`NewDeploymentCondition`: both times are now."""
    return Condition(type_, status, reason, message, now, now)


def set_condition(status: DeploymentStatus, cond: Condition) -> DeploymentStatus:
    """`SetDeploymentCondition`: no-op when status and reason are unchanged; keeps the transition
    time when only the reason changes; the condition moves to the end of the list."""
    current = status.condition(cond.type)
    if current is not None and current.status == cond.status and current.reason == cond.reason:
        return status
    if current is not None and current.status == cond.status:
        cond = evolve(cond, last_transition_time=current.last_transition_time)
    kept = tuple(c for c in status.conditions if c.type != cond.type)
    return evolve(status, conditions=(*kept, cond))


def remove_condition(status: DeploymentStatus, type_: str) -> DeploymentStatus:
    """`RemoveDeploymentCondition`."""
    return evolve(status, conditions=tuple(c for c in status.conditions if c.type != type_))


def deployment_complete(d: Deployment, new_status: DeploymentStatus) -> bool:
    """`DeploymentComplete`: updated, total and available replicas all equal spec; generation seen."""
    return (
        new_status.updated_replicas == d.replicas
        and new_status.replicas == d.replicas
        and new_status.available_replicas == d.replicas
        and new_status.observed_generation >= d.generation
    )


def deployment_progressing(old: DeploymentStatus, new: DeploymentStatus) -> bool:
    """`DeploymentProgressing`: more updated, fewer old, more ready or more available replicas."""
    return (
        new.updated_replicas > old.updated_replicas
        or (new.replicas - new.updated_replicas) < (old.replicas - old.updated_replicas)
        or new.ready_replicas > old.ready_replicas
        or new.available_replicas > old.available_replicas
    )


def deployment_timed_out(d: Deployment, new_status: DeploymentStatus, now: float) -> bool:
    """`DeploymentTimedOut`: the Progressing condition's lastUpdateTime + deadline is before now."""
    if not has_progress_deadline(d):
        return False
    cond = new_status.condition(PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE_REASON:
        return False
    if cond.reason == TIMED_OUT_REASON:
        return True
    if cond.last_update_time is None:  # Go zero time: year 1
        return True
    assert d.progress_deadline_seconds is not None
    return cond.last_update_time + d.progress_deadline_seconds < now
