"""Expanders: choose which node group to grow among the scale-up options (`CA137:expander/*`).

`--expander` is a comma-separated chain. Each filter narrows the list; the chain stops as soon as one
option is left, and remaining ties are broken uniformly at random (`expander/factory/chain.go`,
falling back to `random`). ca_spec §3.4.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from simkit.control.ca.model import NodeGroup
from simkit.control.types import PodSpec

__all__ = [
    "ExpansionOption",
    "PodPriceModel",
    "least_waste",
    "most_pods",
    "least_nodes",
    "priority",
    "price",
    "preferred_node_cpu_m",
    "choose",
]


@dataclass(frozen=True)
class ExpansionOption:
    """Growing `group` by `node_count` nodes would schedule `pods` (`expander.Option`)."""

    group: NodeGroup
    node_count: int
    pods: tuple[PodSpec, ...]


@dataclass(frozen=True)
class PodPriceModel:
    """What a pod is "worth" per hour to the price expander (`cloudprovider.PricingModel.PodPrice`).

    Upstream asks the cloud provider. simkit's default splits an m6i.xlarge on-demand price
    (USD 0.192/h for 4 vCPU / 16 GiB, shared/reference/prices.csv, us-east-1, 2026-07-20) half to
    CPU and half to memory: USD 0.024 per vCPU-hour and 0.006 per GiB-hour. An assumption.
    """

    cpu_core_hour: float = 0.024
    mem_gib_hour: float = 0.006

    def pod_price(self, cpu_m: float, mem_mib: float) -> float:
        return cpu_m / 1000 * self.cpu_core_hour + mem_mib / 1024 * self.mem_gib_hour


Filter = Callable[[Sequence[ExpansionOption]], list[ExpansionOption]]


def _keep_min(
    options: Sequence[ExpansionOption], key: Callable[[ExpansionOption], float]
) -> list[ExpansionOption]:
    """All options whose key equals the minimum (exact equality, as upstream compares floats)."""
    if not options:
        return []
    best = min(key(o) for o in options)
    return [o for o in options if key(o) == best]


def least_waste(options: Sequence[ExpansionOption]) -> list[ExpansionOption]:
    """Least idle CPU + memory fraction over the new nodes' CAPACITY (`expander/waste/waste.go`)."""

    def waste(option: ExpansionOption) -> float:
        avail_cpu = option.group.cpu_capacity * option.node_count
        avail_mem = option.group.mem_capacity * option.node_count
        req_cpu = sum(p.cpu_m for p in option.pods)
        req_mem = sum(p.mem_mib for p in option.pods)
        cpu_part = (avail_cpu - req_cpu) / avail_cpu if avail_cpu else 0.0
        mem_part = (avail_mem - req_mem) / avail_mem if avail_mem else 0.0
        return cpu_part + mem_part

    return _keep_min(options, waste)


def most_pods(options: Sequence[ExpansionOption]) -> list[ExpansionOption]:
    """Options that schedule the most pods (`expander/mostpods`)."""
    return _keep_min(options, lambda o: -len(o.pods))


def least_nodes(options: Sequence[ExpansionOption]) -> list[ExpansionOption]:
    """Drop zero-node options, keep the fewest nodes (`expander/leastnodes`)."""
    return _keep_min([o for o in options if o.node_count > 0], lambda o: o.node_count)


def priority(
    options: Sequence[ExpansionOption], priorities: Mapping[int, Sequence[str]]
) -> list[ExpansionOption]:
    """Options whose group id matches a regex of the highest matching priority (`expander/priority`).

    `priorities` is the `priorities` key of ConfigMap kube-system/cluster-autoscaler-priority-expander
    parsed from YAML: {priority: [regex, ...]}. If no option matches any regex, all options are kept.
    """
    compiled = {int(p): [re.compile(r) for r in regexes] for p, regexes in priorities.items()}
    best_priority: int | None = None
    best: list[ExpansionOption] = []
    for option in options:
        matched = [p for p, regs in compiled.items() if any(r.search(option.group.name) for r in regs)]
        if not matched:
            continue
        top = max(matched)
        if best_priority is None or top > best_priority:
            best_priority, best = top, [option]
        elif top == best_priority:
            best.append(option)
    return best if best else list(options)


