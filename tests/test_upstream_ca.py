"""Cluster Autoscaler cases transcribed from kubernetes/autoscaler's own tests (release-1.37).

Each case names its upstream file and test. The facts (inputs, expected outputs) are restated in
simkit's types; no upstream code is copied. Upstream times are absolute; here `NOW` is the test
time and every timestamp is an offset from it. Memory is in the upstream unit (bytes) where only
ratios matter. Areas: drain.IsPodLongTerminating, utilization.Calculate, the scale-down
eligibility checker, and the binpacking estimator (incl. topology spread constraints).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pytest

from simkit.control.ca.drain import UtilizationError, is_long_terminating, node_utilization
from simkit.control.ca.estimator import estimate_nodes
from simkit.control.ca.flags import CAFlags
from simkit.control.ca.model import (
    ANN_DAEMONSET_POD,
    ANN_SCALE_DOWN_DISABLED,
    CANode,
    CAPod,
    CAState,
    NodeGroup,
)
from simkit.control.ca.scale_down import TO_BE_DELETED_TAINT, eligibility_reason
from simkit.control.scheduler import filter_node
from simkit.control.types import (
    HOSTNAME_LABEL,
    ZONE_LABEL,
    NodeView,
    PodSpec,
    Taint,
    TopologySpreadConstraint,
)

CA = "kubernetes/autoscaler@cluster-autoscaler-release-1.37:cluster-autoscaler/"
NOW = 1_000_000.0
MIB = 1024.0 * 1024.0

# ------------------------------------------------------------------ utils/drain


@dataclass(frozen=True)
class LongTerminating:
    name: str
    deleted_ago_s: float | None  # None: no deletionTimestamp
    grace_s: float | None  # None: terminationGracePeriodSeconds unset (API default 30s)
    want: bool


_LT = CA + "utils/drain/drain_test.go:TestIsPodLongTerminating/"
LONG_TERMINATING = [
    LongTerminating(_LT + "No deletion timestamp", None, 0, False),
    LongTerminating(_LT + "Just deleted no grace period defined", 0, None, False),
    LongTerminating(
        _LT + "Deleted for longer than PodLongTerminatingExtraThreshold with no grace period", 90, None, True
    ),
    LongTerminating(_LT + "Just deleted with grace period defined to 0", 0, 0, False),
    LongTerminating(
        _LT + "Deleted for longer than PodLongTerminatingExtraThreshold with grace period defined to 0",
        60,
        0,
        True,
    ),
    LongTerminating(
        _LT
        + "Deleted for longer than PodLongTerminatingExtraThreshold but not longer than grace period (2 min)",
        60,
        120,
        False,
    ),
    LongTerminating(
        _LT + "Deleted for longer than grace period (2 min) and PodLongTerminatingExtraThreshold",
        180,
        120,
        True,
    ),
]


@pytest.mark.parametrize("case", LONG_TERMINATING, ids=lambda c: c.name.rsplit("/", 1)[-1])
def test_is_pod_long_terminating(case: LongTerminating) -> None:
    extra = {} if case.grace_s is None else {"termination_grace_s": case.grace_s}
    deleted = None if case.deleted_ago_s is None else NOW - case.deleted_ago_s
    pod = CAPod(spec=PodSpec(name="p"), deletion_timestamp=deleted, **extra)  # type: ignore[arg-type]
    assert is_long_terminating(pod, NOW) is case.want


# ------------------------------------------------------------------ simulator/utilization


def _pod(
    name: str,
    cpu: int,
    mem: float,
    *,
    owner: str | None = "ReplicaSet",
    mirror: bool = False,
    gpus: int = 0,
    deleted_ago_s: float | None = None,
) -> CAPod:
    """BuildTestPod(name, cpu, mem); a negative request means "no request" (counts 0)."""
    spec = PodSpec(name=name, cpu_m=max(cpu, 0), mem_mib=max(mem, 0.0))
    deleted = None if deleted_ago_s is None else NOW - deleted_ago_s
    return CAPod(spec=spec, owner_kind=owner, mirror=mirror, gpus=gpus, deletion_timestamp=deleted)


P1 = _pod("p1", 100, 200_000)
P2 = _pod("p2", -1, -1)
DS3 = _pod("p3", 100, 200_000, owner="DaemonSet")
# A pod of a custom DaemonSet-like controller, marked with the daemonset-pod annotation.
DS4 = replace(_pod("p4", 100, 200_000, owner="CustomDaemonSet"), annotations={ANN_DAEMONSET_POD: "true"})
MIRROR = _pod("p4", 100, 200_000, mirror=True)
TERMINATED = _pod("podTerminated", 100, 200_000, deleted_ago_s=600)
GPU_POD = _pod("gpu_pod", 100, 200_000, gpus=1)


@dataclass(frozen=True)
class UtilCase:
    name: str
    pods: tuple[CAPod, ...]
    want: float | None  # None: upstream returns an error
    alloc_cpu_m: float = 2000
    alloc_mem: float = 2_000_000
    skip_ds: bool = False
    skip_mirror: bool = False
    alloc_gpus: int = 0
    gpu_node: bool = False  # the cloud provider reports a GPU (label), allocatable or not
    want_cpu: float | None = None


_TC = CA + "simulator/utilization/info_test.go:TestCalculate/"
UTILIZATION = [
    UtilCase(_TC + "node1: two pods and one without requests", (P1, P1, P2), 0.2, want_cpu=0.1),
    UtilCase(_TC + "node2: memory not allocatable is an error", (P1, P1, P2), None, alloc_mem=0),
    UtilCase(_TC + "DaemonSet pods subtracted when skipped", (P1, P1, P2, DS3, DS4), 2.5 / 10, skip_ds=True),
    UtilCase(_TC + "DaemonSet pod counted when not skipped", (P1, P2, DS3), 0.2),
    UtilCase(_TC + "pod deleted 10 minutes ago is left out", (P1, P1, P2, TERMINATED), 0.2),
    UtilCase(_TC + "mirror pod subtracted when skipped", (P1, P1, P2, MIRROR), 2.0 / 9, skip_mirror=True),
    UtilCase(_TC + "mirror pod counted when not skipped", (P1, P2, MIRROR), 0.2),
    UtilCase(
        _TC + "DaemonSet and mirror pods both skipped",
        (P1, MIRROR, DS3),
        1.0 / 8,
        skip_ds=True,
        skip_mirror=True,
    ),
    UtilCase(_TC + "GPU node: only the GPU counts", (P1, P1, GPU_POD), 1.0, alloc_gpus=1, gpu_node=True),
    UtilCase(_TC + "Node with Unready GPU", (P1, P1), 0.0, alloc_gpus=0, gpu_node=True),
]


@pytest.mark.parametrize("case", UTILIZATION, ids=lambda c: c.name.rsplit("/", 1)[-1])
def test_utilization_calculate(case: UtilCase) -> None:
    def calculate() -> float:
        util = node_utilization(
            case.alloc_cpu_m,
            case.alloc_mem,
            case.pods,
            now=NOW,
            ignore_daemonsets=case.skip_ds,
            ignore_mirror_pods=case.skip_mirror,
            alloc_gpus=case.alloc_gpus,
            gpu_node=case.gpu_node,
        )
        if case.want_cpu is not None:
            assert util.cpu == pytest.approx(case.want_cpu, rel=0.01)
        return util.utilization

    if case.want is None:
        with pytest.raises(UtilizationError):
            calculate()
    else:
        assert calculate() == pytest.approx(case.want, rel=0.01, abs=1e-12)


# ------------------------------------------------------------------ core/scaledown/eligibility


def _node(
    name: str,
    cpu: int = 1000,
    mem: float = 10,
    *,
    ready: bool = True,
    taints: tuple[Taint, ...] = (),
    annotations: Mapping[str, str] | None = None,
) -> CANode:
    """BuildTestNode(name, cpu, mem) in group ng1, Ready unless said otherwise."""
    view = NodeView(
        name=name, labels={HOSTNAME_LABEL: name}, taints=taints, alloc_cpu_m=cpu, alloc_mem_mib=mem
    )
    return CANode(view=view, group="ng1", ready=ready, annotations=annotations or {})


REGULAR = _node("regular")
# The ToBeDeletedByClusterAutoscaler taint carries the deletion start in unix seconds: now - 30.
JUST_DELETED = _node("justDeleted", taints=(Taint(TO_BE_DELETED_TAINT, str(int(NOW - 30)), "NoSchedule"),))
NO_SCALE_DOWN = _node("noScaleDown", annotations={ANN_SCALE_DOWN_DISABLED: "true"})
UNREADY = _node("unready", ready=False)
BROKEN_UTIL = _node("regular", cpu=0, mem=0)
BIG_POD = _pod("bigPod", 600, 0)
SMALL_POD = _pod("smallPod", 100, 0)
DS_POD = _pod("dsPod", 500, 0, owner="DaemonSet")


@dataclass(frozen=True)
class EligibilityCase:
    name: str
    node: CANode
    pods: tuple[CAPod, ...] = ()
    want: str | None = None  # UnremovableReason, None = unneeded candidate
    options: Mapping[str, object] = field(default_factory=dict)


_EL = CA + "core/scaledown/eligibility/eligibility_test.go:TestFilterOutUnremovable/"
_BASE = [
    EligibilityCase(_EL + "regular node stays", REGULAR),
    EligibilityCase(
        _EL + "recently deleted node is filtered out", JUST_DELETED, want="CurrentlyBeingDeleted"
    ),
    EligibilityCase(
        _EL + "marked no scale down is filtered out", NO_SCALE_DOWN, want="ScaleDownDisabledAnnotation"
    ),
    EligibilityCase(_EL + "highly utilized node is filtered out", REGULAR, (BIG_POD,), "NotUnderutilized"),
    EligibilityCase(_EL + "underutilized node stays", REGULAR, (SMALL_POD,)),
    EligibilityCase(
        _EL + "node is filtered out if utilization can't be calculated",
        BROKEN_UTIL,
        (SMALL_POD,),
        "UnexpectedError",
    ),
    EligibilityCase(_EL + "unready node stays", UNREADY),
    EligibilityCase(
        _EL + "unready node is filtered oud when scale-down of unready is disabled",
        UNREADY,
        want="ScaleDownUnreadyDisabled",
        options={"scale-down-unready-enabled": False},
    ),
]
_DS_SPECIAL = [
    EligibilityCase(_EL + "high utilization daemonsets node stays", REGULAR, (SMALL_POD, DS_POD)),
    EligibilityCase(
        _EL + "high utilization daemonsets node is filtered out, when IgnoreDaemonSets is disabled",
        REGULAR,
        (SMALL_POD, DS_POD),
        "NotUnderutilized",
        {"ignore-daemonsets-utilization": False},
    ),
    EligibilityCase(
        _EL + "only daemonsets pods on this node (threshold=0)",
        REGULAR,
        (DS_POD,),
        options={"scale-down-utilization-threshold": 0.0},
    ),
]


def _suite(cases: Sequence[EligibilityCase], name: str, patch: Mapping[str, object]) -> list[EligibilityCase]:
    """applySuite: suite options first, the case's own options override them."""
    return [
        EligibilityCase(f"{c.name} {name}", c.node, c.pods, c.want, {**patch, **c.options}) for c in cases
    ]


