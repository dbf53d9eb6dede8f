"""Node utilization and pod drainability, as CA's scale-down simulation sees them (ca_spec §5.2-5.3).

Utilization: `CA137:simulator/utilization/info.go` (`Calculate`). Drainability: the default rule list of
`CA137:simulator/drainability/rules/rules.go`, applied in order by `CA137:simulator/drain.go`
`GetPodsToMove`; the first rule with a verdict decides. Blocking reasons are upstream's
`drain.BlockingPodReason` names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simkit.control.ca.flags import CAFlags
from simkit.control.ca.model import (
    ANN_SAFE_TO_EVICT,
    ANN_SAFE_TO_EVICT_LOCAL_VOLUMES,
    CAPod,
    PodDisruptionBudget,
)

__all__ = [
    "Utilization",
    "node_utilization",
    "is_long_terminating",
    "DrainPlan",
    "plan_drain",
    "GPU_RESOURCE",
    "REPLICATED_KINDS",
]

GPU_RESOURCE = "nvidia.com/gpu"
# utils/drain/drain.go: PodLongTerminatingExtraThreshold = 30s after deletion + grace period.
LONG_TERMINATING_EXTRA_S = 30.0
# rules/replicated: with --skip-nodes-with-custom-controller-pods only these owners count
# ("Deployment" is accepted as shorthand for its ReplicaSet).
REPLICATED_KINDS = frozenset({"ReplicationController", "Job", "ReplicaSet", "StatefulSet", "Deployment"})


@dataclass(frozen=True)
class Utilization:
    """Per-resource utilization of a node and the deciding one (`utilization.Info`)."""

    cpu: float
    memory: float
    gpu: float | None
    utilization: float
    resource: str


def is_long_terminating(pod: CAPod, now: float) -> bool:
    """Deleted longer ago than its grace period + 30s (`drain.IsPodLongTerminating`)."""
    if pod.deletion_timestamp is None:
        return False
    return now > pod.deletion_timestamp + pod.termination_grace_s + LONG_TERMINATING_EXTRA_S


def _share(requested: float, allocatable: float) -> float:
    """requested / allocatable; an allocatable of 0 (or less) makes the node not underutilized."""
    if allocatable <= 0:
        return 0.0 if requested <= 0 else math.inf
    return requested / allocatable


def node_utilization(
    alloc_cpu_m: float,
    alloc_mem: float,
    pods: Sequence[CAPod],
    *,
    now: float,
    ignore_daemonsets: bool = False,
    ignore_mirror_pods: bool = False,
    alloc_gpus: int = 0,
) -> Utilization:
    """max(cpu, memory) requested / (allocatable − requests of ignored pods); GPU nodes use GPU only.

    Pods without a request count 0; long-terminating pods are left out. On a tie memory is reported.
    """
    live = [p for p in pods if not is_long_terminating(p, now)]
    is_ignored = [(ignore_daemonsets and p.daemonset) or (ignore_mirror_pods and p.mirror) for p in live]
    ignored = [p for p, skip in zip(live, is_ignored, strict=True) if skip]
    counted = [p for p, skip in zip(live, is_ignored, strict=True) if not skip]
    cpu = _share(sum(p.spec.cpu_m for p in counted), alloc_cpu_m - sum(p.spec.cpu_m for p in ignored))
    mem = _share(sum(p.spec.mem_mib for p in counted), alloc_mem - sum(p.spec.mem_mib for p in ignored))
    if alloc_gpus > 0:
        gpu = sum(p.gpus for p in live) / alloc_gpus
        return Utilization(cpu, mem, gpu, gpu, GPU_RESOURCE)
    if cpu > mem:
        return Utilization(cpu, mem, None, cpu, "cpu")
    return Utilization(cpu, mem, None, mem, "memory")


@dataclass(frozen=True)
class DrainPlan:
    """Pods that must be rescheduled, DaemonSet pods, and the first blocking pod with its reason."""

    to_move: tuple[CAPod, ...]
    daemonset: tuple[CAPod, ...]
    blocking: tuple[CAPod, str] | None = None

    @property
    def empty(self) -> bool:
        """No pod needs a new home and none blocks: only DS / mirror / finished pods remain."""
        return not self.to_move and self.blocking is None


def _has_local_storage(pod: CAPod) -> bool:
    """hostPath, or emptyDir not in memory, unless listed safe (`drain.go` HasBlockingLocalStorage)."""
    safe = {
        v.strip() for v in pod.annotations.get(ANN_SAFE_TO_EVICT_LOCAL_VOLUMES, "").split(",") if v.strip()
    }
    return any(
        v.name not in safe and (v.kind == "hostPath" or (v.kind == "emptyDir" and v.medium != "Memory"))
        for v in pod.volumes
    )


def _pod_verdict(
    pod: CAPod,
    flags: CAFlags,
    pdbs: Sequence[PodDisruptionBudget],
    remaining: Mapping[str, int],
    now: float,
) -> str:
    """The pod's verdict: skip, daemonset, move, done (nothing to reschedule) or a blocking reason."""
    annotation = pod.annotations.get(ANN_SAFE_TO_EVICT, "")
    matching = [b for b in pdbs if b.matches(pod)]
    if pod.mirror or is_long_terminating(pod, now):  # rules 1-2: ignored, stay on the node
        return "skip"
    if flags.skip_nodes_with_custom_controller_pods and pod.owner_kind is not None:  # rule 3
        if not pod.controller_exists:
            return "ControllerNotFound"
        replicas = pod.controller_replicas
        scalable = pod.owner_kind in ("ReplicationController", "ReplicaSet", "Deployment")
        if scalable and replicas is not None and replicas < flags.min_replica_count:
            return "MinReplicasReached"
    if pod.daemonset:  # rule 4
        return "daemonset"
    if annotation == "true":  # rule 5 short-circuits everything after it
        return "move"
    if pod.phase in ("Succeeded", "Failed"):  # rule 6
        return "done"
    replicated = pod.owner_kind is not None and (
        not flags.skip_nodes_with_custom_controller_pods or pod.owner_kind in REPLICATED_KINDS
    )
    if not replicated:  # rule 8
        return "NotReplicated"
    old_enough = now - pod.created_at > flags.blocking_system_pod_distruption_timeout
    if (
        flags.skip_nodes_with_system_pods
        and pod.namespace == "kube-system"
        and not matching
        and not old_enough
    ):
        return "UnmovableKubeSystemPod"  # rule 9
    if annotation == "false":  # rule 10
        return "NotSafeToEvictAnnotation"
    if flags.skip_nodes_with_local_storage and _has_local_storage(pod):  # rule 11
        return "LocalStorageRequested"
    if any(remaining.get(b.name, b.disruptions_allowed) < 1 for b in matching):  # rule 12
        return "NotEnoughPdb"
    return "move"


