"""Binpacking estimate of how many new nodes of one group the pending pods need.

Follows `CA137:estimator/binpacking_estimator.go` with `decreasing_pod_orderer.go` and the
threshold limiter (ca_spec §3.3). Pod-to-node fit is decided by the scheduler's `filter_node`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from simkit.control.ca.model import FitFn
from simkit.control.scheduler import REASON_SPREAD
from simkit.control.types import HOSTNAME_LABEL, NodeView, PodSpec

__all__ = ["Estimate", "estimate_nodes", "place_pod", "template_copy"]


@dataclass(frozen=True)
class Estimate:
    """`node_count` new nodes would schedule `scheduled` pods; `nodes` are those nodes, filled."""

    node_count: int
    scheduled: tuple[PodSpec, ...]
    nodes: tuple[NodeView, ...]


def template_copy(template: NodeView, name: str) -> NodeView:
    """A fresh node built from a group template, with its own name and hostname label."""
    labels = dict(template.labels)
    labels[HOSTNAME_LABEL] = name
    return replace(template, name=name, labels=labels)


def place_pod(node: NodeView, pod: PodSpec) -> NodeView:
    """`node` with `pod` bound to it (requests added, labels recorded for affinity/spread)."""
    return node.with_pod(pod)


def _score(pod: PodSpec, template: NodeView) -> float:
    """DecreasingPodOrderer score: CPU share + memory share of the template's allocatable."""
    cpu = pod.cpu_m / template.alloc_cpu_m if template.alloc_cpu_m else 0.0
    mem = pod.mem_mib / template.alloc_mem_mib if template.alloc_mem_mib else 0.0
    return cpu + mem


class _Packing:
    """Mutable working set of one estimation (kept private; the result is frozen).

    Mirrors upstream's estimationState on a forked snapshot: `nodes` holds the existing nodes and
    every node added so far, by name, in insertion order; `with_pods` the nodes (added or existing)
    that received a pod, in order; `last` the most recently added node.
    """

    def __init__(self, existing: Sequence[NodeView], fits: FitFn, max_nodes: int) -> None:
        self.nodes: dict[str, NodeView] = {n.name: n for n in existing}
        self.fits = fits
        self.max_nodes = max_nodes
        self.new_names: list[str] = []
        self.last: str | None = None
        self.with_pods: dict[str, None] = {}
        self.scheduled: list[PodSpec] = []

    def try_on(self, name: str, pod: PodSpec) -> str | None:
        """Try `pod` on node `name`; bind it if it fits (trackScheduledPod); return the failure reason."""
        reason = self.fits(pod, self.nodes[name], list(self.nodes.values()))
        if reason is None:
            self.nodes[name] = place_pod(self.nodes[name], pod)
            self.with_pods[name] = None
            self.scheduled.append(pod)
        return reason

    def try_any(self, pod: PodSpec, accept: Callable[[str], bool]) -> bool:
        """SchedulePodOnAnyNodeMatching: the first acceptable node (snapshot order) that fits."""
        return any(accept(name) and self.try_on(name, pod) is None for name in list(self.nodes))

    def add_node(self, node: NodeView) -> None:
        """addNewNodeToSnapshot: the node joins the snapshot (and stays, even if it ends up empty)."""
        self.nodes[node.name] = node
        self.new_names.append(node.name)
        self.last = node.name

    def may_add_node(self) -> bool:
        """thresholdBasedEstimationLimiter.PermissionToAddNode (0 = unlimited)."""
        return self.max_nodes <= 0 or len(self.new_names) < self.max_nodes


def _uses_hostname_key(pod: PodSpec) -> bool:
    """isPodUsingHostNameTopologyKey: some topology spread constraint is keyed on the hostname."""
    return any(c.topology_key == HOSTNAME_LABEL for c in pod.topology_spread)


def _on_existing(work: _Packing, pods: Sequence[PodSpec]) -> list[PodSpec]:
    """tryToScheduleOnExistingNodes: fill nodes added earlier; stop at the first pod that fits none."""
    new = set(work.new_names)
    for index, pod in enumerate(pods):
        if not work.try_any(pod, new.__contains__):
            return list(pods[index:])
    return []


def _on_new(work: _Packing, pods: Sequence[PodSpec], new_node: Callable[[int], NodeView]) -> bool:
    """tryToScheduleOnNewNodes; False when the limiter denies a node (no more new nodes at all)."""
    for pod in pods:
        last = work.last
        if last is not None:
            reason = work.try_on(last, pod)
            if reason is None:
                continue
            # A hostname-keyed spread failure on the last node: any other node (existing nodes
            # included) may take the pod; only the last node is skipped.
            if reason == REASON_SPREAD and _uses_hostname_key(pod) and work.try_any(pod, last.__ne__):
                continue
            if last not in work.with_pods:
                return True  # the last added node is empty and the pod did not fit it: next group
        if not work.may_add_node():
            return False
        work.add_node(new_node(len(work.new_names)))
        if work.try_on(work.new_names[-1], pod) is not None:
            break  # not even a fresh node takes it (e.g. zonal spread); the empty node stays
    return True


def estimate_nodes(
    pod_groups: Sequence[Sequence[PodSpec]],
    template: NodeView,
    existing: Sequence[NodeView],
    fits: FitFn,
    max_nodes: int = 0,
    name_prefix: str = "template",
) -> Estimate:
    """How many copies of `template` the pod equivalence groups need (0 = `max_nodes` unlimited).

    `CA137:estimator/binpacking_estimator.go` Estimate without the fast path (single-group
    estimates agree with it upstream): per equivalence group, in decreasing order, first the nodes
    added so far, then the last added node or a new one. A pod with a hostname-keyed topology spread
    constraint that fails on the last node may land on any other node, existing ones included; the
    count is upstream's `len(newNodesWithPods)`, which then includes that existing node.
    """
    ordered = sorted((g for g in pod_groups if g), key=lambda g: -_score(g[0], template))
    work = _Packing(existing, fits, max_nodes)
    new_nodes_available = True
    for group in ordered:
        rest = _on_existing(work, group)
        if new_nodes_available:
            new_nodes_available = _on_new(work, rest, lambda i: template_copy(template, f"{name_prefix}-{i}"))
    return Estimate(
        node_count=len(work.with_pods),
        scheduled=tuple(work.scheduled),
        nodes=tuple(work.nodes[n] for n in work.new_names if n in work.with_pods),
    )
