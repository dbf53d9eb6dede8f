"""The ReplicaSet and StatefulSet controllers' replica count: how many pods to create, which to delete.

Upstream: kubernetes/kubernetes pkg/controller/replicaset/replica_set.go (`manageReplicas`,
`getPodsToDelete`) and pkg/controller/controller_utils.go (`ActivePodsWithRanks`, the deletion
order); pkg/controller/statefulset/stateful_set_control.go for the StatefulSet's wait for a
terminating pod (k8s_timings.md §1.4). Pure: `now` and the pods come in, a decision with a
reason code goes out; the engine creates and deletes the pods.

A Deployment's ReplicaSet stops counting a pod once it is terminating and replaces it at once;
a StatefulSet counts it until it is gone, so its successor (same identity) waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CREATE",
    "DELETE",
    "IN_SYNC",
    "ReconcileDecision",
    "ReplicaPod",
    "deletion_rank",
    "reconcile",
]

CREATE = "SuccessfulCreate"  # replica_set.go: the event recorded for each created pod
DELETE = "SuccessfulDelete"  # replica_set.go: the event recorded for each deleted pod
IN_SYNC = "InSync"  # nothing to do (no upstream event)


@dataclass(frozen=True)
class ReplicaPod:
    """What the controller sees of one of its pods."""

    name: str
    assigned: bool  # bound to a node (spec.nodeName set)
    ready: bool
    terminating: bool  # deletionTimestamp set
    ready_s: float | None  # when it last became Ready
    created_s: float


@dataclass(frozen=True)
class ReconcileDecision:
    """Create `create` pods, or delete the pods named in `delete` (in that order)."""

    create: int
    delete: tuple[str, ...]
    reason: str
    message: str


def deletion_rank(pod: ReplicaPod) -> tuple[bool, bool, float, float]:
    """Sort key: which pod goes first (`ActivePodsWithRanks` order, simplified to one node).

    Unassigned before assigned, not-ready before ready, then the most recently ready, then the
    newest.
    """
    return (pod.assigned, pod.ready, -(pod.ready_s or 0.0), -pod.created_s)


def reconcile(kind: str, desired: int, pods: Sequence[ReplicaPod], now: float) -> ReconcileDecision:
    """Create or delete pods until the counted ones match `desired` (`manageReplicas`).

    `kind` is "StatefulSet" or anything else (a Deployment's ReplicaSet). `now` is not needed by
    this count (no expectations or slow-start batches are modelled) and kept for a uniform
    controller signature.
    """
    stateful = kind == "StatefulSet"
    counted = [p for p in pods if stateful or not p.terminating]
    diff = desired - len(counted)
    if diff > 0:
        return ReconcileDecision(diff, (), CREATE, f"{len(counted)} of {desired} pods: creating {diff}")
    if diff < 0:
        active = [p for p in counted if not p.terminating]
        doomed = tuple(p.name for p in sorted(active, key=deletion_rank)[:-diff])
        return ReconcileDecision(0, doomed, DELETE, f"{len(counted)} of {desired} pods: deleting {-diff}")
    return ReconcileDecision(0, (), IN_SYNC, f"{desired} pods")
