"""Karpenter's provisioner: batch the pending pods, bin-pack them onto new NodeClaims, cheapest first.

Follows kubernetes-sigs/karpenter pkg/controllers/provisioning (batcher.go: `batch-idle-duration`
1 s, `batch-max-duration` 10 s) and pkg/controllers/provisioning/scheduling (scheduler.go `Solve`:
pods by requests descending, each onto an in-flight NodeClaim it fits, else a new NodeClaim from
the NodePools by weight; nodeclaim.go `Add`: a claim keeps the instance types that still fit all its
pods, launched as the cheapest compatible offering) at 2266468104f36373ed002241afaee2d3bbc26078.

Scheduling constraints use simkit's own scheduler filters (selectors, affinity, spread, taints,
resources) on a template node per claim, with the DaemonSet pods a new node would run bound first.
A claim is pinned to one NodePool, zone and capacity type; spot is chosen first because it is the
cheaper offering, on-demand when spot is refused (the caller drops refused offerings for a while,
like Karpenter's unavailable-offerings cache). Pure: `now` and every input passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from simkit.control.daemonset import place_daemon_pods
from simkit.control.scheduler import filter_node
from simkit.control.types import HOSTNAME_LABEL, ZONE_LABEL, NodeView, PodSpec, Taint

__all__ = [
    "BATCH_IDLE_S",
    "BATCH_MAX_S",
    "Launch",
    "Offer",
    "ProvisioningResult",
    "batch_ready",
    "provision",
]

BATCH_IDLE_S = 1.0  # --batch-idle-duration
BATCH_MAX_S = 10.0  # --batch-max-duration


@dataclass(frozen=True)
class Offer:
    """One instance type x zone x capacity type a NodePool may launch, with what its node offers."""

    nodepool: str
    instance_type: str
    zone: str
    capacity_type: str
    price: float
    cpu_m: int  # allocatable
    mem_mib: float
    max_pods: int
    capacity_cpu_m: int  # for NodePool limits
    capacity_mem_mib: float
    labels: Mapping[str, str] = field(default_factory=dict)  # the node's labels except the hostname
    taints: tuple[Taint, ...] = ()


@dataclass(frozen=True)
class Launch:
    """A NodeClaim to create: its offering and the pods it was sized for."""

    offer: Offer
    pods: tuple[str, ...]


@dataclass(frozen=True)
class ProvisioningResult:
    launches: tuple[Launch, ...]
    unschedulable: Mapping[str, str]  # pod -> why no NodePool can run it (Karpenter's event text)


def batch_ready(first_pending_s: float, last_pending_s: float, now: float) -> bool:
    """batcher.go: a batch closes 1 s after the last new pod, or 10 s after the first."""
    return now - last_pending_s >= BATCH_IDLE_S or now - first_pending_s >= BATCH_MAX_S


@dataclass
class _Claim:
    key: tuple[str, str, str]  # nodepool, zone, capacity type
    offers: list[Offer]  # still fitting, cheapest first
    view: NodeView
    daemon_cpu_m: int
    daemon_mem_mib: float
    pods: list[str] = field(default_factory=list)


def _template(name: str, offer: Offer, daemons: Sequence[PodSpec]) -> tuple[NodeView, int, float]:
    """The claim's node as the scheduler sees it (largest offer's room), DaemonSet pods bound."""
    labels = {k: v for k, v in offer.labels.items() if k != "node.kubernetes.io/instance-type"}
    view = NodeView(
        name=name,
        labels={**labels, HOSTNAME_LABEL: name, ZONE_LABEL: offer.zone},
        taints=offer.taints,
        alloc_cpu_m=offer.cpu_m,
        alloc_mem_mib=offer.mem_mib,
        alloc_pods=offer.max_pods,
    )
    with_daemons, _ = place_daemon_pods(daemons, view)
    return with_daemons, with_daemons.requested_cpu_m, with_daemons.requested_mem_mib


def _fits(offer: Offer, cpu_m: int, mem_mib: float, pods: int) -> bool:
    return cpu_m <= offer.cpu_m and mem_mib <= offer.mem_mib and pods <= offer.max_pods


def _add(claim: _Claim, pod: PodSpec, name: str) -> None:
    v = claim.view
    claim.view = replace(
        v,
        requested_cpu_m=v.requested_cpu_m + pod.cpu_m,
        requested_mem_mib=v.requested_mem_mib + pod.mem_mib,
        pod_labels=(*v.pod_labels, pod.labels),
        spread_pod_labels=None,
    )
    claim.pods.append(name)
    n = len(claim.view.pod_labels)
    claim.offers = [
        o for o in claim.offers if _fits(o, claim.view.requested_cpu_m, claim.view.requested_mem_mib, n)
    ]


def _try(claim: _Claim, pod: PodSpec, nodes: Sequence[NodeView]) -> bool:
    """Whether `pod` passes the scheduler's filters on the claim grown to its largest fitting offer."""
    if not claim.offers:
        return False
    cpu = claim.view.requested_cpu_m + pod.cpu_m
    mem = claim.view.requested_mem_mib + pod.mem_mib
    fitting = [o for o in claim.offers if _fits(o, cpu, mem, len(claim.view.pod_labels) + 1)]
    if not fitting:
        return False
    big = max(fitting, key=lambda o: (o.cpu_m, o.mem_mib))
    view = replace(claim.view, alloc_cpu_m=big.cpu_m, alloc_mem_mib=big.mem_mib, alloc_pods=big.max_pods)
    return filter_node(pod, view, nodes) is None


