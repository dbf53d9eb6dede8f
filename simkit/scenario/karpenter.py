"""Karpenter v1 NodePools in a scenario (`cluster.node_provisioner: karpenter`, `cluster.nodepools`).

Fields keep Karpenter's own camelCase names (kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go at
2266468104f36373ed002241afaee2d3bbc26078) so a NodePool spec can be pasted from a manifest.
Durations and quantities are parsed here, once; budgets' cron schedules and percentages are checked
here; whether the requirements match any instance type of the catalog is `check_nodepools`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from simkit.catalog.catalog import InstanceType as CatalogType
from simkit.control.karpenter.budgets import Budget
from simkit.control.karpenter.cron import CronError, parse_standard
from simkit.control.karpenter.drift import template_hash
from simkit.control.karpenter.types import NodePool as KNodePool
from simkit.control.karpenter.types import Requirement as KRequirement
from simkit.scenario.base import CPU, Duration, Memory, PathError, StrictModel
from simkit.scenario.k8s import TaintSpec

__all__ = [
    "KarpenterBudget",
    "KarpenterDisruption",
    "KarpenterLimits",
    "KarpenterNodePool",
    "NodeClassRef",
    "NodePoolChange",
    "KarpenterRequirement",
    "check_nodepool_changes",
    "check_nodepools",
    "instance_labels",
    "matching_types",
]

# Well-known labels a requirement may name (karpenter.sh + karpenter.k8s.aws, v1).
FAMILY, CATEGORY, SIZE = (
    "karpenter.k8s.aws/instance-family",
    "karpenter.k8s.aws/instance-category",
    "karpenter.k8s.aws/instance-size",
)
GENERATION = "karpenter.k8s.aws/instance-generation"
INSTANCE_TYPE, CAPACITY_TYPE = "node.kubernetes.io/instance-type", "karpenter.sh/capacity-type"
ZONE, ARCH, OS = "topology.kubernetes.io/zone", "kubernetes.io/arch", "kubernetes.io/os"
WELL_KNOWN = (FAMILY, CATEGORY, SIZE, GENERATION, INSTANCE_TYPE, CAPACITY_TYPE, ZONE, ARCH, OS)
_PERCENT = re.compile(r"^(\d+)%$")


class KarpenterRequirement(StrictModel):
    """A NodeSelectorRequirementWithMinValues over a well-known label."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[str] = []
    minValues: int | None = Field(default=None, ge=1, le=50)


class KarpenterBudget(StrictModel):
    """`spec.disruption.budgets[]`: nodes (count or percent), cron `schedule` + `duration`, reasons."""

    nodes: str = "10%"
    schedule: str | None = None
    duration: Duration | None = None
    reasons: list[Literal["Empty", "Underutilized", "Drifted"]] | None = None

    @field_validator("nodes", mode="before")
    @classmethod
    def _nodes(cls, v: object) -> str:
        text = str(v)
        m = _PERCENT.match(text)
        if m is not None and int(m.group(1)) > 100:
            raise ValueError(f"a budget's nodes percentage must be at most 100%, got {text!r}")
        if m is None and not text.isdigit():
            raise ValueError(f"expected a node count or a percentage like '10%', got {text!r}")
        return text

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_standard(v)
            except CronError as exc:
                raise ValueError(f"invalid cron schedule {v!r}: {exc}") from None
        return v

    def budget(self) -> Budget:
        dur = None if self.duration is None else timedelta(seconds=self.duration)
        return Budget(self.nodes, self.schedule, dur, None if self.reasons is None else tuple(self.reasons))


class KarpenterDisruption(StrictModel):
    consolidationPolicy: Literal["WhenEmptyOrUnderutilized", "WhenEmpty"] = "WhenEmptyOrUnderutilized"
    consolidateAfter: Duration | Literal["Never"] = 0.0
    budgets: list[KarpenterBudget] = Field(default_factory=lambda: [KarpenterBudget()])


class KarpenterLimits(StrictModel):
    cpu: CPU | None = None
    memory: Memory | None = None


class NodeClassRef(StrictModel):
    """`spec.template.spec.nodeClassRef` (the AWS provider's EC2NodeClass by default)."""

    group: str = "karpenter.k8s.aws"
    kind: str = "EC2NodeClass"
    name: str = "default"


