"""`SimulateScheduling`: where the pods of candidate nodes would go if the candidates were removed.

A simplified pkg/controllers/disruption/helpers.go `SimulateScheduling` over
pkg/controllers/provisioning/scheduling/scheduler.go of kubernetes-sigs/karpenter at
2266468104f36373ed002241afaee2d3bbc26078: existing nodes first (initialized first, then by name;
first fit), then in-flight new NodeClaims (fewest pods first), then a new NodeClaim from the
heaviest NodePool whose requirements and instance types admit the pod. The nodeSelector filter is
kube-scheduler's, reused from `simkit.control.scheduler`; resources are compared as exact
integers (cpu, memory and one `pods` slot per pod), with absent allocatable counted as 0.

Not modelled: DaemonSet overhead, topology spread, (anti-)affinity, taints, preferences,
NodePool limits, volumes, host ports, DRA and reserved capacity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from simkit.control.karpenter.candidates import (
    Candidate,
    do_not_disrupt_active,
    is_reschedulable,
    is_under_consolidate_after,
    pdb_blockers,
)
from simkit.control.karpenter.requirements import (
    ValueSet,
    compatible,
    compatible_offerings,
    fits,
    instance_type_compatible,
    label_values,
    merge,
    min_values_prefix,
    pool_requirements,
)
from simkit.control.karpenter.types import Cluster, InstanceType, Node, Pod, Resources
from simkit.control.scheduler import matches_node_selector
from simkit.control.types import PodSpec

__all__ = ["NewNodeClaim", "SchedulingResult", "simulate_scheduling", "pod_requests"]

_POD_SLOT = 1000  # every pod requests `pods: 1` (milli-units)


def pod_requests(pod: Pod) -> dict[str, int]:
    """The pod's requests plus its pod slot."""
    out = dict(pod.requests)
    out["pods"] = out.get("pods", 0) + _POD_SLOT
    return out


def _add(a: Resources, b: Resources) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


@dataclass
class NewNodeClaim:
    """A NodeClaim the simulation would launch: its pool, requirements, pods and instance-type options."""

    nodepool: str
    requirements: dict[str, ValueSet]
    options: list[InstanceType]
    pods: list[Pod] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SchedulingResult:
    """New NodeClaims, pod -> error for pods that did not schedule, and which pods were pending."""

    new_claims: tuple[NewNodeClaim, ...]
    pod_errors: Mapping[str, str]
    pending: frozenset[str]

    def non_pending_errors(self) -> dict[str, str]:
        return {k: v for k, v in self.pod_errors.items() if k not in self.pending}

    def all_non_pending_scheduled(self) -> bool:
        return not self.non_pending_errors()

    def non_pending_errors_sentence(self) -> str:
        """`pretty.Sentence(Results.NonPendingPodSchedulingErrors())`: at most five pods, then a count."""
        errs = self.non_pending_errors()
        if not errs:
            return "No Pod Scheduling Errors"
        shown = " ".join(f"{pod} => {err}" for pod, err in list(errs.items())[:5])
        more = f"  and {len(errs) - 5} other(s)" if len(errs) > 5 else " "
        return f"Not all pods would schedule, {shown}{more}"


@dataclass
class _Existing:
    node: Node
    remaining: dict[str, int]
    labels: dict[str, str]


def _pod_selector_requirements(pod: Pod) -> dict[str, ValueSet]:
    return {k: ValueSet(frozenset({v})) for k, v in pod.node_selector.items()}


def _fits_existing(pod: Pod, dest: _Existing) -> bool:
    spec = PodSpec(name=pod.name, labels=dict(pod.labels), node_selector=dict(pod.node_selector))
    if not matches_node_selector(spec, dest.labels):
        return False
    return all(v <= dest.remaining.get(k, 0) for k, v in pod_requests(pod).items())


def _options(
    cluster: Cluster, reqs: Mapping[str, ValueSet], its: Sequence[InstanceType], requests: Resources
) -> list[InstanceType]:
    """Instance types that intersect the requirements, fit the requests, and can launch."""
    return [
        it
        for it in its
        if instance_type_compatible(it, reqs) and fits(it, requests) and compatible_offerings(it, reqs)
    ]


def _relax_or_fail(
    cluster: Cluster, reqs: dict[str, ValueSet], options: list[InstanceType]
) -> list[InstanceType]:
    """minValues: Strict leaves no options when unmet; BestEffort lowers minValues to what is achieved."""
    _, unmet = min_values_prefix(reqs, options)
    if not unmet:
        return options
    if cluster.options.min_values_policy != "BestEffort":
        return []
    for key in unmet:
        achieved = len({v for it in options for v in label_values(it, key) if reqs[key].allows(v)})
        reqs[key] = ValueSet(reqs[key].values, reqs[key].complement, achieved)
    return options