ELIGIBILITY = _suite(_BASE, "[base]", {}) + _suite(
    [*_BASE, *_DS_SPECIAL], "[ignore-daemonsets=true]", {"ignore-daemonsets-utilization": True}
)


@pytest.mark.parametrize("case", ELIGIBILITY, ids=lambda c: c.name.rsplit("/", 1)[-1])
def test_filter_out_unremovable(case: EligibilityCase) -> None:
    # defaultOptions(): ScaleDownUnreadyEnabled true, default thresholds, UnremovableNodeRecheckTimeout 5m.
    flags = CAFlags.from_mapping({"scale-down-unready-enabled": True, **case.options})
    template = NodeView(name="t", labels={}, alloc_cpu_m=1000, alloc_mem_mib=10)
    groups = {"ng1": NodeGroup("ng1", 1, 10, 2, template)}
    reason, _ = eligibility_reason(case.node, case.pods, groups, flags, CAState(), NOW)
    assert reason == case.want


# ------------------------------------------------------------------ estimator/binpacking_estimator


HOST_PORT = "simkit.test/host-port"  # PodSpec has no ports: the hostPort travels as a label


def _fits(pod: PodSpec, node: NodeView, nodes: Sequence[NodeView]) -> str | None:
    """The scheduler's filters plus NodePorts (not modelled by filter_node)."""
    port = pod.labels.get(HOST_PORT)
    if port is not None and any(p.get(HOST_PORT) == port for p in node.pod_labels):
        return "node(s) didn't have free ports for the requested pod ports"
    return filter_node(pod, node, nodes)


