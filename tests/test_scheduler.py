"""Table-driven placements and property tests for the pure kube-scheduler (simkit.control.scheduler).

Each placement row is a small cluster, a pod and either the node the default scheduler picks or
the exact FitError message it gives. Expected scores are worked out by hand from the upstream
formulas (see ../shared/reference/k8s_timings.md §2), not from the implementation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.control.scheduler import (
    Placement,
    filter_node,
    filter_reasons,
    matches_node_selector,
    node_filter,
    pod_fits_resources,
    schedule,
    tolerates,
)
from simkit.control.types import (
    HOSTNAME_LABEL,
    ZONE_LABEL,
    BoundPodAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    NodeView,
    PodAffinityTerm,
    PodSpec,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
    TopologySpreadConstraint,
)

WEB = {"app": "web"}
DATA_TAINT = Taint("workload", "data")
TAINT_MSG = "node(s) had untolerated taint {workload: data}"


def node(
    name: str,
    zone: str = "a",
    cpu: int = 4000,
    mem: float = 8192,
    used_cpu: int = 0,
    used_mem: float = 0,
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Taint] = (),
    pods: Sequence[Mapping[str, str]] = (),
    affinity: Sequence[BoundPodAffinity] = (),
    **kw: object,
) -> NodeView:
    """A node in `zone` with 4 CPU / 8 GiB allocatable unless told otherwise."""
    all_labels = {ZONE_LABEL: zone, HOSTNAME_LABEL: name, **(labels or {})}
    return NodeView(
        name,
        all_labels,
        tuple(taints),
        cpu,
        mem,
        used_cpu,
        used_mem,
        tuple(pods),
        pod_affinity=tuple(affinity),
        **kw,  # type: ignore[arg-type]
    )


def anti(topology: str = HOSTNAME_LABEL, labels: Mapping[str, str] = WEB, weight: int = 0) -> PodAffinityTerm:
    return PodAffinityTerm(dict(labels), topology, weight)


def spread(max_skew: int = 1, key: str = ZONE_LABEL, how: str = "DoNotSchedule", **kw: object):
    return TopologySpreadConstraint(max_skew, key, how, dict(WEB), **kw)  # type: ignore[arg-type]


def req(key: str, op: str, *values: str) -> NodeSelectorTerm:
    return NodeSelectorTerm((NodeSelectorRequirement(key, op, values),))


@dataclass(frozen=True)
class Row:
    """One placement case: expect a node name, or the exact Unschedulable message."""

    id: str
    nodes: Sequence[NodeView]
    pod: PodSpec
    node: str | None = None
    message: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


POD = PodSpec("p", cpu_m=500, mem_mib=512)
WEB_POD = PodSpec("web", labels=WEB, cpu_m=100, mem_mib=128)

FILTER_ROWS = [
    Row(
        "cpu-short-everywhere",
        [node("n1", cpu=400), node("n2", cpu=400)],
        POD,
        message="0/2 nodes are available: 2 Insufficient cpu.",
    ),
    Row(
        "memory-short", [node("n1", mem=256)], POD, message="0/1 nodes are available: 1 Insufficient memory."
    ),
    Row(
        "cpu-and-memory-short-on-one-node-counts-both",
        [node("n1", cpu=400, mem=256)],
        POD,
        message="0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.",
    ),
    Row(
        "requested-counts-against-allocatable",
        [node("n1", used_cpu=3600), node("n2", used_cpu=3500)],
        POD,
        node="n2",
    ),
    Row(
        "zero-request-fits-an-overcommitted-node",
        [node("n1", used_cpu=5000, used_mem=9000)],
        PodSpec("be"),
        node="n1",
    ),
    Row(
        "too-many-pods",
        [node("n1", pods=[{}, {}], alloc_pods=2)],
        POD,
        message="0/1 nodes are available: 1 Too many pods.",
    ),
    Row(
        "untolerated-noschedule-taint",
        [node("n1", taints=[DATA_TAINT])],
        POD,
        message=f"0/1 nodes are available: 1 {TAINT_MSG}.",
    ),
    Row(
        "untolerated-noexecute-taint",
        [node("n1", taints=[Taint("k", "v", "NoExecute")])],
        POD,
        message="0/1 nodes are available: 1 node(s) had untolerated taint {k: v}.",
    ),
    Row(
        "first-untolerated-taint-is-reported",
        [node("n1", taints=[Taint("a", "1"), DATA_TAINT])],
        PodSpec("p", tolerations=(Toleration("a", "Equal", "1"),)),
        message=f"0/1 nodes are available: 1 {TAINT_MSG}.",
    ),
    Row(
        "prefer-noschedule-does-not-filter",
        [node("n1", taints=[Taint("k", "v", "PreferNoSchedule")])],
        POD,
        node="n1",
    ),
    Row(
        "tolerated-taint",
        [node("n1", taints=[DATA_TAINT])],
        PodSpec("p", tolerations=(Toleration("workload", "Equal", "data", "NoSchedule"),)),
        node="n1",
    ),
    Row(
        "brief-example-nine-nodes",
        [node(f"c{i}", cpu=100) for i in range(3)] + [node(f"t{i}", taints=[DATA_TAINT]) for i in range(6)],
        POD,
        message=f"0/9 nodes are available: 3 Insufficient cpu, 6 {TAINT_MSG}.",
    ),
    Row(
        "cordoned",
        [node("n1", unschedulable=True)],
        POD,
        message="0/1 nodes are available: 1 node(s) were unschedulable.",
    ),
    Row(
        "cordoned-but-tolerates-unschedulable-taint",
        [node("n1", unschedulable=True)],
        PodSpec("p", tolerations=(Toleration("node.kubernetes.io/unschedulable", "Exists"),)),
        node="n1",
    ),
    Row(
        "first-failing-filter-wins-cordoned-before-cpu",
        [node("n1", cpu=100, unschedulable=True)],
        POD,
        message="0/1 nodes are available: 1 node(s) were unschedulable.",
    ),
    Row(
        "taint-before-node-affinity-before-cpu",
        [
            node("n1", cpu=100, taints=[DATA_TAINT]),
            node("n2", cpu=100),
            node("n3", cpu=100, labels={"pool": "x"}),
        ],
        PodSpec("p", cpu_m=500, node_selector={"pool": "x"}),
        message="0/3 nodes are available: 1 Insufficient cpu, "
        f"1 node(s) didn't match Pod's node affinity/selector, 1 {TAINT_MSG}.",
    ),
    Row(
        "node-selector",
        [node("n1"), node("n2", labels={"disk": "ssd"})],
        PodSpec("p", node_selector={"disk": "ssd"}),
        node="n2",
    ),
    Row(
        "node-selector-on-hostname-defaulted-from-name",
        [NodeView("n1", {}), NodeView("n2", {})],
        PodSpec("p", node_selector={HOSTNAME_LABEL: "n2"}),
        node="n2",
    ),
    Row(
        "node-selector-no-match",
        [node("n1"), node("n2")],
        PodSpec("p", node_selector={"disk": "ssd"}),
        message="0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
    ),
    Row(
        "required-affinity-terms-are-ored",
        [node("n1", labels={"x": "1"}), node("n2", labels={"y": "1"}), node("n3")],
        PodSpec("p", required_node_affinity=(req("x", "Exists"), req("y", "Exists"))),
        message=None,
        node="n1",
    ),  # n1 and n2 pass; tie -> first by name
    Row(
        "aggregated-sorted-as-strings",  # "10 ..." sorts before "2 ..." as upstream's sort.Strings does
        [node(f"c{i:02}", cpu=100) for i in range(10)]
        + [node(f"u{i}", unschedulable=True) for i in range(2)],
        POD,
        message="0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable.",
    ),
    Row(
        "aggregated-many-reasons",
        [node(f"t{i:02}", taints=[DATA_TAINT]) for i in range(12)]
        + [node(f"c{i}", cpu=100) for i in range(3)]
        + [node("m", mem=100)],
        POD,
        message=f"0/16 nodes are available: 1 Insufficient memory, 12 {TAINT_MSG}, 3 Insufficient cpu.",
    ),
    Row("empty-cluster", [], POD, message="no nodes available to schedule pods"),
]

AFFINITY_ROWS = [
    Row(
        "anti-affinity-hostname",
        [node("n1", pods=[WEB]), node("n2")],
        PodSpec("w", labels=WEB, required_pod_anti_affinity=(anti(),)),
        node="n2",
    ),
    Row(
        "anti-affinity-hostname-blocks-all",
        [node("n1", pods=[WEB]), node("n2", pods=[WEB, {"app": "db"}])],
        PodSpec("w", labels=WEB, required_pod_anti_affinity=(anti(),)),
        message="0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.",
    ),
    Row(
        "anti-affinity-zone-rejects-the-whole-zone",
        [node("a1", "a", pods=[WEB]), node("a2", "a"), node("b1", "b", used_cpu=3000)],
        PodSpec("w", labels=WEB, required_pod_anti_affinity=(anti(ZONE_LABEL),)),
        node="b1",
    ),
    Row(
        "anti-affinity-zone-message",
        [node("a1", "a", pods=[WEB]), node("a2", "a"), node("b1", "b", cpu=10)],
        PodSpec("w", labels=WEB, cpu_m=100, required_pod_anti_affinity=(anti(ZONE_LABEL),)),
        message="0/3 nodes are available: 1 Insufficient cpu, "
        "2 node(s) didn't match pod anti-affinity rules.",
    ),
    Row(
        "existing-pods-anti-affinity-is-symmetric",
        [
            node("n1", pods=[{"app": "db"}], affinity=[BoundPodAffinity(required_anti_affinity=(anti(),))]),
            node("n2", used_cpu=3000),
        ],
        WEB_POD,
        node="n2",
    ),
    Row(
        "existing-pods-anti-affinity-zone-message",
        [
            node(
                "a1",
                "a",
                pods=[{"app": "db"}],
                affinity=[BoundPodAffinity(required_anti_affinity=(anti(ZONE_LABEL),))],
            ),
            node("a2", "a"),
        ],
        WEB_POD,
        message="0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.",
    ),
    Row(
        "existing-anti-affinity-not-matching-the-pod-is-ignored",
        [node("n1", affinity=[BoundPodAffinity(required_anti_affinity=(anti(labels={"app": "db"}),))])],
        WEB_POD,
        node="n1",
    ),
    Row(
        "required-affinity-to-a-zone-with-cache",
        [
            node("a1", "a"),
            node("b1", "b", used_cpu=3000, pods=[{"app": "cache"}]),
            node("b2", "b", used_cpu=2000),
        ],
        PodSpec("p", required_pod_affinity=(anti(ZONE_LABEL, {"app": "cache"}),)),
        node="b2",
    ),
    Row(
        "required-affinity-no-match-message",
        [node("n1", pods=[{"app": "cache"}], zone="a"), node("n2", "b")],
        PodSpec("p", required_pod_affinity=(anti(ZONE_LABEL, {"app": "db"}),)),
        message="0/2 nodes are available: 2 node(s) didn't match pod affinity rules.",
    ),
    Row(
        "required-self-affinity-first-pod-goes-anywhere",
        [node("n1", used_cpu=1000), node("n2")],
        PodSpec("w", labels=WEB, required_pod_affinity=(anti(ZONE_LABEL),)),
        node="n2",
    ),
    Row(
        "affinity-before-anti-affinity",
        [node("n1", pods=[WEB])],
        PodSpec(
            "p", required_pod_affinity=(anti(ZONE_LABEL, {"app": "x"}),), required_pod_anti_affinity=(anti(),)
        ),
        message="0/1 nodes are available: 1 node(s) didn't match pod affinity rules.",
    ),
]

SPREAD_ROWS = [
    Row(
        "spread-do-not-schedule-picks-the-empty-zone",
        [node("a1", "a", pods=[WEB, WEB]), node("b1", "b", pods=[WEB]), node("c1", "c", used_cpu=3500)],
        PodSpec("w", labels=WEB, topology_spread=(spread(),)),
        node="c1",
    ),
    Row(
        "spread-blocks-placement",
        [node("a1", "a", pods=[WEB]), node("b1", "b", pods=[WEB]), node("c1", "c", cpu=50)],
        PodSpec("w", labels=WEB, cpu_m=100, topology_spread=(spread(),)),
        message="0/3 nodes are available: 1 Insufficient cpu, "
        "2 node(s) didn't match pod topology spread constraints.",
    ),
    Row(
        "spread-skew-counts-the-pod-only-if-it-matches",  # pod without app=web: 1 + 0 - 0 = 1 <= 1
        [node("a1", "a", pods=[WEB]), node("b1", "b", used_cpu=3900)],
        PodSpec("x", cpu_m=10, topology_spread=(spread(),)),
        node="a1",
    ),
    Row(
        "spread-min-domains-treats-min-as-zero",
        [node("a1", "a", pods=[WEB]), node("b1", "b", pods=[WEB])],
        PodSpec("w", labels=WEB, topology_spread=(spread(min_domains=3),)),
        message="0/2 nodes are available: 2 node(s) didn't match pod topology spread constraints.",
    ),
    Row(
        "spread-without-min-domains-passes",
        [node("a1", "a", pods=[WEB]), node("b1", "b", pods=[WEB], used_cpu=1000)],
        PodSpec("w", labels=WEB, topology_spread=(spread(),)),
        node="a1",
    ),
    Row(
        "spread-domains-only-from-nodes-passing-node-affinity",  # zone c (pool=batch) is not a domain
        [
            node("a1", "a", pods=[WEB], labels={"pool": "app"}),
            node("b1", "b", pods=[WEB], labels={"pool": "app"}, used_cpu=1000),
            node("c1", "c", labels={"pool": "batch"}),
        ],
        PodSpec("w", labels=WEB, node_selector={"pool": "app"}, topology_spread=(spread(),)),
        node="a1",
    ),
    Row(
        "spread-tainted-nodes-still-count-as-domains",  # nodeTaintsPolicy Ignore: empty zone c keeps min 0
        [node("a1", "a", pods=[WEB]), node("b1", "b", pods=[WEB]), node("c1", "c", taints=[DATA_TAINT])],
        PodSpec("w", labels=WEB, topology_spread=(spread(),)),
        message=f"0/3 nodes are available: 1 {TAINT_MSG}, "
        "2 node(s) didn't match pod topology spread constraints.",
    ),
    Row(
        "spread-missing-label",
        [NodeView("x1", {}, alloc_cpu_m=4000, alloc_mem_mib=8192)],
        PodSpec("w", labels=WEB, topology_spread=(spread(),)),
        message="0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints "
        "(missing required label).",
    ),
    Row(
        "spread-hostname-max-skew-2",
        [node("n1", pods=[WEB] * 3), node("n2", pods=[WEB], used_cpu=3000), node("n3", pods=[WEB] * 3)],
        PodSpec("w", labels=WEB, topology_spread=(spread(2, HOSTNAME_LABEL),)),
        node="n2",
    ),  # 3+1-1 > 2
]

SCORE_ROWS = [
    Row(
        "least-allocated-picks-emptier-node", [node("full", used_cpu=2000), node("empty")], POD, node="empty"
    ),
    Row(
        "least-allocated-memory-counts",
        [node("n1", used_mem=6000), node("n2", used_mem=1000)],
        POD,
        node="n2",
    ),
    Row(
        "balanced-allocation-breaks-least-allocated-tie",  # LeastAllocated 71 on both; balance 75 vs 100
        [
            node("lopsided", cpu=4000, mem=4096, used_cpu=2000),
            node("even", cpu=4000, mem=4096, used_cpu=1000, used_mem=1024),
        ],
        PodSpec("be"),
        node="even",
    ),
    Row(
        "zone-spreading-picks-the-emptier-zone",
        [node("a1", "a", pods=[WEB, WEB]), node("a2", "a"), node("b1", "b")],
        PodSpec("w", labels=WEB),
        node="b1",
    ),
    Row(
        "no-default-spreading-when-not-selected-by-a-controller",  # then a2 and b1 tie: first by name
        [node("a1", "a", pods=[WEB, WEB]), node("a2", "a"), node("b1", "b")],
        PodSpec("w", labels=WEB, selected_by_controller=False),
        node="a1",
    ),
    Row(
        "schedule-anyway-spread-prefers-the-emptier-zone",
        [node("a1", "a", pods=[WEB]), node("b1", "b", used_cpu=500)],
        PodSpec("w", labels=WEB, topology_spread=(spread(how="ScheduleAnyway"),)),
        node="b1",
    ),
    Row(
        "prefer-no-schedule-taint-avoided",
        [node("tainted", taints=[Taint("k", "v", "PreferNoSchedule")]), node("plain", used_cpu=1000)],
        POD,
        node="plain",
    ),
    Row(
        "prefer-no-schedule-tolerated",
        [node("tainted", taints=[Taint("k", "v", "PreferNoSchedule")]), node("plain", used_cpu=1000)],
        PodSpec("p", cpu_m=500, tolerations=(Toleration("k", "Exists"),)),
        node="tainted",
    ),
    Row(
        "preferred-node-affinity",
        [node("hdd"), node("ssd", labels={"disk": "ssd"}, used_cpu=2000)],
        PodSpec("p", preferred_node_affinity=(PreferredSchedulingTerm(10, req("disk", "In", "ssd")),)),
        node="ssd",
    ),
    Row(
        "preferred-pod-anti-affinity",
        [node("n1", pods=[WEB]), node("n2", pods=[{"app": "db"}], used_cpu=1000)],
        PodSpec("p", preferred_pod_anti_affinity=(anti(weight=50),)),
        node="n2",
    ),
    Row(
        "preferred-pod-affinity-zone",
        [
            node("a1", "a"),
            node("b1", "b", used_cpu=1500),
            node("b2", "b", pods=[{"app": "cache"}], used_cpu=3000),
        ],
        PodSpec("p", preferred_pod_affinity=(anti(ZONE_LABEL, {"app": "cache"}, 80),)),
        node="b1",
    ),
    Row(
        "existing-pods-required-affinity-attracts-symmetrically",  # hardPodAffinityWeight 1
        [node("n1"), node("n2", used_cpu=200, affinity=[BoundPodAffinity(required_affinity=(anti(),))])],
        WEB_POD,
        node="n2",
    ),
    Row("tie-breaks-by-name-without-rng", [node("b"), node("a"), node("c")], POD, node="a"),
]


def _run(row: Row) -> Placement:
    return schedule(row.pod, row.nodes)


@pytest.mark.parametrize("row", FILTER_ROWS + AFFINITY_ROWS + SPREAD_ROWS + SCORE_ROWS, ids=lambda r: r.id)
def test_placement(row: Row) -> None:
    placement = _run(row)
    if row.message is not None:
        assert placement.node is None
        assert placement.reason == "Unschedulable"
        assert placement.message == row.message
    else:
        assert placement.reason == "Scheduled", placement.message
        assert placement.node == row.node, placement.scores


# --- filter_node and helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodes", "pod", "expected"),
    [
        ([node("n1", cpu=400)], POD, "Insufficient cpu"),
        ([node("n1", cpu=400, mem=100)], POD, "Insufficient cpu"),  # first of the two
        ([node("n1", mem=100)], POD, "Insufficient memory"),
        ([node("n1", taints=[DATA_TAINT])], POD, TAINT_MSG),
        (
            [node("n1")],
            PodSpec("p", node_selector={"a": "b"}),
            "node(s) didn't match Pod's node affinity/selector",
        ),
        (
            [node("n1", pods=[WEB])],
            PodSpec("w", labels=WEB, required_pod_anti_affinity=(anti(),)),
            "node(s) didn't match pod anti-affinity rules",
        ),
        (
            [node("n1", pods=[WEB, WEB]), node("n2", "b")],
            PodSpec("w", labels=WEB, topology_spread=(spread(),)),
            "node(s) didn't match pod topology spread constraints",
        ),
        ([node("n1", unschedulable=True)], POD, "node(s) were unschedulable"),
        ([node("n1")], POD, None),
    ],
)
def test_filter_node_reason(nodes: list[NodeView], pod: PodSpec, expected: str | None) -> None:
    assert filter_node(pod, nodes[0], nodes) == expected
    assert node_filter(pod, nodes)(nodes[0]) == expected


def test_filter_reasons_lists_every_missing_resource() -> None:
    n = node("n1", cpu=400, mem=100)
    assert filter_reasons(POD, n, [n]) == ("Insufficient cpu", "Insufficient memory")


def test_filter_node_counts_a_template_node_outside_the_cluster() -> None:
    """A node not in `nodes` (the autoscaler's template) is a spread domain of its own."""
    cluster = [node("a1", "a", pods=[WEB]), node("b1", "b", pods=[WEB])]
    pod = PodSpec("w", labels=WEB, topology_spread=(spread(),))
    template = node("template-c", "c")
    assert filter_node(pod, template, cluster) is None
    assert filter_node(pod, cluster[0], cluster) is None  # min 1 without the template: skew 1
    assert (
        filter_node(pod, cluster[0], [*cluster, template])
        == "node(s) didn't match pod topology spread constraints"
    )


def test_filter_node_sees_an_updated_namesake() -> None:
    """Passing a newer view of a node counts its pods instead of the stale copy's."""
    old = node("n1")
    pod = PodSpec("w", labels=WEB, required_pod_anti_affinity=(anti(),))
    assert filter_node(pod, old, [old]) is None
    assert filter_node(pod, old.with_pod(WEB_POD), [old]) == "node(s) didn't match pod anti-affinity rules"


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        (Toleration("k", "Equal", "v"), Taint("k", "v", "NoSchedule"), True),  # empty effect: all effects
        (Toleration("k", "Equal", "v"), Taint("k", "v", "NoExecute"), True),
        (Toleration("k", "Equal", "w"), Taint("k", "v"), False),
        (Toleration("k", "Equal", ""), Taint("k", ""), True),
        (Toleration("k", "", "v"), Taint("k", "v"), True),  # empty operator means Equal
        (Toleration("k", "Exists"), Taint("k", "anything"), True),
        (Toleration("other", "Exists"), Taint("k", "v"), False),
        (Toleration("", "Exists"), Taint("k", "v", "NoExecute"), True),  # tolerates everything
        (Toleration("", "Exists", effect="NoSchedule"), Taint("k", "v", "NoExecute"), False),
        (Toleration("k", "Exists", effect="NoExecute"), Taint("k", "v", "NoSchedule"), False),
        (Toleration("k", "Equal", "v", "PreferNoSchedule"), Taint("k", "v", "PreferNoSchedule"), True),
        (Toleration("k", "Bogus", "v"), Taint("k", "v"), False),
    ],
)
def test_tolerates(toleration: Toleration, taint: Taint, expected: bool) -> None:
    assert tolerates([toleration], taint) is expected
    assert tolerates([], taint) is False


