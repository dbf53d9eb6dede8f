"""The DaemonSet controller as a pure function: which DaemonSet pods a node runs, and do they fit.

When a node joins, the DaemonSet controller creates one pod per DaemonSet whose node selector
matches the node and whose tolerations tolerate its NoSchedule / NoExecute taints
(`NodeShouldRunDaemonPod` in kubernetes/kubernetes pkg/controller/daemon/daemon_controller.go);
the default scheduler then binds the pod, pinned to that node by node affinity, if it fits. The same
function gives the cluster autoscaler its template nodes: a node group's template carries the
DaemonSet pods a new node would run (ca_spec.md §3.2, `SchedulablePodGroups`).

Every pod also gets the tolerations the DaemonSet controller adds on its own
(`AddOrUpdateDaemonPodTolerations`, pkg/controller/daemon/util/daemonset_util.go), listed on the
Kubernetes docs page "DaemonSet", section "Taints and tolerations"
(https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/#taints-and-tolerations).
The `network-unavailable` one is added only to hostNetwork pods, which simkit does not model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from simkit.control.scheduler import (
    REASON_NODE_AFFINITY,
    fit_error_message,
    insufficient_resources,
    matches_node_selector,
    node_labels,
    untolerated_taint_reason,
)
from simkit.control.types import NodeView, PodSpec, Toleration

__all__ = [
    "DAEMON_POD_TOLERATIONS",
    "DAEMON_POD_GRACE_S",
    "DaemonPod",
    "daemon_pod_tolerations",
    "should_run",
    "place_daemon_pods",
    "SCHEDULED",
    "FAILED_SCHEDULING",
]

# The DaemonSet controller's own tolerations: NoExecute ones without tolerationSeconds, so a DaemonSet
# pod is never evicted from a NotReady or unreachable node; NoSchedule ones for node pressure and
# cordoned nodes, so it is still created there.
DAEMON_POD_TOLERATIONS: tuple[Toleration, ...] = (
    Toleration("node.kubernetes.io/not-ready", "Exists", "", "NoExecute"),
    Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute"),
    Toleration("node.kubernetes.io/disk-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/memory-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/pid-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule"),
)

DAEMON_POD_GRACE_S = 30.0
"""A DaemonSet pod's grace period: core/v1's default terminationGracePeriodSeconds (simkit's
DaemonSets do not set one)."""

SCHEDULED = "Scheduled"  # the pod is created and bound to the node
FAILED_SCHEDULING = "FailedScheduling"  # created, but the node has no room for it: it stays Pending


def daemon_pod_tolerations(own: Iterable[Toleration]) -> tuple[Toleration, ...]:
    """The pod's tolerations with the controller's added (`AddOrUpdateTolerationInPodSpec`).

    A toleration with the same key, operator, value and effect is replaced (so a
    tolerationSeconds on it is dropped); the others are appended.
    """
    out = list(own)
    for added in DAEMON_POD_TOLERATIONS:
        same = [i for i, t in enumerate(out) if _match_key(t) == _match_key(added)]
        if same:
            out[same[0]] = added
        else:
            out.append(added)
    return tuple(out)


def _match_key(t: Toleration) -> tuple[str, str, str, str]:
    return (t.key, t.operator, t.value, t.effect)


@dataclass(frozen=True)
class DaemonPod:
    """One DaemonSet's decision for one node: `reason` is Scheduled, FailedScheduling, or the
    predicate (NodeAffinity, TaintToleration) that keeps the controller from creating a pod."""

    spec: PodSpec
    reason: str
    message: str

    @property
    def bound(self) -> bool:
        return self.reason == SCHEDULED


def should_run(pod: PodSpec, node: NodeView) -> tuple[str, str] | None:
    """None if the DaemonSet controller creates `pod` for `node`, else (predicate, FitError reason).

    Node selector and required node affinity first, then every NoSchedule / NoExecute taint;
    resources are the scheduler's business, not this predicate's.
    """
    if not matches_node_selector(pod, node_labels(node)):
        return "NodeAffinity", REASON_NODE_AFFINITY
    taint = untolerated_taint_reason(pod, node)
    return None if taint is None else ("TaintToleration", taint)


def place_daemon_pods(
    pods: Sequence[PodSpec], node: NodeView, cluster_nodes: int = 1
) -> tuple[NodeView, tuple[DaemonPod, ...]]:
    """Bind, in order, the DaemonSet pods `node` should run; return the node with them and why each.

    A pod the node should run but has no room for stays Pending with the scheduler's FitError
    message (every other of the `cluster_nodes` nodes fails its node affinity to this one).
    """
    decisions: list[DaemonPod] = []
    for pod in pods:
        rejected = should_run(pod, node)
        if rejected is not None:
            decisions.append(DaemonPod(pod, *rejected))
            continue
        missing = insufficient_resources(pod, node)
        if missing:
            others = [[REASON_NODE_AFFINITY]] * max(cluster_nodes - 1, 0)
            message = fit_error_message(max(cluster_nodes, 1), [list(missing), *others])
            decisions.append(DaemonPod(pod, FAILED_SCHEDULING, message))
            continue
        node = node.with_pod(pod)
        decisions.append(DaemonPod(pod, SCHEDULED, f"Successfully assigned {pod.name} to {node.name}"))
    return node, tuple(decisions)
