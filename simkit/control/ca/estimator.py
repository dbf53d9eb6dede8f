"""Binpacking estimate of how many new nodes of one group the pending pods need.

Follows `CA137:estimator/binpacking_estimator.go` with `decreasing_pod_orderer.go` and the
threshold limiter (ca_spec §3.3). Pod-to-node fit is decided by the scheduler's `filter_node`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from simkit.control.ca.model import FitFn
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
    """Mutable working set of one estimation (kept private; the result is frozen)."""

    def __init__(
        self, existing: Sequence[NodeView], fits: FitFn, new_node: Callable[[int], NodeView]
    ) -> None:
        self.existing = list(existing)
        self.fits = fits
        self.new_node = new_node
        self.added: list[NodeView] = []
        self.scheduled: list[PodSpec] = []

    def all_nodes(self) -> list[NodeView]:
        return self.existing + self.added

    def try_on(self, index: int, pod: PodSpec) -> str | None:
        """Try `pod` on added node `index`; bind it if it fits; return the failure reason."""
        reason = self.fits(pod, self.added[index], self.all_nodes())
        if reason is None:
            self.added[index] = place_pod(self.added[index], pod)
            self.scheduled.append(pod)
        return reason

    def try_any(self, pod: PodSpec, skip: int = -1) -> bool:
        """Try `pod` on every added node (but `skip`) in order; True once it is bound."""
        return any(i != skip and self.try_on(i, pod) is None for i in range(len(self.added)))


def _is_hostname_spread_failure(reason: str) -> bool:
    return "topology spread" in reason.lower()


def _pack_group(work: _Packing, pods: Sequence[PodSpec], max_nodes: int) -> bool:
    """Pack one equivalence group; return False when the node limiter stops the whole estimate."""
    rest = list(pods)
    while rest and work.try_any(rest[0]):  # 1. fill nodes added earlier; stop at first failure
        rest.pop(0)
    for pod in rest:  # 2. last added node, else a new node
        if work.added:
            last = len(work.added) - 1
            reason = work.try_on(last, pod)
            if reason is None:
                continue
            if _is_hostname_spread_failure(reason) and work.try_any(pod, skip=last):
                continue
        if max_nodes > 0 and len(work.added) >= max_nodes:
            return False  # threshold limiter denies another node
        work.added.append(work.new_node(len(work.added)))
        if work.try_on(len(work.added) - 1, pod) is not None:
            work.added.pop()  # it fits no fresh node either: upstream stops this group
            return True
    return True


def estimate_nodes(
    pod_groups: Sequence[Sequence[PodSpec]],
    template: NodeView,
    existing: Sequence[NodeView],
    fits: FitFn,
    max_nodes: int = 0,
    name_prefix: str = "template",
) -> Estimate:
    """How many copies of `template` the pod equivalence groups need (0 = `max_nodes` unlimited)."""
    ordered = sorted((g for g in pod_groups if g), key=lambda g: -_score(g[0], template))
    work = _Packing(existing, fits, lambda i: template_copy(template, f"{name_prefix}-{i}"))
    for group in ordered:
        if not _pack_group(work, group, max_nodes):
            break
    # Every added node holds at least one pod (a node the pod did not fit on is dropped at once).
    return Estimate(node_count=len(work.added), scheduled=tuple(work.scheduled), nodes=tuple(work.added))