def _make_node(cpu: int, mem_mib: float, pods: int, name: str, zone: str) -> NodeView:
    """makeNode: hostname and zone labels, capacity = allocatable."""
    return NodeView(
        name=name,
        labels={HOSTNAME_LABEL: name, ZONE_LABEL: zone},
        alloc_cpu_m=cpu,
        alloc_mem_mib=mem_mib,
        alloc_pods=pods,
    )


def _estimatee(
    cpu: int, mem_bytes: float, *, host_port: int | None = None, spread: tuple[int, str, int] | None = None
) -> PodSpec:
    """BuildTestPod("estimatee", cpu, mem) labelled app=estimatee; WithMaxSkew(skew, key, minDomains)."""
    labels = {"app": "estimatee"}
    if host_port is not None:
        labels[HOST_PORT] = str(host_port)
    constraints: tuple[TopologySpreadConstraint, ...] = ()
    if spread is not None:
        skew, key, min_domains = spread
        constraints = (
            TopologySpreadConstraint(skew, key, "DoNotSchedule", {"app": "estimatee"}, min_domains),
        )
    return PodSpec(
        name="estimatee", labels=labels, cpu_m=cpu, mem_mib=mem_bytes / MIB, topology_spread=constraints
    )


@dataclass(frozen=True)
class BinpackCase:
    name: str
    millicores: int
    memory_mib: float
    groups: tuple[tuple[PodSpec, int], ...]
    node_count: int
    pod_count: int
    max_nodes: int = 0
    processed_cpu_m: int | None = None  # every estimated pod is from the group with this request


