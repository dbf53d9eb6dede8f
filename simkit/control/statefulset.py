"""StatefulSet updates as pure functions: maxUnavailable, and one update step.

Upstream: pkg/controller/statefulset/stateful_set_utils.go (getStatefulSetMaxUnavailable,
newVersionedStatefulSetPod) and stateful_set_control.go (updateStatefulSet: the monotonic creation
of OrderedReady, the rolling update in reverse ordinal down to `partition`, one pod at a time or up
to maxUnavailable when the MaxUnavailableStatefulSet feature gate is on; OnDelete never deletes).
Scale-down of condemned ordinals is left to the engine (not part of an update plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkit.control.deployment.intstr import IntOrStr, scaled_value, value_or_default

ORDERED_READY, PARALLEL = "OrderedReady", "Parallel"
ROLLING_UPDATE, ON_DELETE = "RollingUpdate", "OnDelete"


def statefulset_max_unavailable(max_unavailable: IntOrStr | None, replicas: int) -> int:
    """`getStatefulSetMaxUnavailable`: nil = 1, a percent rounds DOWN, at least 1 (ints not clamped)."""
    return max(1, scaled_value(value_or_default(max_unavailable, 1), replicas, False))


@dataclass(frozen=True)
class StatefulSetSpec:
    replicas: int
    pod_management_policy: str = ORDERED_READY
    update_strategy: str = ROLLING_UPDATE
    partition: int = 0
    max_unavailable: IntOrStr | None = None
    max_unavailable_gate: bool = (
        False  # MaxUnavailableStatefulSet feature gate (alpha/beta; off = 1 at a time)
    )


@dataclass(frozen=True)
class StatefulPod:
    """Pod `<set>-<ordinal>`: its revision, whether running and ready (and available), terminating."""

    ordinal: int
    revision: str
    healthy: bool
    terminating: bool = False


@dataclass(frozen=True)
class StatefulSetDecision:
    """What one sync does: pods to create (ordinal, revision), pods to delete, and why it stops."""

    create: tuple[tuple[int, str], ...]
    delete: tuple[int, ...]
    reason: str  # CreatePods | WaitingForPod | UpdatePods | WaitingForUpdate | OnDelete | UpdateComplete
    waiting_for: int | None = None


def pod_revision_for(spec: StatefulSetSpec, ordinal: int, current: str, update: str) -> str:
    """`newVersionedStatefulSetPod`: below the partition a recreated pod keeps the current revision."""
    if spec.update_strategy == ROLLING_UPDATE and ordinal < spec.partition:
        return current
    return update


def update_step(
    spec: StatefulSetSpec, pods: Sequence[StatefulPod], current_revision: str, update_revision: str
) -> StatefulSetDecision:
    """One `updateStatefulSet` pass over ordinals 0..replicas-1.

    Missing pods are created (OrderedReady: one at a time, waiting for each to be healthy); then,
    for RollingUpdate, the highest-ordinal pod >= partition not at the update revision is deleted
    (its recreation at the new revision is the next step), waiting while the target is unhealthy.
    """
    by_ordinal = {p.ordinal: p for p in pods if p.ordinal < spec.replicas}
    monotonic = spec.pod_management_policy == ORDERED_READY
    creates: list[tuple[int, str]] = []
    for ordinal in range(spec.replicas):
        pod = by_ordinal.get(ordinal)
        if pod is None:
            creates.append((ordinal, pod_revision_for(spec, ordinal, current_revision, update_revision)))
            if monotonic:
                return StatefulSetDecision(tuple(creates), (), "CreatePods", ordinal)
            continue
        if monotonic and (pod.terminating or not pod.healthy):
            return StatefulSetDecision((), (), "WaitingForPod", ordinal)
    if creates:
        return StatefulSetDecision(tuple(creates), (), "CreatePods")
    if spec.update_strategy == ON_DELETE:
        return StatefulSetDecision((), (), ON_DELETE)
    replicas = [by_ordinal[o] for o in range(spec.replicas)]
    update_min = spec.partition
    if spec.max_unavailable_gate:
        limit = statefulset_max_unavailable(spec.max_unavailable, spec.replicas)
        unavailable = sum(1 for p in replicas if not p.healthy or p.terminating)
        if unavailable >= limit:
            return StatefulSetDecision((), (), "WaitingForUpdate")
        deletes = [
            p.ordinal
            for p in reversed(replicas[update_min:])
            if p.revision != update_revision and not p.terminating
        ][: limit - unavailable]
        return StatefulSetDecision((), tuple(deletes), "UpdatePods" if deletes else "UpdateComplete")
    for pod in reversed(replicas[update_min:]):
        if pod.revision != update_revision and not pod.terminating:
            return StatefulSetDecision((), (pod.ordinal,), "UpdatePods", pod.ordinal)
        if not pod.healthy or pod.terminating:
            return StatefulSetDecision((), (), "WaitingForUpdate", pod.ordinal)
    return StatefulSetDecision((), (), "UpdateComplete")
