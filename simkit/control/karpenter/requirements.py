"""Node requirements as label value sets, matched against instance types and their offerings.

A reduced `scheduling.Requirements` of kubernetes-sigs/karpenter (pkg/scheduling/requirements.go,
requirement.go) and the instance-type helpers of pkg/cloudprovider/types.go (`Compatible`,
`Available`, `Cheapest`, `SatisfiesMinValues`) and pkg/controllers/disruption/consolidation.go
(`getWorstLaunchPrice`), at 2266468104f36373ed002241afaee2d3bbc26078.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from simkit.control.karpenter.types import (
    ARCH_LABEL,
    CAPACITY_TYPE_LABEL,
    INSTANCE_TYPE_LABEL,
    NODEPOOL_LABEL,
    ON_DEMAND,
    OS_LABEL,
    RESERVED,
    SPOT,
    ZONE_LABEL,
    InstanceType,
    NodePool,
    Offering,
    Requirement,
    Resources,
)

__all__ = [
    "ValueSet",
    "Requirements",
    "WELL_KNOWN_LABELS",
    "requirement_set",
    "pool_requirements",
    "merge",
    "compatible",
    "instance_type_requirements",
    "instance_type_compatible",
    "compatible_offerings",
    "fits",
    "cheapest_price",
    "worst_launch_price",
    "min_values_prefix",
    "label_values",
]

# Labels a pod may select on although no NodePool defines them (v1.WellKnownLabels).
WELL_KNOWN_LABELS = frozenset(
    {
        ZONE_LABEL,
        "topology.kubernetes.io/region",
        INSTANCE_TYPE_LABEL,
        ARCH_LABEL,
        OS_LABEL,
        CAPACITY_TYPE_LABEL,
        NODEPOOL_LABEL,
        "node.kubernetes.io/windows-build",
    }
)


@dataclass(frozen=True)
class ValueSet:
    """The values a label may take: `values`, or anything but `values` when `complement`.

    DoesNotExist is the empty set, so it intersects nothing that defines the label.
    """

    values: frozenset[str] = frozenset()
    complement: bool = False
    min_values: int | None = None

    def allows(self, value: str) -> bool:
        return (value in self.values) != self.complement

    def empty(self) -> bool:
        return not self.complement and not self.values

    def intersect(self, other: ValueSet) -> ValueSet:
        mins = [m for m in (self.min_values, other.min_values) if m is not None]
        min_values = max(mins) if mins else None
        if self.complement and other.complement:
            return ValueSet(self.values | other.values, True, min_values)
        if self.complement:
            return ValueSet(other.values - self.values, False, min_values)
        if other.complement:
            return ValueSet(self.values - other.values, False, min_values)
        return ValueSet(self.values & other.values, False, min_values)


Requirements = Mapping[str, ValueSet]


def requirement_set(req: Requirement) -> ValueSet:
    """One NodeSelectorRequirement (In, NotIn, Exists, DoesNotExist) as a value set."""
    values = frozenset(req.values)
    if req.operator == "In":
        return ValueSet(values, False, req.min_values)
    if req.operator == "NotIn":
        return ValueSet(values, True, req.min_values)
    if req.operator == "Exists":
        return ValueSet(frozenset(), True, req.min_values)
    if req.operator == "DoesNotExist":
        return ValueSet(frozenset(), False, req.min_values)
    raise ValueError(f"unsupported requirement operator {req.operator!r} for {req.key}")


def merge(a: Requirements, b: Requirements) -> dict[str, ValueSet]:
    """`Requirements.Add`: the intersection per key (minValues: the larger)."""
    out = dict(a)
    for key, vs in b.items():
        out[key] = out[key].intersect(vs) if key in out else vs
    return out


def pool_requirements(pool: NodePool) -> dict[str, ValueSet]:
    """A NodePool's template requirements: its requirements, its labels, and `nodepool In [name]`."""
    reqs: dict[str, ValueSet] = {}
    for req in pool.requirements:
        reqs = merge(reqs, {req.key: requirement_set(req)})
    labels = {**pool.labels, NODEPOOL_LABEL: pool.name}
    return merge(reqs, {k: ValueSet(frozenset({v})) for k, v in labels.items()})