NODE_LABELS = {"disk": "ssd", "cores": "8", "zone": "a"}


@pytest.mark.parametrize(
    ("terms", "selector", "expected"),
    [
        ((req("disk", "In", "ssd", "nvme"),), {}, True),
        ((req("disk", "In", "hdd"),), {}, False),
        ((req("missing", "In", "x"),), {}, False),
        ((req("disk", "NotIn", "hdd"),), {}, True),
        ((req("disk", "NotIn", "ssd"),), {}, False),
        ((req("missing", "NotIn", "x"),), {}, True),  # absent label satisfies NotIn
        ((req("disk", "Exists"),), {}, True),
        ((req("missing", "Exists"),), {}, False),
        ((req("missing", "DoesNotExist"),), {}, True),
        ((req("disk", "DoesNotExist"),), {}, False),
        ((req("cores", "Gt", "4"),), {}, True),
        ((req("cores", "Gt", "8"),), {}, False),
        ((req("cores", "Lt", "16"),), {}, True),
        ((req("cores", "Lt", "8"),), {}, False),
        ((req("disk", "Gt", "4"),), {}, False),  # non-integer label
        ((req("missing", "Lt", "4"),), {}, False),
        ((req("cores", "Gt", "4", "5"),), {}, False),  # Gt takes exactly one value
        ((NodeSelectorTerm(()),), {}, False),  # an empty term matches nothing
        ((req("disk", "In", "hdd"), req("zone", "In", "a")), {}, True),  # terms OR-ed
        (
            (
                NodeSelectorTerm(
                    (
                        NodeSelectorRequirement("disk", "In", ("ssd",)),
                        NodeSelectorRequirement("zone", "In", ("b",)),
                    )
                ),
            ),
            {},
            False,
        ),  # expressions AND-ed
        ((), {"disk": "ssd"}, True),
        ((), {"disk": "ssd", "zone": "b"}, False),
        ((req("disk", "Exists"),), {"zone": "b"}, False),  # nodeSelector AND affinity
        ((), {}, True),
    ],
)
def test_matches_node_selector(
    terms: tuple[NodeSelectorTerm, ...], selector: dict[str, str], expected: bool
) -> None:
    pod = PodSpec("p", node_selector=selector, required_node_affinity=terms)
    assert matches_node_selector(pod, NODE_LABELS) is expected