def plan_drain(
    pods: Sequence[CAPod],
    flags: CAFlags,
    pdbs: Sequence[PodDisruptionBudget] = (),
    remaining: Mapping[str, int] | None = None,
    *,
    now: float,
) -> DrainPlan:
    """Classify a node's pods; `remaining` = PDB disruptions left this loop (default: the PDBs' own)."""
    left = dict(remaining) if remaining is not None else {b.name: b.disruptions_allowed for b in pdbs}
    to_move: list[CAPod] = []
    daemonset: list[CAPod] = []
    for pod in pods:
        verdict = _pod_verdict(pod, flags, pdbs, left, now)
        if verdict == "move":
            to_move.append(pod)
        elif verdict == "daemonset":
            daemonset.append(pod)
        elif verdict not in ("skip", "done"):
            return DrainPlan(tuple(to_move), tuple(daemonset), (pod, verdict))
    blocked = _pdb_overdrawn(to_move, pdbs, left)
    return DrainPlan(tuple(to_move), tuple(daemonset), blocked)


def _pdb_overdrawn(
    to_move: Sequence[CAPod], pdbs: Sequence[PodDisruptionBudget], left: Mapping[str, int]
) -> tuple[CAPod, str] | None:
    """The first pod whose PDB would need more disruptions than remain if the node were drained
    (`RemainingPdbTracker.CanRemovePods`); pods with safe-to-evict "true" bypass PDBs in simulation."""
    used: dict[str, int] = {}
    for pod in to_move:
        if pod.annotations.get(ANN_SAFE_TO_EVICT) == "true":
            continue
        for pdb in (b for b in pdbs if b.matches(pod)):
            used[pdb.name] = used.get(pdb.name, 0) + 1
            if used[pdb.name] > left.get(pdb.name, pdb.disruptions_allowed):
                return pod, "NotEnoughPdb"
    return None