def compatible(node: Requirements, pod: Requirements) -> bool:
    """`Requirements.Compatible` with undefined well-known labels allowed: every pod key is defined
    by the node (or well-known) and the shared keys intersect."""
    for key, vs in pod.items():
        if key in node:
            if node[key].intersect(vs).empty():
                return False
        elif key not in WELL_KNOWN_LABELS:
            return False
    return True


def instance_type_requirements(it: InstanceType) -> dict[str, ValueSet]:
    """The labels an instance type defines; zone and capacity type come from AVAILABLE offerings."""
    available = [o for o in it.offerings if o.available]
    return {
        INSTANCE_TYPE_LABEL: ValueSet(frozenset({it.name})),
        ARCH_LABEL: ValueSet(frozenset({it.arch})),
        OS_LABEL: ValueSet(frozenset(it.os)),
        ZONE_LABEL: ValueSet(frozenset(o.zone for o in available)),
        CAPACITY_TYPE_LABEL: ValueSet(frozenset(o.capacity_type for o in available)),
    }


def instance_type_compatible(it: InstanceType, reqs: Requirements) -> bool:
    """`Requirements.Intersects`: every label both define has a common value."""
    own = instance_type_requirements(it)
    return all(not own[k].intersect(vs).empty() for k, vs in reqs.items() if k in own)


def compatible_offerings(it: InstanceType, reqs: Requirements, available_only: bool = True) -> list[Offering]:
    """Offerings whose zone and capacity type the requirements allow (`Offerings.Compatible`)."""
    zone, ct = reqs.get(ZONE_LABEL), reqs.get(CAPACITY_TYPE_LABEL)
    return [
        o
        for o in it.offerings
        if (o.available or not available_only)
        and (zone is None or zone.allows(o.zone))
        and (ct is None or ct.allows(o.capacity_type))
    ]


def fits(it: InstanceType, requests: Resources) -> bool:
    """Every requested resource is within the instance type's allocatable (`resources.Fits`)."""
    alloc = it.allocatable()
    return all(v <= alloc.get(k, 0) for k, v in requests.items())


def cheapest_price(it: InstanceType, reqs: Requirements) -> float:
    """The cheapest compatible available offering's price (+inf when there is none)."""
    prices = [o.price for o in compatible_offerings(it, reqs)]
    return min(prices) if prices else float("inf")


def worst_launch_price(it: InstanceType, reqs: Requirements) -> float:
    """`getWorstLaunchPrice`: the most expensive compatible available offering of the first capacity
    type present in the order reserved, spot, on-demand (+inf when there is none)."""
    offerings = compatible_offerings(it, reqs)
    for ct in (RESERVED, SPOT, ON_DEMAND):
        prices = [o.price for o in offerings if o.capacity_type == ct]
        if prices:
            return max(prices)
    return float("inf")


def label_values(it: InstanceType, key: str) -> Iterable[str]:
    """The values an instance type offers for a label (for minValues)."""
    own = instance_type_requirements(it)
    return own[key].values if key in own else ()


def min_values_prefix(reqs: Requirements, options: Sequence[InstanceType]) -> tuple[int, list[str]]:
    """`SatisfiesMinValues`: how many leading options meet every minValues, and the keys never met."""
    wanted = {k: vs.min_values for k, vs in reqs.items() if vs.min_values is not None}
    if not wanted:
        return 0, []
    seen: dict[str, set[str]] = {k: set() for k in wanted}
    for i, it in enumerate(options):
        for key in wanted:
            seen[key].update(v for v in label_values(it, key) if reqs[key].allows(v))
        if all(len(seen[k]) >= m for k, m in wanted.items()):
            return i + 1, []
    return len(options), sorted(k for k, m in wanted.items() if len(seen[k]) < m)