@pytest.mark.parametrize(
    ("pod", "n", "fits"),
    [
        (PodSpec("p", cpu_m=1000, mem_mib=1024), node("n", cpu=1000, mem=1024), True),  # exactly full
        (PodSpec("p", cpu_m=1001), node("n", cpu=1000), False),
        (PodSpec("p", mem_mib=0.5), node("n", mem=1024, used_mem=1023.75), False),
        (PodSpec("p", cpu_m=500), node("n", cpu=1000, used_cpu=500), True),
        (PodSpec("p"), node("n", cpu=0, mem=0), True),
    ],
)
def test_pod_fits_resources(pod: PodSpec, n: NodeView, fits: bool) -> None:
    assert pod_fits_resources(pod, n) is fits


# --- scores, worked by hand ----------------------------------------------------------------------


def test_zone_spread_scores_worked_example() -> None:
    """System defaults: hostname ln(5)=1.609, zone ln(4)=1.386 per pod; raw 12, 9, 6 -> 50, 75, 100."""
    nodes = [node("a1", "a", pods=[WEB, WEB]), node("a2", "a"), node("b1", "b")]
    placement = schedule(PodSpec("w", labels=WEB), nodes)
    spread_part = {n: parts["PodTopologySpread"] for n, parts in placement.plugin_scores.items()}
    assert spread_part == {"a1": 2 * 50, "a2": 2 * 75, "b1": 2 * 100}


