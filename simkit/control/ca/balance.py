"""Balancing similar node groups (`--balance-similar-node-groups`, ca_spec §4).

Similarity follows `CA137:processors/nodegroupset/compare_nodegroups.go` (`IsCloudProviderNodeInfoSimilar`)
and `label_nodegroups.go`; distribution follows `balancing_processor.go` (`BalanceScaleUpBetweenGroups`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from simkit.control.ca.model import NodeGroup
from simkit.control.types import ZONE_LABEL

__all__ = ["TemplateInfo", "BASIC_IGNORED_LABELS", "nodes_similar", "template_info", "balance_scale_up"]

# compare_nodegroups.go basic ignored labels. Provider files add their own (aws_nodegroups.go,
# gce_nodegroups.go, azure_nodegroups.go); pass those through --balancing-ignore-label.
BASIC_IGNORED_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "beta.kubernetes.io/fluentd-ds-ready",
        "kops.k8s.io/instancegroup",
    }
)


@dataclass(frozen=True)
class TemplateInfo:
    """A template node's resources by name (cpu, memory, gpu...), what its pods request, its labels."""

    capacity: Mapping[str, float]
    allocatable: Mapping[str, float]
    requested: Mapping[str, float] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


def template_info(group: NodeGroup) -> TemplateInfo:
    """The comparable facts of a node group's template node."""
    t = group.template
    capacity: dict[str, float] = {"cpu": group.cpu_capacity, "memory": group.mem_capacity}
    allocatable: dict[str, float] = {"cpu": t.alloc_cpu_m, "memory": t.alloc_mem_mib}
    if group.gpus:
        capacity["gpu"] = allocatable["gpu"] = group.gpus
    requested = {"cpu": float(t.requested_cpu_m), "memory": t.requested_mem_mib}
    labels = {**t.labels, **group.labels}
    if group.zone:
        labels[ZONE_LABEL] = group.zone
    return TemplateInfo(capacity, allocatable, requested, labels)


def _within(a: float, b: float, ratio: float) -> bool:
    """larger − smaller ≤ larger × ratio (upstream compares quantities this way)."""
    larger, smaller = max(a, b), min(a, b)
    return larger - smaller <= larger * ratio


def _maps_within(a: Mapping[str, float], b: Mapping[str, float], ratio: float) -> bool:
    return set(a) == set(b) and all(_within(a[k], b[k], ratio) for k in a)


def _free(info: TemplateInfo) -> dict[str, float]:
    return {k: v - info.requested.get(k, 0.0) for k, v in info.allocatable.items()}


def _labels_equal(a: Mapping[str, str], b: Mapping[str, str], ignored: Iterable[str]) -> bool:
    skip = set(ignored)
    return {k: v for k, v in a.items() if k not in skip} == {k: v for k, v in b.items() if k not in skip}


def nodes_similar(
    a: TemplateInfo,
    b: TemplateInfo,
    *,
    memory_ratio: float = 0.015,
    allocatable_ratio: float = 0.05,
    free_ratio: float = 0.05,
    extra_ignored_labels: Iterable[str] = (),
    balancing_labels: Sequence[str] = (),
) -> bool:
    """Whether two templates are similar enough to balance across (ratios are the flag values)."""
    if balancing_labels:  # --balancing-label replaces every other check (label_nodegroups.go)
        return all(a.labels.get(k) == b.labels.get(k) for k in balancing_labels)
    if set(a.capacity) != set(b.capacity):
        return False
    for name, value in a.capacity.items():
        ratio = memory_ratio if name == "memory" else 0.0
        if not _within(value, b.capacity[name], ratio):
            return False
    return (
        _maps_within(a.allocatable, b.allocatable, allocatable_ratio)
        and _maps_within(_free(a), _free(b), free_ratio)
        and _labels_equal(a.labels, b.labels, BASIC_IGNORED_LABELS | set(extra_ignored_labels))
    )


def balance_scale_up(groups: Sequence[NodeGroup], new_nodes: int) -> dict[str, int]:
    """Spread `new_nodes` over similar groups by water-filling; return new sizes of changed groups.

    Groups at max are skipped, the request is capped at the total headroom, then one node at a time
    goes to the currently smallest group below max. Upstream sorts with Go's unstable sort.Slice;
    simkit breaks ties by group order, so the result is deterministic.
    """
    if not groups:
        raise ValueError("balance_scale_up: no node groups to balance")
    open_groups = [g for g in groups if g.target_size < g.max_size]
    sizes = {g.name: g.target_size for g in open_groups}
    limits = {g.name: g.max_size for g in open_groups}
    remaining = min(new_nodes, sum(limits[n] - sizes[n] for n in sizes))
    order = sorted(sizes, key=lambda n: sizes[n])
    for _ in range(max(remaining, 0)):
        smallest = min((n for n in order if sizes[n] < limits[n]), key=lambda n: sizes[n])
        sizes[smallest] += 1
    return {g.name: sizes[g.name] for g in open_groups if sizes[g.name] != g.target_size}
