"""kube-scheduler as a pure function: default filter plugins, default score plugins and weights.

`schedule(pod, nodes, rng)` places one pod the way kube-scheduler v1.31 with the default profile
does (see ../shared/reference/k8s_timings.md §2): run the filters on every node, score the feasible
ones with the default plugin weights, pick the best, break ties uniformly at random. On failure it
returns Kubernetes' FitError message ("0/9 nodes are available: 3 Insufficient cpu, ...").
`filter_node` is the per-node filter other controllers (the cluster autoscaler) reuse.

Upstream sources (kubernetes/kubernetes, as vendored in kubernetes/autoscaler
cluster-autoscaler-release-1.31), paraphrased, no code copied:
  pkg/scheduler/apis/config/v1/default_plugins.go   plugin order and score weights
  pkg/scheduler/apis/config/v1/defaults.go          LeastAllocated, hardPodAffinityWeight, System spread
  pkg/scheduler/framework/plugins/...               the plugins named in each function's docstring
  pkg/scheduler/framework/types.go                  FitError text
  pkg/scheduler/schedule_one.go                     selectHost tie-break, "no nodes available"

Modelling notes: one namespace; label selectors are matchLabels only; a node without a
`kubernetes.io/hostname` label is treated as labelled with its name (the kubelet always sets it);
a pod requesting 0 CPU/memory counts as "unset" for the non-zero scoring defaults; every node is
evaluated (percentageOfNodesToScore is a no-op below 100 nodes); ImageLocality, NodePorts and the
volume plugins are not modelled (no images, ports or volumes in PodSpec).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from simkit.control.types import (
    DEFAULT_MEMORY_REQUEST_MIB,
    DEFAULT_MILLI_CPU_REQUEST,
    HOSTNAME_LABEL,
    ZONE_LABEL,
    BoundPodAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    NodeView,
    PodAffinityTerm,
    PodSpec,
    Taint,
    Toleration,
    TopologySpreadConstraint,
)
from simkit.units import MIB

__all__ = [
    "Placement",
    "filter_node",
    "filter_reasons",
    "node_filter",
    "schedule",
    "fit_error_message",
    "tolerates",
    "untolerated_taint_reason",
    "matches_node_selector",
    "pod_fits_resources",
    "insufficient_resources",
    "node_labels",
    "SCORE_WEIGHTS",
]

# --- constants -----------------------------------------------------------------------------------

# Score weights of the default profile (pkg/scheduler/apis/config/v1/default_plugins.go, v1.31).
# ImageLocality (weight 1) is left out: without images it gives every node the same score.
SCORE_WEIGHTS: Mapping[str, int] = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    "NodeResourcesFit": 1,
    "NodeResourcesBalancedAllocation": 1,
}
MAX_NODE_SCORE = 100  # framework.MaxNodeScore (pkg/scheduler/framework/interface.go)
HARD_POD_AFFINITY_WEIGHT = 1  # InterPodAffinityArgs default (pkg/scheduler/apis/config/v1/defaults.go)

# System default spreading (podtopologyspread/plugin.go systemDefaultConstraints).
DEFAULT_HOSTNAME_MAX_SKEW = 3
DEFAULT_ZONE_MAX_SKEW = 5

# Filter failure reasons, in Kubernetes' wording (the ErrReason* constants of each plugin).
REASON_UNSCHEDULABLE = "node(s) were unschedulable"  # nodeunschedulable/node_unschedulable.go
REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"  # nodeaffinity ErrReasonPod
REASON_TOO_MANY_PODS = "Too many pods"  # noderesources/fit.go
REASON_INSUFFICIENT_CPU = "Insufficient cpu"
REASON_INSUFFICIENT_MEMORY = "Insufficient memory"
REASON_SPREAD = "node(s) didn't match pod topology spread constraints"  # podtopologyspread/filtering.go
REASON_SPREAD_MISSING_LABEL = REASON_SPREAD + " (missing required label)"
REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules"  # interpodaffinity/filtering.go
REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
NO_NODES_MESSAGE = "no nodes available to schedule pods"  # schedule_one.go ErrNoNodesAvailable

# A cordoned node is passed by pods tolerating this taint (nodeunschedulable/node_unschedulable.go).
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", effect="NoSchedule")
_FILTER_EFFECTS = frozenset({"NoSchedule", "NoExecute"})

Labels = Mapping[str, str]


# --- result --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where a pod goes and why: the scheduler's decision with Kubernetes' reason and message.

    `reason` is "Scheduled" or "Unschedulable"; `scores` holds the weighted total per feasible node,
    `plugin_scores` its per-plugin parts, `failures` the filter reasons of each infeasible node.
    """

    node: str | None
    reason: str
    message: str
    scores: Mapping[str, int] = field(default_factory=dict)
    plugin_scores: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    failures: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def scheduled(self) -> bool:
        return self.node is not None