def test_resource_scores_worked_example() -> None:
    """LeastAllocated: cpu (4000-1500)*100//4000=62, mem (8192-1024)*100//8192=87 -> 74.
    Balanced: |0.375-0.125|/2 = 0.125 -> 87. TaintToleration 100 x3, nothing else."""
    n = node("n1", used_cpu=1000, used_mem=512)
    placement = schedule(PodSpec("p", cpu_m=500, mem_mib=512), [n])
    assert placement.plugin_scores["n1"] == {
        "TaintToleration": 300,
        "NodeAffinity": 0,
        "PodTopologySpread": 0,
        "InterPodAffinity": 0,
        "NodeResourcesFit": 74,
        "NodeResourcesBalancedAllocation": 87,
    }
    assert placement.scores == {"n1": 461}
    assert placement.message == "Successfully assigned p to n1"


def test_least_allocated_uses_nonzero_defaults_for_scoring() -> None:
    """A best-effort pod scores as 100m/200Mi: cpu (1000-100)*100//1000=90, mem (1024-200)*100//1024=80."""
    n = NodeView("n1", {}, alloc_cpu_m=1000, alloc_mem_mib=1024)
    assert schedule(PodSpec("be"), [n]).plugin_scores["n1"]["NodeResourcesFit"] == 85
    tracked = NodeView(
        "n1",
        {},
        alloc_cpu_m=1000,
        alloc_mem_mib=1024,
        nonzero_requested_cpu_m=100,
        nonzero_requested_mem_mib=200,
    )  # one best-effort pod already bound
    assert schedule(PodSpec("be"), [tracked]).plugin_scores["n1"]["NodeResourcesFit"] == (80 + 60) // 2