def provision(
    pods: Sequence[tuple[str, PodSpec]],
    nodes: Sequence[NodeView],
    offers: Sequence[Offer],
    weights: Mapping[str, int],
    limits_left: Mapping[str, tuple[float, float]],
    daemons: Sequence[PodSpec] = (),
) -> ProvisioningResult:
    """The NodeClaims for `pods` (name, spec) that no existing or in-flight node (`nodes`) can run.

    `offers` are the available offerings of every NodePool; `weights` orders the pools (higher
    first); `limits_left` is each pool's remaining cpu (m) and memory (MiB) under `spec.limits`.
    """
    by_key: dict[tuple[str, str, str], list[Offer]] = {}
    for o in sorted(offers, key=lambda o: (o.price, o.instance_type)):
        by_key.setdefault((o.nodepool, o.zone, o.capacity_type), []).append(o)
    pool_order = sorted({k[0] for k in by_key}, key=lambda p: (-weights.get(p, 0), p))
    left = {p: list(limits_left.get(p, (float("inf"), float("inf")))) for p in pool_order}
    claims: list[_Claim] = []
    unschedulable: dict[str, str] = {}
    ordered = sorted(pods, key=lambda np: (-np[1].cpu_m, -np[1].mem_mib, np[0]))
    for name, pod in ordered:
        views = [*nodes, *(c.view for c in claims)]
        home = next((c for c in claims if _try(c, pod, views)), None)
        if home is not None:
            _add(home, pod, name)
            continue
        best: tuple[float, _Claim] | None = None
        for pool in pool_order:
            for key, pool_offers in by_key.items():
                if key[0] != pool:
                    continue
                usable = [
                    o
                    for o in pool_offers
                    if o.capacity_cpu_m <= left[pool][0] and o.capacity_mem_mib <= left[pool][1]
                ]
                if not usable:
                    continue
                view, dcpu, dmem = _template(
                    f"nodeclaim-{len(claims)}", max(usable, key=lambda o: o.cpu_m), daemons
                )
                claim = _Claim(key, usable, view, dcpu, dmem)
                if not _try(claim, pod, [*views, view]):
                    continue
                cheapest = next(
                    o.price
                    for o in usable
                    if _fits(o, dcpu + pod.cpu_m, dmem + pod.mem_mib, len(view.pod_labels) + 1)
                )
                if best is None or cheapest < best[0]:
                    best = (cheapest, claim)
            if best is not None:
                break  # a heavier-weighted pool that can run the pod wins
        if best is None:
            unschedulable[name] = (
                "incompatible with all nodepools or no offering fits (or NodePool limits exceeded)"
            )
            continue
        claim = best[1]
        _add(claim, pod, name)
        claims.append(claim)
        launch_offer = claim.offers[0]
        left[claim.key[0]][0] -= launch_offer.capacity_cpu_m
        left[claim.key[0]][1] -= launch_offer.capacity_mem_mib
    launches = tuple(Launch(c.offers[0], tuple(c.pods)) for c in claims if c.offers)
    return ProvisioningResult(launches, unschedulable)