# --- small helpers -------------------------------------------------------------------------------


def node_labels(node: NodeView) -> Labels:
    """The node's labels, with `kubernetes.io/hostname` defaulted to the node name."""
    if HOSTNAME_LABEL in node.labels:
        return node.labels
    return {**node.labels, HOSTNAME_LABEL: node.name}


def _selects(selector: Labels, labels: Labels) -> bool:
    """matchLabels semantics: every selector pair is present in `labels` (empty selects all)."""
    return selector.items() <= labels.items()


def _count_matching(selector: Labels, pods: Iterable[Labels]) -> int:
    """How many of the pods (given by their labels) the selector matches."""
    items = selector.items()
    return sum(1 for labels in pods if items <= labels.items())


def _mem_bytes(mib: float) -> int:
    return round(mib * MIB)  # memory is compared and scored in integer bytes, as upstream does


# --- TaintToleration / NodeUnschedulable ---------------------------------------------------------


def _tolerates_one(toleration: Toleration, taint: Taint) -> bool:
    """One toleration vs one taint (ToleratesTaint in k8s.io/api core/v1 toleration.go)."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return False


def tolerates(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    """True if any toleration tolerates the taint (Equal/Exists, empty key + Exists, empty effect)."""
    return any(_tolerates_one(t, taint) for t in tolerations)


def _untolerated_taint(pod: PodSpec, node: NodeView) -> Taint | None:
    """The first NoSchedule/NoExecute taint the pod does not tolerate (tainttoleration Filter)."""
    for taint in node.taints:
        if taint.effect in _FILTER_EFFECTS and not tolerates(pod.tolerations, taint):
            return taint
    return None


def _taint_reason(taint: Taint) -> str:
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


def untolerated_taint_reason(pod: PodSpec, node: NodeView) -> str | None:
    """The TaintToleration filter alone: its FitError reason, or None if every taint is tolerated."""
    taint = _untolerated_taint(pod, node)
    return None if taint is None else _taint_reason(taint)


# --- NodeAffinity --------------------------------------------------------------------------------


def _parse_int(text: str) -> int | None:
    """Parse like Go's strconv.ParseInt(s, 10, 64): optional sign and decimal digits only."""
    digits = text[1:] if text[:1] in "+-" else text
    return int(text) if digits.isascii() and digits.isdigit() else None


def _requirement_matches(req: NodeSelectorRequirement, labels: Labels) -> bool:
    """One node selector requirement: In, NotIn, Exists, DoesNotExist, Gt, Lt."""
    value = labels.get(req.key)
    op = req.operator
    if op == "In":
        return value is not None and value in req.values
    if op == "NotIn":
        return value is None or value not in req.values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and len(req.values) == 1:
        lhs, rhs = _parse_int(value), _parse_int(req.values[0])
        if lhs is None or rhs is None:
            return False
        return lhs > rhs if op == "Gt" else lhs < rhs
    return False


def _term_matches(term: NodeSelectorTerm, labels: Labels) -> bool:
    """AND of the term's requirements; an empty term matches nothing, as in Kubernetes."""
    exprs = term.match_expressions
    return bool(exprs) and all(_requirement_matches(r, labels) for r in exprs)


