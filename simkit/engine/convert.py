"""Translate validated scenario models into the plain value types the pure controllers take."""

from __future__ import annotations

from dataclasses import replace

from simkit.control.daemonset import daemon_pod_tolerations
from simkit.control.types import (
    ZONE_LABEL,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodAffinityTerm,
    PodSpec,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
    TopologySpreadConstraint,
)
from simkit.scenario.k8s import (
    NodeSelectorTermSpec,
    PodAffinitySpec,
    PodAffinityTermSpec,
    TaintSpec,
    TolerationSpec,
)
from simkit.scenario.model import DaemonSet, Workload


def taints(specs: list[TaintSpec]) -> tuple[Taint, ...]:
    return tuple(Taint(t.key, t.value, t.effect) for t in specs)


def tolerations(specs: list[TolerationSpec]) -> tuple[Toleration, ...]:
    return tuple(Toleration(t.key, t.operator, t.value, t.effect, t.tolerationSeconds) for t in specs)


def daemon_pod_spec(ds: DaemonSet, pod_name: str = "") -> PodSpec:
    """The scheduler's view of a pod of `ds`, with the tolerations the DaemonSet controller adds."""
    return PodSpec(
        name=pod_name,
        labels=ds.pod_labels,
        cpu_m=ds.resources.requests.cpu,
        mem_mib=ds.resources.requests.memory,
        tolerations=daemon_pod_tolerations(tolerations(ds.tolerations)),
        node_selector=dict(ds.nodeSelector),
    )


def _term(spec: NodeSelectorTermSpec) -> NodeSelectorTerm:
    return NodeSelectorTerm(
        tuple(NodeSelectorRequirement(e.key, e.operator, tuple(e.values)) for e in spec.matchExpressions)
    )


def _pod_term(spec: PodAffinityTermSpec, weight: int = 0) -> PodAffinityTerm:
    return PodAffinityTerm(dict(spec.labelSelector.matchLabels), spec.topologyKey, weight)


def _pod_terms(
    spec: PodAffinitySpec | None,
) -> tuple[tuple[PodAffinityTerm, ...], tuple[PodAffinityTerm, ...]]:
    if spec is None:
        return (), ()
    required = tuple(_pod_term(t) for t in spec.requiredDuringSchedulingIgnoredDuringExecution)
    preferred = tuple(
        _pod_term(w.podAffinityTerm, w.weight) for w in spec.preferredDuringSchedulingIgnoredDuringExecution
    )
    return required, preferred


def pod_spec(workload: Workload, pod_name: str) -> PodSpec:
    """The scheduler's view of one pod of `workload`."""
    affinity = workload.affinity
    node_aff = affinity.nodeAffinity if affinity else None
    required_nodes: tuple[NodeSelectorTerm, ...] = ()
    preferred_nodes: tuple[PreferredSchedulingTerm, ...] = ()
    if node_aff is not None:
        if node_aff.requiredDuringSchedulingIgnoredDuringExecution is not None:
            required_nodes = tuple(
                _term(t) for t in node_aff.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
            )
        preferred_nodes = tuple(
            PreferredSchedulingTerm(p.weight, _term(p.preference))
            for p in node_aff.preferredDuringSchedulingIgnoredDuringExecution
        )
    req_aff, pref_aff = _pod_terms(affinity.podAffinity if affinity else None)
    req_anti, pref_anti = _pod_terms(affinity.podAntiAffinity if affinity else None)
    spread = tuple(
        TopologySpreadConstraint(
            c.maxSkew, c.topologyKey, c.whenUnsatisfiable, dict(c.labelSelector.matchLabels), c.minDomains
        )
        for c in workload.topologySpreadConstraints
    )
    return PodSpec(
        name=pod_name,
        labels=workload.pod_labels,
        cpu_m=workload.resources.requests.cpu,
        mem_mib=workload.resources.requests.memory,
        tolerations=tolerations(workload.tolerations),
        node_selector=dict(workload.nodeSelector),
        required_node_affinity=required_nodes,
        preferred_node_affinity=preferred_nodes,
        required_pod_affinity=req_aff,
        preferred_pod_affinity=pref_aff,
        required_pod_anti_affinity=req_anti,
        preferred_pod_anti_affinity=pref_anti,
        topology_spread=spread,
    )


def pin_to_zone(spec: PodSpec, zone: str) -> PodSpec:
    """Require `zone` (AND-ed into every node-affinity term), as a bound zonal volume does."""
    req = NodeSelectorRequirement(ZONE_LABEL, "In", (zone,))
    terms = spec.required_node_affinity or (NodeSelectorTerm(()),)
    pinned = tuple(NodeSelectorTerm((*t.match_expressions, req)) for t in terms)
    return replace(spec, required_node_affinity=pinned)


def ready_delay_s(workload: Workload) -> float:
    """Seconds from binding to Ready: image pull, then the app starts and the first probe succeeds.

    The readiness (or startup) probe first runs after `initialDelaySeconds` and then every
    `periodSeconds`; the pod turns Ready at the first probe after the app has started.
    """
    start = workload.startup.app_start
    probe = workload.startupProbe or workload.readinessProbe
    if probe is not None:
        delay, period = float(probe.initialDelaySeconds), float(probe.periodSeconds)
        if start > delay:
            delay += -(-(start - delay) // period) * period
        start = delay
    return workload.startup.image_pull + start