def test_failures_name_each_rejected_node() -> None:
    nodes = [node("n1", cpu=100), node("n2", taints=[DATA_TAINT]), node("n3")]
    placement = schedule(POD, nodes)
    assert placement.node == "n3"
    assert placement.failures == {"n1": ("Insufficient cpu",), "n2": (TAINT_MSG,)}
    assert set(placement.scores) == {"n3"}


def test_with_pod_binds_requests_labels_and_terms() -> None:
    pod = PodSpec("w", labels=WEB, cpu_m=0, mem_mib=64, required_pod_anti_affinity=(anti(),))
    bound = node("n1", used_cpu=100).with_pod(pod)
    assert (bound.requested_cpu_m, bound.requested_mem_mib) == (100, 64)
    assert (bound.nonzero_requested_cpu_m, bound.nonzero_requested_mem_mib) == (200, 64)
    assert bound.pod_labels == (WEB,)
    assert bound.pod_affinity == (BoundPodAffinity(required_anti_affinity=(anti(),)),)
    assert node("n1").with_pod(WEB_POD).pod_affinity == ()


def test_ties_are_broken_uniformly_with_rng() -> None:
    nodes = [node("a"), node("b"), node("c")]
    picks = [schedule(POD, nodes, np.random.default_rng(seed)).node for seed in range(60)]
    assert set(picks) == {"a", "b", "c"}
    assert max(picks.count(n) for n in "abc") < 40