def matches_node_selector(pod: PodSpec, labels: Labels) -> bool:
    """nodeSelector AND (OR of required node affinity terms), against the node's labels."""
    if not _selects(pod.node_selector, labels):
        return False
    terms = pod.required_node_affinity
    return not terms or any(_term_matches(t, labels) for t in terms)


# --- NodeResourcesFit ----------------------------------------------------------------------------


def insufficient_resources(pod: PodSpec, node: NodeView) -> tuple[str, ...]:
    """Every resource the node lacks for the pod, in upstream order (noderesources/fit.go fitsRequest).

    Uses the real requests; a zero request always fits, even on an over-committed node.
    """
    reasons: list[str] = []
    if node.alloc_pods is not None and len(node.pod_labels) + 1 > node.alloc_pods:
        reasons.append(REASON_TOO_MANY_PODS)
    if pod.cpu_m > 0 and pod.cpu_m > node.alloc_cpu_m - node.requested_cpu_m:
        reasons.append(REASON_INSUFFICIENT_CPU)
    mem = _mem_bytes(pod.mem_mib)
    if mem > 0 and mem > _mem_bytes(node.alloc_mem_mib) - _mem_bytes(node.requested_mem_mib):
        reasons.append(REASON_INSUFFICIENT_MEMORY)
    return tuple(reasons)


def pod_fits_resources(pod: PodSpec, node: NodeView) -> bool:
    """True if the pod's requests fit in the node's allocatable minus what is already requested."""
    return not insufficient_resources(pod, node)


# --- per-call cluster state (upstream PreFilter) ------------------------------------------------


@dataclass(frozen=True)
class _SpreadDomains:
    """One DoNotSchedule constraint's matching-pod count per domain and its global minimum."""

    constraint: TopologySpreadConstraint
    counts: Mapping[str, int]
    min_match: int
    self_match: int


TopologyPair = tuple[str, str]


class _Cluster:
    """State computed once per (pod, cluster) and shared by every per-node check and score.

    Each part is computed lazily, so a pod without spread or affinity constraints pays only for
    what it uses. Never mutates the pod or the nodes.
    """

    def __init__(self, pod: PodSpec, nodes: Sequence[NodeView]) -> None:
        self.pod = pod
        self.nodes = tuple(nodes)
        self._match_cache: dict[tuple[tuple[str, str], ...], list[int]] = {}

    @cached_property
    def labels(self) -> list[Labels]:
        return [node_labels(n) for n in self.nodes]

    @cached_property
    def eligible(self) -> list[bool]:
        """Nodes passing the pod's node affinity/selector: the only ones spreading counts."""
        return [matches_node_selector(self.pod, labels) for labels in self.labels]

    def matching(self, selector: Labels) -> list[int]:
        """Per node, how many bound pods `selector` matches (memoised per selector)."""
        key = tuple(sorted(selector.items()))
        counts = self._match_cache.get(key)
        if counts is None:
            counts = [_count_matching(selector, n.pod_labels) for n in self.nodes]
            self._match_cache[key] = counts
        return counts

    def spread_matching(self, selector: Labels) -> list[int]:
        """Per node, how many bound, non-terminating pods `selector` matches (what spreading counts)."""
        if all(n.spread_pod_labels is None for n in self.nodes):
            return self.matching(selector)
        return [
            _count_matching(selector, n.pod_labels if n.spread_pod_labels is None else n.spread_pod_labels)
            for n in self.nodes
        ]

    @cached_property
    def spread(self) -> list[_SpreadDomains]:
        """PodTopologySpread PreFilter (podtopologyspread/filtering.go calPreFilterState)."""
        constraints = [c for c in self.pod.topology_spread if c.when_unsatisfiable == "DoNotSchedule"]
        if not constraints:
            return []
        keys = [c.topology_key for c in constraints]
        domains: list[dict[str, int]] = [{} for _ in constraints]
        per_node = [self.spread_matching(c.match_labels) for c in constraints]
        for i, labels in enumerate(self.labels):
            if not self.eligible[i] or any(k not in labels for k in keys):
                continue
            for j, key in enumerate(keys):
                value = labels[key]
                domains[j][value] = domains[j].get(value, 0) + per_node[j][i]
        return [_spread_domains(self.pod, c, d) for c, d in zip(constraints, domains, strict=True)]

    @cached_property
    def affinity_counts(self) -> dict[TopologyPair, int]:
        """Pods matching ALL the incoming pod's required affinity terms, per topology pair."""
        terms = self.pod.required_pod_affinity
        counts: dict[TopologyPair, int] = {}
        if not terms:
            return counts
        for node, labels in zip(self.nodes, self.labels, strict=True):
            n = sum(1 for pl in node.pod_labels if all(_selects(t.match_labels, pl) for t in terms))
            if n:
                for t in terms:
                    _add_pair(counts, t.topology_key, labels, n)
        return counts

    @cached_property
    def anti_affinity_counts(self) -> dict[TopologyPair, int]:
        """Pods matching each of the incoming pod's required anti-affinity terms, per topology pair."""
        counts: dict[TopologyPair, int] = {}
        for term in self.pod.required_pod_anti_affinity:
            for n, labels in zip(self.matching(term.match_labels), self.labels, strict=True):
                if n:
                    _add_pair(counts, term.topology_key, labels, n)
        return counts

    @cached_property
    def existing_anti_affinity_counts(self) -> dict[TopologyPair, int]:
        """Existing pods' required anti-affinity terms that match the incoming pod (symmetry)."""
        counts: dict[TopologyPair, int] = {}
        for i, node in enumerate(self.nodes):
            for bound in node.pod_affinity:
                for term in bound.required_anti_affinity:
                    if _selects(term.match_labels, self.pod.labels):
                        _add_pair(counts, term.topology_key, self.labels[i], 1)
        return counts