def _new_claim(cluster: Cluster, pod: Pod) -> NewNodeClaim | None:
    """A new NodeClaim for the pod from the first NodePool (weight desc, then name) that admits it."""
    pod_reqs = _pod_selector_requirements(pod)
    requests = pod_requests(pod)
    for pool in sorted(cluster.nodepools, key=lambda p: (-p.weight, p.name)):
        if pool.replicas is not None or pool.instance_types_error:
            continue
        its = cluster.pool_instance_types(pool)
        if not its:
            continue
        base = pool_requirements(pool)
        if not compatible(base, pod_reqs):
            continue
        reqs = merge(base, pod_reqs)
        options = _relax_or_fail(cluster, reqs, _options(cluster, reqs, its, requests))
        if options:
            return NewNodeClaim(pool.name, reqs, options, [pod], requests)
    return None


def _add_to_inflight(cluster: Cluster, claim: NewNodeClaim, pod: Pod) -> bool:
    pod_reqs = _pod_selector_requirements(pod)
    if not compatible(claim.requirements, pod_reqs):
        return False
    reqs = merge(claim.requirements, pod_reqs)
    requests = _add(claim.requests, pod_requests(pod))
    options = _options(cluster, reqs, claim.options, requests)
    _, unmet = min_values_prefix(reqs, options)
    if not options or unmet:
        return False
    claim.requirements, claim.options, claim.requests = reqs, options, requests
    claim.pods.append(pod)
    return True


def _currently_reschedulable(cluster: Cluster, pod: Pod) -> bool:
    """`IsCurrentlyReschedulable`: not under do-not-disrupt and not behind a fully blocking PDB."""
    if do_not_disrupt_active(pod, cluster.now):
        return False
    return not pdb_blockers(pod, cluster.pdbs, cluster.now, fully=True)


def _first_fit(cluster: Cluster, pod: Pod, dests: Sequence[_Existing], gated: bool) -> _Existing | None:
    """The first existing node the pod fits on; `gated` skips nodes still under consolidateAfter."""
    for dest in dests:
        pool = cluster.nodepool(dest.node.nodepool)
        if gated and is_under_consolidate_after(dest.node, pool, cluster.now):
            continue
        if _fits_existing(pod, dest):
            return dest
    return None


def simulate_scheduling(
    cluster: Cluster, candidates: Sequence[Candidate], enforce_consolidate_after: bool
) -> SchedulingResult:
    """Place pending pods, the candidates' pods and the pods of deleting nodes on what remains."""
    names = {c.name for c in candidates}
    pending = [p for p in cluster.pods if p.node is None and p.unschedulable]
    moving = [p for c in candidates for p in c.reschedulable if _currently_reschedulable(cluster, p)]
    deleting_nodes = {n.name for n in cluster.nodes if n.deleting and n.name not in names}
    from_deleting = [
        p
        for p in cluster.pods
        if p.node in deleting_nodes and is_reschedulable(p) and _currently_reschedulable(cluster, p)
    ]
    pods = sorted(
        pending + moving + from_deleting,
        key=lambda p: (-p.requests.get("cpu", 0), -p.requests.get("memory", 0)),
    )
    pending_keys = frozenset(p.key for p in pending)
    deleting_keys = {p.key for p in from_deleting}
    dests: list[_Existing] = []
    for node in sorted(cluster.nodes, key=lambda n: (not n.initialized, n.name)):
        if node.name in names or node.deleting or not node.has_node:
            continue
        used: dict[str, int] = {}
        for p in cluster.pods:
            if p.node == node.name and not p.terminal:
                used = _add(used, pod_requests(p))
        remaining = {k: v - used.get(k, 0) for k, v in node.allocatable.items()}
        for k, v in used.items():
            remaining.setdefault(k, -v)
        dests.append(_Existing(node, remaining, node.all_labels()))
    claims: list[NewNodeClaim] = []
    errors: dict[str, str] = {}
    for pod in pods:
        gated = enforce_consolidate_after and pod.key not in pending_keys and pod.key not in deleting_keys
        dest = _first_fit(cluster, pod, dests, gated)
        if dest is not None:
            dest.remaining = _add(dest.remaining, {k: -v for k, v in pod_requests(pod).items()})
            if not dest.node.initialized and pod.key not in deleting_keys:
                name = dest.node.name
                errors[pod.key] = f"would schedule against uninitialized nodeclaim/{name}, node/{name}"
            continue
        if any(_add_to_inflight(cluster, c, pod) for c in sorted(claims, key=lambda c: len(c.pods))):
            continue
        claim = _new_claim(cluster, pod)
        if claim is None:
            errors[pod.key] = (
                "incompatible with all nodepools: no instance type satisfied resources and requirements"
            )
        else:
            claims.append(claim)
    return SchedulingResult(tuple(claims), errors, pending_keys)