# --- properties ----------------------------------------------------------------------------------

APPS = ["web", "db", "cache"]
labels_st = st.sampled_from(
    [{}, {"app": "web"}, {"app": "db"}, {"app": "cache"}, {"app": "web", "tier": "fe"}]
)
taint_st = st.builds(
    Taint,
    st.sampled_from(["workload", "gpu", "spot"]),
    st.sampled_from(["", "data", "yes"]),
    st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
)
toleration_st = st.builds(
    Toleration,
    st.sampled_from(["", "workload", "gpu", "spot"]),
    st.sampled_from(["Equal", "Exists"]),
    st.sampled_from(["", "data", "yes"]),
    st.sampled_from(["", "NoSchedule", "NoExecute", "PreferNoSchedule"]),
).filter(lambda t: t.key or t.operator == "Exists")  # API validation: an empty key needs Exists
term_st = st.builds(
    PodAffinityTerm,
    st.sampled_from([{"app": a} for a in APPS]),
    st.sampled_from([HOSTNAME_LABEL, ZONE_LABEL]),
    st.integers(1, 100),
)


@st.composite
def node_st(draw: st.DrawFn, name: str) -> NodeView:
    cpu = draw(st.integers(0, 8)) * 500
    mem = draw(st.integers(0, 8)) * 1024.0
    pods = tuple(draw(st.lists(labels_st, max_size=4)))
    affinity = tuple(
        BoundPodAffinity(required_anti_affinity=(t,)) for t in draw(st.lists(term_st, max_size=2))
    )
    labels = {HOSTNAME_LABEL: name}
    zone = draw(st.sampled_from(["a", "b", "c", None]))
    if zone is not None:
        labels[ZONE_LABEL] = zone
    return NodeView(
        name,
        labels,
        tuple(draw(st.lists(taint_st, max_size=2))),
        cpu,
        mem,
        draw(st.integers(0, 5000)),
        draw(st.floats(0, 9000, allow_nan=False)),
        pods,
        draw(st.booleans()),
        affinity,
    )