def _add_pair(counts: dict[TopologyPair, int], key: str, labels: Labels, n: int) -> None:
    value = labels.get(key)
    if value is not None:
        counts[(key, value)] = counts.get((key, value), 0) + n


def _spread_domains(pod: PodSpec, c: TopologySpreadConstraint, counts: dict[str, int]) -> _SpreadDomains:
    """Global minimum over the domains; 0 while fewer than minDomains domains exist."""
    min_match = min(counts.values()) if counts else 2**31 - 1  # upstream starts at MaxInt32
    if c.min_domains is not None and len(counts) < c.min_domains:
        min_match = 0
    return _SpreadDomains(c, counts, min_match, int(_selects(c.match_labels, pod.labels)))


# --- the per-node filter chain -------------------------------------------------------------------


def _spread_reason(cluster: _Cluster, labels: Labels) -> str | None:
    """PodTopologySpread Filter: skew = domain count + self - global min must not exceed maxSkew."""
    for d in cluster.spread:
        value = labels.get(d.constraint.topology_key)
        if value is None:
            return REASON_SPREAD_MISSING_LABEL
        if d.counts.get(value, 0) + d.self_match - d.min_match > d.constraint.max_skew:
            return REASON_SPREAD
    return None


def _pod_affinity_ok(cluster: _Cluster, labels: Labels) -> bool:
    """Required affinity: a matching pod in every term's domain, or the first-pod exception."""
    terms = cluster.pod.required_pod_affinity
    if not terms:
        return True
    if any(t.topology_key not in labels for t in terms):
        return False
    counts = cluster.affinity_counts
    if all(counts.get((t.topology_key, labels[t.topology_key]), 0) > 0 for t in terms):
        return True
    # No pod anywhere matches yet and the pod matches its own terms: let the first one in.
    return not counts and all(_selects(t.match_labels, cluster.pod.labels) for t in terms)


def _pod_anti_affinity_ok(cluster: _Cluster, labels: Labels) -> bool:
    counts = cluster.anti_affinity_counts
    for t in cluster.pod.required_pod_anti_affinity:
        value = labels.get(t.topology_key)
        if value is not None and counts.get((t.topology_key, value), 0) > 0:
            return False
    return True


