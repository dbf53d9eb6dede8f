"""Node utilization and pod drainability, as CA's scale-down simulation sees them (ca_spec §5.2-5.3).

Utilization: `CA137:simulator/utilization/info.go` (`Calculate`). Drainability: the default rule list of
`CA137:simulator/drainability/rules/rules.go`, applied in order by `CA137:simulator/drain.go`
`GetPodsToMove`; the first rule with a verdict decides. Blocking reasons are upstream's
`drain.BlockingPodReason` names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    "UtilizationError",
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


class UtilizationError(ValueError):
    """Utilization cannot be computed: a resource is not allocatable on the node (upstream's error)."""


def _resource_utilization(
    name: str,
    allocatable: float,
    pods: Sequence[CAPod],
    request: Callable[[CAPod], float],
    skip_ds: bool,
    skip_mirror: bool,
    now: float,
) -> float:
    """`CA137:simulator/utilization/info.go` CalculateUtilizationOfResource.

    A resource that is not allocatable (0) is an error. Skipped DaemonSet / mirror pods are taken
    out of the allocatable, and only then are long-terminating pods left out, in upstream's order.
    """
    if allocatable <= 0:
        raise UtilizationError(f"{name} is 0 at the node")
    requested = skipped = 0.0
    for pod in pods:
        if (skip_ds and pod.daemonset) or (skip_mirror and pod.mirror):
            skipped += request(pod)
        elif not is_long_terminating(pod, now):
            requested += request(pod)
    return requested / (allocatable - skipped)


def node_utilization(
    alloc_cpu_m: float,
    alloc_mem: float,
    pods: Sequence[CAPod],
    *,
    now: float,
    ignore_daemonsets: bool = False,
    ignore_mirror_pods: bool = False,
    alloc_gpus: int = 0,
    gpu_node: bool = False,
) -> Utilization:
    """max(cpu, memory) requested / (allocatable − requests of skipped pods); GPU nodes use GPU only.

    `CA137:simulator/utilization/info.go` Calculate: a node with a GPU config (`gpu_node`, or
    `alloc_gpus` > 0) is judged by GPU alone, and one whose GPU is not allocatable yet has
    utilization 0 ("guarantee we can still scale down a node with unready GPU"). Pods without a
    request count 0; long-terminating pods are left out. On a tie memory is reported. Raises
    `UtilizationError` when CPU or memory is not allocatable (eligibility: UnexpectedError).
    """
    if gpu_node or alloc_gpus > 0:
        try:
            gpu = _resource_utilization(
                GPU_RESOURCE, alloc_gpus, pods, lambda p: p.gpus, ignore_daemonsets, ignore_mirror_pods, now
            )
        except UtilizationError:
            return Utilization(0.0, 0.0, 0.0, 0.0, GPU_RESOURCE)
        return Utilization(0.0, 0.0, gpu, gpu, GPU_RESOURCE)
    cpu = _resource_utilization(
        "cpu", alloc_cpu_m, pods, lambda p: p.spec.cpu_m, ignore_daemonsets, ignore_mirror_pods, now
    )
    mem = _resource_utilization(
        "memory", alloc_mem, pods, lambda p: p.spec.mem_mib, ignore_daemonsets, ignore_mirror_pods, now
    )
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
    matched: dict[int, list[PodDisruptionBudget]] | None = None,
) -> str:
    """The pod's verdict: skip, daemonset, move, done (nothing to reschedule) or a blocking reason.

    `matched`: the PDBs matching each pod (by id), filled here as rules 9 and 12 first need them
    (`_matching`); `plan_drain` shares it with `_pdb_overdrawn`.
    """
    annotation = pod.annotations.get(ANN_SAFE_TO_EVICT, "")
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
    matching = _matching(pod, pdbs, {} if matched is None else matched)
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


def _matching(
    pod: CAPod, pdbs: Sequence[PodDisruptionBudget], matched: dict[int, list[PodDisruptionBudget]]
) -> list[PodDisruptionBudget]:
    """The PDBs that select `pod`, in `pdbs` order (computed once per pod and `matched`)."""
    got = matched.get(id(pod))
    if got is None:
        got = matched[id(pod)] = [b for b in pdbs if b.matches(pod)]
    return got


def plan_drain(
    pods: Sequence[CAPod],
    flags: CAFlags,
    pdbs: Sequence[PodDisruptionBudget] = (),
    remaining: Mapping[str, int] | None = None,
    *,
    now: float,
    matched: dict[int, list[PodDisruptionBudget]] | None = None,
) -> DrainPlan:
    """Classify a node's pods; `remaining` = PDB disruptions left this loop (default: the PDBs' own).

    `matched`: the PDBs (of these same `pdbs`) matching each pod, by pod id, kept by a caller that
    plans several drains of the same pods, which must outlive it; filled as found.
    """
    left = dict(remaining) if remaining is not None else {b.name: b.disruptions_allowed for b in pdbs}
    to_move: list[CAPod] = []
    daemonset: list[CAPod] = []
    if matched is None:
        matched = {}  # the pods live through the call: the ids are theirs
    for pod in pods:
        verdict = _pod_verdict(pod, flags, pdbs, left, now, matched)
        if verdict == "move":
            to_move.append(pod)
        elif verdict == "daemonset":
            daemonset.append(pod)
        elif verdict not in ("skip", "done"):
            return DrainPlan(tuple(to_move), tuple(daemonset), (pod, verdict))
    blocked = _pdb_overdrawn(to_move, pdbs, left, matched)
    return DrainPlan(tuple(to_move), tuple(daemonset), blocked)


def _pdb_overdrawn(
    to_move: Sequence[CAPod],
    pdbs: Sequence[PodDisruptionBudget],
    left: Mapping[str, int],
    matched: dict[int, list[PodDisruptionBudget]] | None = None,
) -> tuple[CAPod, str] | None:
    """The first pod whose PDB would need more disruptions than remain if the node were drained
    (`RemainingPdbTracker.CanRemovePods`); pods with safe-to-evict "true" bypass PDBs in simulation."""
    used: dict[str, int] = {}
    for pod in to_move:
        if pod.annotations.get(ANN_SAFE_TO_EVICT) == "true":
            continue
        for pdb in _matching(pod, pdbs, {} if matched is None else matched):
            used[pdb.name] = used.get(pdb.name, 0) + 1
            if used[pdb.name] > left.get(pdb.name, pdb.disruptions_allowed):
                return pod, "NotEnoughPdb"
    return None