@st.composite
def cluster_st(draw: st.DrawFn) -> list[NodeView]:
    return [draw(node_st(f"n{i}")) for i in range(draw(st.integers(1, 7)))]


pod_st = st.builds(
    PodSpec,
    st.just("p"),
    labels_st,
    st.integers(0, 3000),
    st.integers(0, 8192).map(lambda m: m / 2),
    st.lists(toleration_st, max_size=3).map(tuple),
    required_pod_anti_affinity=st.lists(term_st, max_size=2).map(tuple),
    preferred_pod_affinity=st.lists(term_st, max_size=1).map(tuple),
    topology_spread=st.lists(
        st.builds(
            TopologySpreadConstraint,
            st.integers(1, 2),
            st.just(ZONE_LABEL),
            st.sampled_from(["DoNotSchedule", "ScheduleAnyway"]),
            st.sampled_from([{"app": a} for a in APPS]),
        ),
        max_size=1,
    ).map(tuple),
)


def _ref_tolerated(tol: Toleration, taint: Taint) -> bool:
    """Independent spelling of ToleratesTaint for the property below."""
    key_ok = tol.key == taint.key or (tol.key == "" and tol.operator == "Exists")
    effect_ok = tol.effect in ("", taint.effect)
    value_ok = tol.operator == "Exists" or tol.value == taint.value
    return key_ok and effect_ok and value_ok