# `expander/price/preferred.go` SimplePreferredNodeProvider: preferred node size by cluster size.
_PREFERRED_CPU_BY_CLUSTER_SIZE = ((2, 1000), (6, 2000), (20, 4000), (60, 8000), (200, 16000))
_STABILIZATION_POD = (500, 500.0)  # price.go: 500m CPU / 500Mi memory "stabilize" pod, priced 1h
_GPU_UNFITNESS = 1000.0  # price.go: fixed (suppressed) unfitness of a GPU node group
_NOT_EXIST_COEFFICIENT = 2.0  # price.go: autoprovisioned groups cost double


def preferred_node_cpu_m(cluster_nodes: int) -> int:
    """Preferred node CPU in millicores for a cluster of `cluster_nodes` nodes (preferred.go)."""
    for limit, cpu in _PREFERRED_CPU_BY_CLUSTER_SIZE:
        if cluster_nodes <= limit:
            return cpu
    return 32000


def price_score(
    option: ExpansionOption,
    preferred_cpu_m: float,
    pods_price: float,
    node_price: float,
    stabilization_price: float,
) -> float:
    """Upstream price score: suppressed unfitness x (node cost + stab) / (pods' value + stab)."""
    if option.group.gpus > 0:
        suppressed = _GPU_UNFITNESS
    else:
        node_cpu = option.group.cpu_capacity
        unfitness = max(preferred_cpu_m / node_cpu, node_cpu / preferred_cpu_m) if node_cpu else math.inf
        suppressed = (unfitness - 1) * (1 - math.tanh((option.node_count - 1) / 15.0)) + 1
    score = (
        suppressed
        * (node_price * option.node_count + stabilization_price)
        / (pods_price + stabilization_price)
    )
    return score * (1.0 if option.group.exists else _NOT_EXIST_COEFFICIENT)


def price(
    options: Sequence[ExpansionOption],
    preferred_cpu_m: float,
    model: PodPriceModel | None = None,
    *,
    pod_price: Callable[[PodSpec], float] | None = None,
    stabilization_price: float | None = None,
) -> list[ExpansionOption]:
    """Cheapest nodes per unit of pod value, preferring node sizes near the preferred one.

    Pod prices come from `pod_price` if given, else from `model`; node prices are the groups'
    `price_per_hour` (upstream asks the cloud provider's PricingModel for both).
    """
    model = model or PodPriceModel()
    value = pod_price or (lambda p: model.pod_price(p.cpu_m, p.mem_mib))
    stab = model.pod_price(*_STABILIZATION_POD) if stabilization_price is None else stabilization_price

    def score(option: ExpansionOption) -> float:
        pods_value = sum(value(p) for p in option.pods)
        return price_score(option, preferred_cpu_m, pods_value, option.group.price_per_hour, stab)

    return _keep_min(options, score)


def choose(
    chain: str,
    options: Sequence[ExpansionOption],
    rng: np.random.Generator,
    *,
    priorities: Mapping[int, Sequence[str]] | None = None,
    cluster_nodes: int = 0,
    price_model: PodPriceModel | None = None,
) -> ExpansionOption | None:
    """Run the `--expander` chain and break remaining ties with `rng` (None if nothing is left)."""
    filters: dict[str, Filter] = {
        "least-waste": least_waste,
        "most-pods": most_pods,
        "least-nodes": least_nodes,
        "random": list,
        "priority": lambda opts: priority(opts, priorities or {}),
        "price": lambda opts: price(opts, preferred_node_cpu_m(cluster_nodes), price_model),
    }
    remaining = list(options)
    for name in chain.split(","):
        remaining = filters[name.strip()](remaining)
        if len(remaining) <= 1:
            break
    if not remaining:
        return None
    return remaining[int(rng.integers(len(remaining)))] if len(remaining) > 1 else remaining[0]