def _inter_pod_affinity_reason(cluster: _Cluster, labels: Labels) -> str | None:
    """InterPodAffinity Filter, in upstream order: affinity, anti-affinity, existing anti-affinity."""
    if not _pod_affinity_ok(cluster, labels):
        return REASON_POD_AFFINITY
    if not _pod_anti_affinity_ok(cluster, labels):
        return REASON_POD_ANTI_AFFINITY
    existing = cluster.existing_anti_affinity_counts
    if existing and any(existing.get(pair, 0) > 0 for pair in labels.items()):
        return REASON_EXISTING_ANTI_AFFINITY
    return None


def _filter_reasons(cluster: _Cluster, node: NodeView, labels: Labels) -> tuple[str, ...]:
    """Run the filters in default-profile order; stop at the first plugin that rejects the node."""
    pod = cluster.pod
    if node.unschedulable and not tolerates(pod.tolerations, UNSCHEDULABLE_TAINT):
        return (REASON_UNSCHEDULABLE,)
    taint = _untolerated_taint(pod, node)
    if taint is not None:
        return (_taint_reason(taint),)
    if not matches_node_selector(pod, labels):
        return (REASON_NODE_AFFINITY,)
    missing = insufficient_resources(pod, node)
    if missing:
        return missing
    reason = _spread_reason(cluster, labels) or _inter_pod_affinity_reason(cluster, labels)
    return (reason,) if reason else ()


# One-entry memo so repeated filter_node calls over the same pod and cluster (the cluster
# autoscaler's loop over nodes) share the cluster-wide counts. Keyed by object identity and holding
# the objects themselves, so a hit can only mean the very same (immutable) inputs.
_LAST_CLUSTER: list[_Cluster] = []


def _cluster_with(nodes: Sequence[NodeView], node: NodeView) -> tuple[NodeView, ...]:
    """The cluster as `node` sees it: `nodes` with `node` in place of its namesake, or appended."""
    for i, other in enumerate(nodes):
        if other is node:
            return tuple(nodes)
        if other.name == node.name:
            return (*nodes[:i], node, *nodes[i + 1 :])
    return (*nodes, node)


def _cluster_for(pod: PodSpec, nodes: tuple[NodeView, ...]) -> _Cluster:
    cached = _LAST_CLUSTER[0] if _LAST_CLUSTER else None
    if (
        cached is not None
        and cached.pod is pod
        and len(cached.nodes) == len(nodes)
        and all(a is b for a, b in zip(cached.nodes, nodes, strict=True))
    ):
        return cached
    cluster = _Cluster(pod, nodes)
    _LAST_CLUSTER[:] = [cluster]
    return cluster


def filter_reasons(pod: PodSpec, node: NodeView, nodes: Sequence[NodeView]) -> tuple[str, ...]:
    """All reasons the first failing filter gives for `node` (NodeResourcesFit may give several)."""
    cluster = _cluster_for(pod, _cluster_with(nodes, node))
    return _filter_reasons(cluster, node, node_labels(node))


def filter_node(pod: PodSpec, node: NodeView, nodes: Sequence[NodeView]) -> str | None:
    """None if `pod` passes every default filter on `node`, else the (first) reason in k8s wording.

    `nodes` is the whole cluster, for anti-affinity and topology-spread counting; if `node` is not
    in it (a template node), it is counted as if it were. When NodeResourcesFit lacks both cpu and
    memory this returns "Insufficient cpu"; `filter_reasons` gives all of them.
    """
    reasons = filter_reasons(pod, node, nodes)
    return reasons[0] if reasons else None


def node_filter(pod: PodSpec, nodes: Sequence[NodeView]) -> Callable[[NodeView], str | None]:
    """`filter_node` with the cluster-wide counts computed once, for checking many nodes of `nodes`."""
    cluster = _Cluster(pod, nodes)

    def check(node: NodeView) -> str | None:
        reasons = _filter_reasons(cluster, node, node_labels(node))
        return reasons[0] if reasons else None

    return check