def _label(n: NodeView, key: str) -> str | None:
    return n.name if key == HOSTNAME_LABEL else n.labels.get(key)


def _violates_anti_affinity(pod: PodSpec, chosen: NodeView, nodes: Sequence[NodeView]) -> bool:
    """Brute force over every pod in the chosen node's domains, both directions."""
    for other in nodes:
        for term in pod.required_pod_anti_affinity:
            here = _label(chosen, term.topology_key)
            if (
                here is not None
                and _label(other, term.topology_key) == here
                and any(all(pl.get(k) == v for k, v in term.match_labels.items()) for pl in other.pod_labels)
            ):
                return True
        for bound in other.pod_affinity:
            for term in bound.required_anti_affinity:
                here = _label(chosen, term.topology_key)
                if (
                    here is not None
                    and _label(other, term.topology_key) == here
                    and all(pod.labels.get(k) == v for k, v in term.match_labels.items())
                ):
                    return True
    return False


@settings(max_examples=300, deadline=None)
@given(cluster_st(), pod_st)
def test_placement_is_always_legal(nodes: list[NodeView], pod: PodSpec) -> None:
    placement = schedule(pod, nodes)
    if placement.node is None:
        assert placement.message.startswith(f"0/{len(nodes)} nodes are available:")
        assert all(filter_node(pod, n, nodes) is not None for n in nodes)
        return
    chosen = next(n for n in nodes if n.name == placement.node)
    assert filter_node(pod, chosen, nodes) is None
    assert pod.cpu_m == 0 or chosen.requested_cpu_m + pod.cpu_m <= chosen.alloc_cpu_m
    assert pod.mem_mib == 0 or chosen.requested_mem_mib + pod.mem_mib <= chosen.alloc_mem_mib + 1e-9
    for taint in chosen.taints:
        if taint.effect in ("NoSchedule", "NoExecute"):
            assert any(_ref_tolerated(t, taint) for t in pod.tolerations)
    assert not chosen.unschedulable or any(
        _ref_tolerated(t, Taint("node.kubernetes.io/unschedulable")) for t in pod.tolerations
    )
    assert not _violates_anti_affinity(pod, chosen, nodes)
    assert set(placement.scores) == {n.name for n in nodes} - set(placement.failures)
    assert placement.scores[placement.node] == max(placement.scores.values())


@settings(max_examples=150, deadline=None)
@given(cluster_st(), pod_st, st.integers(0, 2**32 - 1))
def test_schedule_is_deterministic_per_seed_and_pure(nodes: list[NodeView], pod: PodSpec, seed: int) -> None:
    before = (copy.deepcopy(nodes), copy.deepcopy(pod))
    first = schedule(pod, nodes, np.random.default_rng(seed))
    second = schedule(pod, nodes, np.random.default_rng(seed))
    assert first == second
    assert (nodes, pod) == before
    for n in nodes:
        filter_node(pod, n, nodes)
    assert (nodes, pod) == before


@settings(max_examples=150, deadline=None)
@given(cluster_st(), pod_st)
def test_plugin_scores_stay_in_range(nodes: list[NodeView], pod: PodSpec) -> None:
    from simkit.control.scheduler import SCORE_WEIGHTS

    for parts in schedule(pod, nodes).plugin_scores.values():
        for plugin, value in parts.items():
            assert 0 <= value <= 100 * SCORE_WEIGHTS[plugin]