_BP = CA + "estimator/binpacking_estimator_test.go:TestBinpackingEstimate/"
BINPACKING = [
    BinpackCase(
        _BP + "simple resource-based binpacking", 350 * 3 - 50, 2000, ((_estimatee(350, 1000), 10),), 5, 10
    ),
    BinpackCase(_BP + "pods-per-node bound binpacking", 10000, 20000, ((_estimatee(10, 100), 20),), 2, 20),
    BinpackCase(
        _BP + "hostport conflict forces pod-per-node",
        1000,
        5000,
        ((_estimatee(200, 1000, host_port=5555), 8),),
        8,
        8,
    ),
    BinpackCase(
        _BP + "limiter cuts binpacking", 1000, 5000, ((_estimatee(500, 1000), 20),), 5, 10, max_nodes=5
    ),
    BinpackCase(
        _BP + "decreasing ordered pods are processed first",
        1000,
        5000,
        ((_estimatee(50, 1000), 10), (_estimatee(500, 1000), 10)),
        5,
        10,
        max_nodes=5,
        processed_cpu_m=500,
    ),
    BinpackCase(
        _BP + "hostname topology spreading with maxSkew=2 forces 2 pods/node",
        1000,
        5000,
        ((_estimatee(200, 200, spread=(2, HOSTNAME_LABEL, 1)), 8),),
        4,
        8,
    ),
    BinpackCase(
        _BP + "zonal topology spreading with maxSkew=2 only allows 2 pods to schedule",
        1000,
        5000,
        ((_estimatee(20, 100, spread=(2, ZONE_LABEL, 1)), 8),),
        1,
        2,
    ),
    BinpackCase(
        _BP
        + "hostname topology spreading with maxSkew=1 with a large scaleup handles "
        + "scheduling pods retroactively",
        1000,
        5000,
        ((_estimatee(20, 100, spread=(1, HOSTNAME_LABEL, 3)), 12),),
        3,
        12,
    ),
]


@pytest.mark.parametrize("case", BINPACKING, ids=lambda c: c.name.rsplit("/", 1)[-1])
def test_binpacking_estimate(case: BinpackCase) -> None:
    # One node in a different zone is already in the snapshot ("to trigger topology spread constraints").
    existing = [_make_node(100, 100, 10, "oldnode", "zone-jupiter")]
    template = _make_node(case.millicores, case.memory_mib, 10, "template", "zone-mars")
    groups = [[pod] * count for pod, count in case.groups]
    got = estimate_nodes(groups, template, existing, _fits, case.max_nodes)
    assert (got.node_count, len(got.scheduled)) == (case.node_count, case.pod_count)
    if case.processed_cpu_m is not None:
        assert {p.cpu_m for p in got.scheduled} == {case.processed_cpu_m}
