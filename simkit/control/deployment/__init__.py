"""Deployment controller as pure functions: fenceposts, rollout steps, proportional scaling,
progress conditions, history cleanup, and one whole reconcile (`sync`).

Upstream: pkg/controller/deployment/{deployment_controller.go,sync.go,rolling.go,recreate.go,
progress.go,util/deployment_util.go} (kubernetes/kubernetes, newest semantics). No simpy, no clock:
the caller passes `now` and carries the returned Deployment and ReplicaSets to the next call.
"""

from __future__ import annotations

from simkit.control.deployment.intstr import IntOrStr, IntOrStringError, go_round_ratio, scaled_value
from simkit.control.deployment.rolling import (
    ScaleResult,
    cleanup_unhealthy_replicas,
    reconcile_new_replica_set,
    reconcile_old_replica_sets,
    scale_down_old_replica_sets,
)
from simkit.control.deployment.sync import (
    SyncResult,
    calculate_status,
    cleanup_deployment,
    find_new_replica_set,
    proportional_scale,
    requeue_stuck_deployment,
    rollout_status,
    sync,
)
from simkit.control.deployment.types import (
    Condition,
    Deployment,
    DeploymentStatus,
    ReplicaSet,
    ScaleAction,
)
from simkit.control.deployment.util import (
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    max_surge,
    max_unavailable,
    min_available,
    new_rs_new_replicas,
    nonneg_int32_annotation,
    replica_set_fraction,
    resolve_fenceposts,
    terminating_replica_count,
)

__all__ = [
    "Condition",
    "Deployment",
    "DeploymentStatus",
    "IntOrStr",
    "IntOrStringError",
    "ReplicaSet",
    "ScaleAction",
    "ScaleResult",
    "SyncResult",
    "calculate_status",
    "cleanup_deployment",
    "cleanup_unhealthy_replicas",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "find_new_replica_set",
    "go_round_ratio",
    "max_surge",
    "max_unavailable",
    "min_available",
    "new_rs_new_replicas",
    "nonneg_int32_annotation",
    "proportional_scale",
    "reconcile_new_replica_set",
    "reconcile_old_replica_sets",
    "replica_set_fraction",
    "requeue_stuck_deployment",
    "resolve_fenceposts",
    "rollout_status",
    "scale_down_old_replica_sets",
    "scaled_value",
    "sync",
    "terminating_replica_count",
]
