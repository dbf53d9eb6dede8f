"""Typed views of a Deployment and its ReplicaSets as the deployment controller reads them.

Field names follow apps/v1; times are seconds on the caller's clock (`None` = Go's zero time, i.e.
infinitely far in the past). The defaults are the API server's (pkg/apis/apps/v1/defaults.go,
SetDefaults_Deployment): 1 replica, RollingUpdate with maxSurge 25 % and maxUnavailable 25 %,
revisionHistoryLimit 10, progressDeadlineSeconds 600.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from simkit.control.deployment.intstr import IntOrStr

# Annotation keys (pkg/controller/deployment/util/deployment_util.go).
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"

ROLLING_UPDATE, RECREATE = "RollingUpdate", "Recreate"
MAX_INT32 = 2147483647  # progressDeadlineSeconds / revisionHistoryLimit "unset" sentinel

# Condition types and reasons (deployment_util.go).
PROGRESSING, AVAILABLE, REPLICA_FAILURE = "Progressing", "Available", "ReplicaFailure"
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"

# Defaults (pkg/apis/apps/v1/defaults.go, SetDefaults_Deployment).
DEFAULT_MAX_SURGE: IntOrStr = "25%"
DEFAULT_MAX_UNAVAILABLE: IntOrStr = "25%"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600


@dataclass(frozen=True)
class Condition:
    """A DeploymentCondition; `last_update_time`/`last_transition_time` None = Go zero time."""

    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_update_time: float | None = None
    last_transition_time: float | None = None


@dataclass(frozen=True)
class DeploymentStatus:
    """apps/v1 DeploymentStatus (collisionCount left out: simkit never hashes templates)."""

    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    observed_generation: int = 0
    conditions: tuple[Condition, ...] = ()

    def condition(self, type_: str) -> Condition | None:
        """`GetDeploymentCondition`: the condition of that type, or None."""
        return next((c for c in self.conditions if c.type == type_), None)


@dataclass(frozen=True)
class Deployment:
    """The spec fields the controller reads, with the API defaults, and the last written status."""

    name: str = "deployment"
    replicas: int = 1
    strategy: str = ROLLING_UPDATE
    max_surge: IntOrStr | None = DEFAULT_MAX_SURGE
    max_unavailable: IntOrStr | None = DEFAULT_MAX_UNAVAILABLE
    generation: int = 1
    progress_deadline_seconds: int | None = DEFAULT_PROGRESS_DEADLINE_SECONDS
    revision_history_limit: int | None = DEFAULT_REVISION_HISTORY_LIMIT
    min_ready_seconds: int = 0
    paused: bool = False
    template_hash: str = ""  # the pod-template-hash of the current template (which RS is "new")
    status: DeploymentStatus = DeploymentStatus()


@dataclass(frozen=True)
class ReplicaSet:
    """A ReplicaSet: spec `replicas`, the status the ReplicaSet controller reports, metadata."""

    name: str
    replicas: int
    created: float = 0.0
    status_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    terminating_replicas: int | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    generation: int = 0
    observed_generation: int = 0
    deletion_timestamp: float | None = None
    template_hash: str = ""


@dataclass(frozen=True)
class ScaleAction:
    """One ReplicaSet scale (upstream event reason `ScalingReplicaSet`), with simkit's reason code."""

    replica_set: str
    from_replicas: int
    to_replicas: int
    reason: str


_T = TypeVar("_T", Condition, DeploymentStatus, Deployment, ReplicaSet)


def evolve(obj: _T, **changes: Any) -> _T:
    """`dataclasses.replace` for the frozen types of this module, at a fraction of its cost.

    They have no `__post_init__`, no InitVar and every field in `__init__`, so `replace` builds an
    object whose fields are the old ones with `changes` over them, and nothing else: that is what
    this builds, without the per-field checks and the `__init__` call (a rollout's syncs make
    thousands). A name that is not a field is an error, as with `replace`.
    """
    fields = obj.__dataclass_fields__  # type: ignore[union-attr]
    if not changes.keys() <= fields.keys():
        name = next(n for n in changes if n not in fields)
        raise TypeError(f"{type(obj).__name__}.__init__() got an unexpected keyword argument {name!r}")
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new