def fit_error_message(num_nodes: int, reasons: Iterable[Iterable[str]]) -> str:
    """FitError text: "0/N nodes are available: <count reason>, ... ." sorted as strings, as upstream."""
    counts = Counter(r for node_reasons in reasons for r in node_reasons)
    histogram = sorted(f"{n} {reason}" for reason, n in counts.items())
    message = f"0/{num_nodes} nodes are available:"
    if histogram:
        message += " " + ", ".join(histogram) + "."
    return message


# --- scoring -------------------------------------------------------------------------------------


def _default_normalize(raw: Sequence[int], reverse: bool) -> list[int]:
    """framework DefaultNormalizeScore: scale to 0..100 by the max (integer), optionally reversed."""
    top = max(raw, default=0)
    if top == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in raw]
    scaled = [MAX_NODE_SCORE * r // top for r in raw]
    return [MAX_NODE_SCORE - s for s in scaled] if reverse else scaled


def _taint_toleration_scores(pod: PodSpec, nodes: Sequence[NodeView]) -> list[int]:
    """Fewer untolerated PreferNoSchedule taints score higher (tainttoleration/taint_toleration.go)."""
    tolerations = [t for t in pod.tolerations if t.effect in ("", "PreferNoSchedule")]
    raw = [
        sum(1 for t in n.taints if t.effect == "PreferNoSchedule" and not tolerates(tolerations, t))
        for n in nodes
    ]
    return _default_normalize(raw, reverse=True)


def _node_affinity_scores(pod: PodSpec, labels: Sequence[Labels]) -> list[int]:
    """Sum of matched preferred term weights, scaled by the max (nodeaffinity/node_affinity.go)."""
    terms = [t for t in pod.preferred_node_affinity if t.weight]
    raw = [sum(t.weight for t in terms if _term_matches(t.preference, lab)) for lab in labels]
    return _default_normalize(raw, reverse=False)


def _least_allocated_score(pod: PodSpec, node: NodeView) -> int:
    """LeastAllocated over cpu and memory, weight 1 each, integer math (least_allocated.go)."""
    cpu = node.nonzero_cpu_m + (pod.cpu_m or DEFAULT_MILLI_CPU_REQUEST)
    mem = _mem_bytes(node.nonzero_mem_mib) + _mem_bytes(pod.mem_mib or DEFAULT_MEMORY_REQUEST_MIB)
    total = weights = 0
    for requested, alloc in ((cpu, node.alloc_cpu_m), (mem, _mem_bytes(node.alloc_mem_mib))):
        if alloc <= 0:
            continue
        total += 0 if requested > alloc else (alloc - requested) * MAX_NODE_SCORE // alloc
        weights += 1
    return total // weights if weights else 0


def _balanced_allocation_score(pod: PodSpec, node: NodeView) -> int:
    """1 - |f_cpu - f_mem|/2 with real requests, fractions capped at 1 (balanced_allocation.go)."""
    cpu = node.requested_cpu_m + pod.cpu_m
    mem = _mem_bytes(node.requested_mem_mib) + _mem_bytes(pod.mem_mib)
    fractions = [
        min(requested / alloc, 1.0)
        for requested, alloc in ((cpu, node.alloc_cpu_m), (mem, _mem_bytes(node.alloc_mem_mib)))
        if alloc > 0
    ]
    std = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
    return int((1 - std) * MAX_NODE_SCORE)


def _scoring_spread_constraints(pod: PodSpec) -> tuple[tuple[TopologySpreadConstraint, ...], bool]:
    """The pod's ScheduleAnyway constraints, or the system defaults; second item: system-defaulted.

    Defaults apply only to a pod with no constraints of its own that a controller selects; the
    controller's selector is approximated by the pod's labels (none -> no default spreading).
    """
    if pod.topology_spread:
        own = tuple(c for c in pod.topology_spread if c.when_unsatisfiable == "ScheduleAnyway")
        return own, False
    if not (pod.selected_by_controller and pod.labels):
        return (), False
    defaults = (
        TopologySpreadConstraint(DEFAULT_HOSTNAME_MAX_SKEW, HOSTNAME_LABEL, "ScheduleAnyway", pod.labels),
        TopologySpreadConstraint(DEFAULT_ZONE_MAX_SKEW, ZONE_LABEL, "ScheduleAnyway", pod.labels),
    )
    return defaults, True


def _spread_domain_counts(
    cluster: _Cluster, c: TopologySpreadConstraint, domains: dict[str, int], required_keys: Sequence[str]
) -> None:
    """Add matching pods of every eligible node to the candidate domains (scoring.go PreScore).

    Only nodes passing the pod's node affinity count, and with user constraints only nodes that
    carry every constraint's key (`required_keys`; empty for the system defaults).
    """
    per_node = cluster.spread_matching(c.match_labels)
    for i, labels in enumerate(cluster.labels):
        if not cluster.eligible[i] or any(k not in labels for k in required_keys):
            continue
        value = labels.get(c.topology_key)
        if value is not None and value in domains:
            domains[value] += per_node[i]


def _spread_scores(cluster: _Cluster, feasible: Sequence[int]) -> list[int]:
    """PodTopologySpread score: fewer matching pods in a node's domains scores higher (scoring.go).

    Raw = round(sum over constraints of cnt * ln(domains + 2) + maxSkew - 1); normalized as
    100 * (max + min - raw) / max. Nodes lacking a key of user constraints score 0.
    """
    constraints, system = _scoring_spread_constraints(cluster.pod)
    if not constraints:
        return [0] * len(feasible)
    labels = [cluster.labels[i] for i in feasible]
    ignored = [not system and any(c.topology_key not in lab for c in constraints) for lab in labels]
    candidates = [lab for lab, ig in zip(labels, ignored, strict=True) if not ig]
    required_keys = [] if system else [c.topology_key for c in constraints]
    counted: list[tuple[TopologySpreadConstraint, dict[str, int], float, list[int]]] = []
    for c in constraints:
        domains = {lab[c.topology_key]: 0 for lab in candidates if c.topology_key in lab}
        size = len(candidates) if c.topology_key == HOSTNAME_LABEL else len(domains)
        if c.topology_key != HOSTNAME_LABEL:
            _spread_domain_counts(cluster, c, domains, required_keys)
        counted.append((c, domains, math.log(size + 2), cluster.spread_matching(c.match_labels)))
    raw: list[int] = []
    for i, lab, ig in zip(feasible, labels, ignored, strict=True):
        score = 0.0
        for c, domains, weight, per_node in counted:
            value = lab.get(c.topology_key)
            if ig or value is None:
                continue
            cnt = per_node[i] if c.topology_key == HOSTNAME_LABEL else domains[value]
            score += cnt * weight + (c.max_skew - 1)
        raw.append(math.floor(score + 0.5))  # Go math.Round; score is never negative
    return _normalize_spread(raw, ignored)


def _normalize_spread(raw: Sequence[int], ignored: Sequence[bool]) -> list[int]:
    kept = [r for r, ig in zip(raw, ignored, strict=True) if not ig]
    low, high = min(kept, default=0), max(kept, default=0)
    out: list[int] = []
    for r, ig in zip(raw, ignored, strict=True):
        if ig:
            out.append(0)
        elif high == 0:
            out.append(MAX_NODE_SCORE)
        else:
            out.append(MAX_NODE_SCORE * (high + low - r) // high)
    return out


def _affinity_topology_scores(cluster: _Cluster) -> dict[TopologyPair, int]:
    """Per topology pair, the InterPodAffinity score contributions (interpodaffinity/scoring.go)."""
    pod = cluster.pod
    scores: dict[TopologyPair, int] = {}
    weighted = [(t, t.weight) for t in pod.preferred_pod_affinity]
    weighted += [(t, -t.weight) for t in pod.preferred_pod_anti_affinity]
    for term, weight in weighted:  # incoming pod's preferred terms vs existing pods
        for n, labels in zip(cluster.matching(term.match_labels), cluster.labels, strict=True):
            if n:
                _add_pair(scores, term.topology_key, labels, n * weight)
    for node, labels in zip(cluster.nodes, cluster.labels, strict=True):
        for bound in node.pod_affinity:  # existing pods' terms vs the incoming pod (symmetry)
            for term, weight in _existing_pod_weighted_terms(bound):
                if _selects(term.match_labels, pod.labels):
                    _add_pair(scores, term.topology_key, labels, weight)
    return scores


def _existing_pod_weighted_terms(bound: BoundPodAffinity) -> list[tuple[PodAffinityTerm, int]]:
    """An existing pod's scoring terms: required affinity at hardPodAffinityWeight, preferred ±weight."""
    terms = [(t, HARD_POD_AFFINITY_WEIGHT) for t in bound.required_affinity]
    terms += [(t, t.weight) for t in bound.preferred_affinity]
    terms += [(t, -t.weight) for t in bound.preferred_anti_affinity]
    return terms


def _inter_pod_affinity_scores(cluster: _Cluster, feasible: Sequence[int]) -> list[int]:
    """Sum of the pair scores of each node's labels, min-max normalized to 0..100 (float, truncated)."""
    pairs = _affinity_topology_scores(cluster)
    if not pairs:
        return [0] * len(feasible)
    raw = [sum(pairs.get(item, 0) for item in cluster.labels[i].items()) for i in feasible]
    low, high = min(raw), max(raw)
    if high == low:
        return [0] * len(raw)
    return [int(MAX_NODE_SCORE * ((r - low) / (high - low))) for r in raw]


def _plugin_scores(cluster: _Cluster, feasible: Sequence[int]) -> dict[str, list[int]]:
    """Normalized 0..100 score of every default score plugin for each feasible node."""
    pod = cluster.pod
    nodes = [cluster.nodes[i] for i in feasible]
    return {
        "TaintToleration": _taint_toleration_scores(pod, nodes),
        "NodeAffinity": _node_affinity_scores(pod, [cluster.labels[i] for i in feasible]),
        "PodTopologySpread": _spread_scores(cluster, feasible),
        "InterPodAffinity": _inter_pod_affinity_scores(cluster, feasible),
        "NodeResourcesFit": [_least_allocated_score(pod, n) for n in nodes],
        "NodeResourcesBalancedAllocation": [_balanced_allocation_score(pod, n) for n in nodes],
    }


def _select_host(totals: Mapping[str, int], rng: np.random.Generator | None) -> str:
    """Highest total wins; ties uniformly at random (schedule_one.go selectHost), or by name."""
    best = max(totals.values())
    tied = sorted(name for name, score in totals.items() if score == best)
    if rng is None or len(tied) == 1:
        return tied[0]
    return tied[int(rng.integers(len(tied)))]


# --- entry point ---------------------------------------------------------------------------------


def schedule(pod: PodSpec, nodes: Sequence[NodeView], rng: np.random.Generator | None = None) -> Placement:
    """Place `pod` on one of `nodes` as the default kube-scheduler would; pure, inputs untouched.

    Draws from `rng` only to break a tie between equally scored nodes; without an rng the tie
    goes to the first node name.
    """
    if not nodes:
        return Placement(None, "Unschedulable", NO_NODES_MESSAGE)
    cluster = _Cluster(pod, nodes)
    feasible: list[int] = []
    failures: dict[str, tuple[str, ...]] = {}
    for i, (node, labels) in enumerate(zip(cluster.nodes, cluster.labels, strict=True)):
        reasons = _filter_reasons(cluster, node, labels)
        if reasons:
            failures[node.name] = reasons
        else:
            feasible.append(i)
    if not feasible:
        message = fit_error_message(len(cluster.nodes), failures.values())
        return Placement(None, "Unschedulable", message, failures=failures)
    per_plugin = _plugin_scores(cluster, feasible)
    breakdown = {
        cluster.nodes[i].name: {name: SCORE_WEIGHTS[name] * s[k] for name, s in per_plugin.items()}
        for k, i in enumerate(feasible)
    }
    totals = {name: sum(parts.values()) for name, parts in breakdown.items()}
    chosen = _select_host(totals, rng)
    return Placement(
        chosen, "Scheduled", f"Successfully assigned {pod.name} to {chosen}", totals, breakdown, failures
    )