class KarpenterNodePool(StrictModel):
    """A Karpenter v1 NodePool: which instance types, how many, and how they are disrupted.

    `labels`, `annotations`, `taints`, `requirements`, `nodeClassRef`, `expireAfter` and
    `terminationGracePeriod` are `spec.template` fields, flattened; `expireAfter` defaults to 720h
    (pkg/apis/v1/nodeclaim.go `+kubebuilder:default:="720h"`).
    """

    name: str
    requirements: list[KarpenterRequirement] = []
    weight: int = Field(default=0, ge=0, le=100)
    limits: KarpenterLimits = KarpenterLimits()
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    taints: list[TaintSpec] = []
    nodeClassRef: NodeClassRef = NodeClassRef()
    disruption: KarpenterDisruption = KarpenterDisruption()
    expireAfter: Duration | Literal["Never"] = 720 * 3600.0
    terminationGracePeriod: Duration | None = None

    @property
    def expire_after_s(self) -> float | None:
        return None if self.expireAfter == "Never" else float(self.expireAfter)

    def template_hash(self) -> str:
        """`NodePool.Hash` of this pool's template (control/karpenter/drift.py)."""
        return template_hash(
            {
                "labels": self.labels,
                "annotations": self.annotations,
                "taints": [t.model_dump(mode="json") for t in self.taints],
                "nodeClassRef": self.nodeClassRef.model_dump(mode="json"),
                "expireAfter": self.expireAfter,
                "terminationGracePeriod": self.terminationGracePeriod,
            }
        )

    def requirement_tuples(self) -> list[tuple[str, str, list[str]]]:
        return [(r.key, r.operator, list(r.values)) for r in self.requirements]

    def allows(self, key: str, value: str) -> bool:
        """Whether the requirements on `key` (if any) allow `value`."""
        return all(_allows(r, value) for r in self.requirements if r.key == key)

    def to_control(self, instance_types: tuple[str, ...]) -> KNodePool:
        """The pure controller's NodePool (control/karpenter/types.py)."""
        d = self.disruption
        after = None if d.consolidateAfter == "Never" else timedelta(seconds=float(d.consolidateAfter))
        return KNodePool(
            name=self.name,
            consolidation_policy=d.consolidationPolicy,
            consolidate_after=after,
            budgets=tuple(b.budget() for b in d.budgets),
            requirements=tuple(
                KRequirement(r.key, r.operator, tuple(r.values), r.minValues)
                for r in self.requirements
                if r.key in (CAPACITY_TYPE, ZONE)
            ),
            weight=self.weight,
            instance_types=instance_types,
            labels=dict(self.labels),
        )


class NodePoolChange(StrictModel):
    """An edit of a NodePool's spec at a time (`kubectl apply` of a new revision): the fields given
    replace the pool's; nodes launched from the old template drift (control/karpenter/drift.py)."""

    at: Duration
    nodepool: str
    requirements: list[KarpenterRequirement] | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    taints: list[TaintSpec] | None = None
    nodeClassRef: NodeClassRef | None = None
    expireAfter: Duration | Literal["Never"] | None = None
    terminationGracePeriod: Duration | None = None

    def apply(self, pool: KarpenterNodePool) -> KarpenterNodePool:
        """The pool after this change."""
        fields = self.model_dump(exclude={"at", "nodepool"}, exclude_none=True)
        update = {k: getattr(self, k) for k in fields}
        return pool.model_copy(update=update)


def _allows(req: KarpenterRequirement, value: str | None) -> bool:
    if req.operator == "Exists":
        return value is not None
    if req.operator == "DoesNotExist":
        return value is None
    if req.operator == "In":
        return value is not None and value in req.values
    if req.operator == "NotIn":
        return value is None or value not in req.values
    if value is None or not value.lstrip("-").isdigit() or not req.values:
        return False
    return int(value) > int(req.values[0]) if req.operator == "Gt" else int(value) < int(req.values[0])


def instance_labels(it: CatalogType) -> dict[str, str]:
    """The well-known labels of an AWS instance type (family m6i, category m, size xlarge, generation 6)."""
    family, _, size = it.name.partition(".")
    gen = "".join(ch for ch in family[1:] if ch.isdigit())[:1]
    return {
        INSTANCE_TYPE: it.name,
        FAMILY: family,
        CATEGORY: family[:1],
        SIZE: size,
        GENERATION: gen,
        ARCH: it.arch,
        OS: "linux",
    }


def matching_types(pool: KarpenterNodePool, catalog: list[CatalogType]) -> list[CatalogType]:
    """The catalog's instance types the pool's instance-type requirements allow (any zone/capacity)."""
    keep = [r for r in pool.requirements if r.key not in (ZONE, CAPACITY_TYPE)]
    return [it for it in catalog if all(_allows(r, instance_labels(it).get(r.key)) for r in keep)]


def check_nodepools(pools: list[KarpenterNodePool], catalog: list[CatalogType], zones: list[str]) -> None:
    """Every pool names well-known keys, unique names, zones of the cluster, and matches >= 1 type."""
    names = [p.name for p in pools]
    for i, pool in enumerate(pools):
        if names.count(pool.name) > 1:
            raise PathError(("nodepools", i, "name"), f"NodePool names must be unique, {pool.name!r} repeats")
        for j, req in enumerate(pool.requirements):
            if req.key not in WELL_KNOWN:
                raise PathError(
                    ("nodepools", i, "requirements", j, "key"),
                    f"expected one of the well-known labels {list(WELL_KNOWN)}, got {req.key!r}",
                )
            if req.key == ZONE and req.operator == "In" and not set(req.values) & set(zones):
                raise PathError(
                    ("nodepools", i, "requirements", j, "values"),
                    f"no zone of {req.values} is one of the cluster's {zones}",
                )
        if not matching_types(pool, catalog):
            raise PathError(
                ("nodepools", i, "requirements"),
                f"the requirements of NodePool {pool.name!r} match no instance type in the catalog",
            )


def check_nodepool_changes(
    changes: list[NodePoolChange], pools: list[KarpenterNodePool], catalog: list[CatalogType]
) -> None:
    """Every change names a NodePool of the scenario and leaves it matching >= 1 instance type."""
    by_name = {p.name: p for p in pools}
    for i, change in enumerate(changes):
        pool = by_name.get(change.nodepool)
        if pool is None:
            raise PathError(
                ("nodepool_changes", i, "nodepool"),
                f"expected one of the NodePools {sorted(by_name)}, got {change.nodepool!r}",
            )
        by_name[change.nodepool] = pool = change.apply(pool)
        if not matching_types(pool, catalog):
            raise PathError(
                ("nodepool_changes", i, "requirements"),
                f"the requirements of NodePool {pool.name!r} match no instance type in the catalog",
            )
