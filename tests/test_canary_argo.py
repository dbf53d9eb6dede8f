"""Argo Rollouts canary arithmetic against upstream's own test tables (argo-rollouts v1.9.1,
utils/replicaset/canary_test.go): TestCalculateReplicaCountsForCanary (38 cases, transcribed field
by field from the Go struct literals) and TestApproximateWeightedNewStableReplicaCounts (57 rows),
plus TestCalculateReplicaCountsForNewDeployment and TestCalculateReplicaCountsForCanaryTrafficRouting.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.control.progressive.argo_counts import (
    RS,
    SetCanaryScale,
    approximate_counts,
    basic_canary_counts,
    canary_replicas_or_weight,
    fenceposts,
    traffic_routed_counts,
)

# Each case: upstream's name; rolloutSpecReplicas; setWeight; maxSurge; maxUnavailable;
# stable = (stableSpecReplica, stableAvailableReplica); canary = (canarySpecReplica,
# canaryAvailableReplica); expected = (expectedCanaryReplicaCount, expectedStableReplicaCount);
# older = newRS("older", spec, available); scs = newSetCanaryScale(replicas, weight, match);
# traffic_routing, abort_delay (abortScaleDownDelaySeconds), abort (statusAbort), min_pods,
# promote_full.
CASES = [
    {
        "name": "Do not add extra RSs in scaleDownCount when .Spec.Replica < AvailableReplicas",
        "replicas": 10,
        "weight": 100,
        "surge": 3,
        "unavailable": 0,
        "stable": (7, 8),
        "canary": (6, 3),
        "expected": (6, 7),
    },
    {
        "name": "Use max surge int to scale up canary",
        "replicas": 10,
        "weight": 20,
        "surge": 2,
        "unavailable": 0,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (2, 10),
    },
    {
        "name": "Use max surge percentage to scale up canary",
        "replicas": 10,
        "weight": 20,
        "surge": "20%",
        "unavailable": 0,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (2, 10),
    },
    {
        "name": "Scale down extra stable replicas",
        "replicas": 10,
        "weight": 20,
        "surge": "20%",
        "unavailable": 0,
        "stable": (10, 10),
        "canary": (2, 2),
        "expected": (2, 8),
    },
    {
        "name": "Do not go past max surge",
        "replicas": 10,
        "weight": 30,
        "surge": 2,
        "unavailable": 0,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (2, 10),
    },
    {
        "name": "Use max unavailable int to scale down stableRS",
        "replicas": 10,
        "weight": 20,
        "surge": 0,
        "unavailable": 2,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (0, 8),
    },
    {
        "name": "Use max surge percentage to scale down stableRS",
        "replicas": 10,
        "weight": 20,
        "surge": 0,
        "unavailable": "20%",
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (0, 8),
    },
    {
        "name": "Do not go past max unavailable",
        "replicas": 10,
        "weight": 30,
        "surge": 0,
        "unavailable": 2,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (0, 8),
    },
    {
        "name": "Use Max Surge and Max Unavailable",
        "replicas": 10,
        "weight": 50,
        "surge": 2,
        "unavailable": 1,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (2, 9),
    },
    {
        "name": "Scale canaryRS to zero on setWeight of 0%",
        "replicas": 10,
        "weight": 0,
        "surge": 1,
        "unavailable": 1,
        "stable": (10, 10),
        "canary": (1, 1),
        "expected": (0, 10),
    },
    {
        "name": "Scale stable to zero on setWeight of 100%",
        "replicas": 10,
        "weight": 100,
        "surge": 1,
        "unavailable": 1,
        "stable": (1, 1),
        "canary": (10, 10),
        "expected": (10, 0),
    },
    {
        "name": "Do not scale canaryRS down to zero on non-zero weight",
        "replicas": 1,
        "weight": 20,
        "surge": 1,
        "unavailable": 0,
        "stable": (1, 1),
        "canary": (0, 0),
        "expected": (1, 1),
    },
    {
        "name": "Do not scale canaryRS down to zero on non-100 weight",
        "replicas": 1,
        "weight": 90,
        "surge": 1,
        "unavailable": 0,
        "stable": (1, 1),
        "canary": (0, 0),
        "expected": (1, 1),
    },
    {
        "name": "Scale canaryRS to zero on <50 weight without surge",
        "replicas": 1,
        "weight": 49,
        "surge": 0,
        "unavailable": 1,
        "stable": (1, 1),
        "canary": (0, 0),
        "expected": (0, 1),
    },
    {
        "name": "Scale stableRS down to zero on >=50 weight without surge",
        "replicas": 1,
        "weight": 51,
        "surge": 0,
        "unavailable": 1,
        "stable": (1, 1),
        "canary": (0, 0),
        "expected": (0, 0),
    },
    {
        "name": "Scale canaryRS to one on >=50 weight without surge and stable replicas",
        "replicas": 1,
        "weight": 51,
        "surge": 0,
        "unavailable": 1,
        "stable": (0, 0),
        "canary": (0, 0),
        "expected": (1, 0),
    },
    {
        "name": "Scale up Stable before canaryRS",
        "replicas": 10,
        "weight": 30,
        "surge": 1,
        "unavailable": 0,
        "stable": (1, 1),
        "canary": (0, 0),
        "expected": (1, 7),
        "older": (3, 3),
    },
    {
        "name": "Scale down canaryRS and stable",
        "replicas": 10,
        "weight": 30,
        "surge": 0,
        "unavailable": 3,
        "stable": (8, 5),
        "canary": (4, 4),
        "expected": (3, 7),
    },
    {
        "name": "Scale down stable and canary available",
        "replicas": 10,
        "weight": 100,
        "surge": 1,
        "unavailable": 0,
        "stable": (10, 2),
        "canary": (10, 8),
        "expected": (9, 2),
    },
    {
        "name": "Do not scale down canaryRS or stable when older RS count >= scaleDownCount",
        "replicas": 10,
        "weight": 30,
        "surge": 0,
        "unavailable": 1,
        "stable": (8, 6),
        "canary": (4, 2),
        "expected": (4, 8),
        "older": (3, 3),
    },
    {
        "name": "Do not round past maxSurge with uneven setWeight divisor",
        "replicas": 10,
        "weight": 5,
        "surge": 0,
        "unavailable": 1,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (0, 9),
    },
    {
        "name": "Do not round past maxSurge with uneven setWeight divisor (part 2)",
        "replicas": 10,
        "weight": 5,
        "surge": 0,
        "unavailable": 1,
        "stable": (9, 9),
        "canary": (0, 0),
        "expected": (1, 9),
    },
    {
        "name": "Use maxUnavailable of 1 when percentage of maxUnavailable and maxSurge result in 0 replicas",
        "replicas": 10,
        "weight": 10,
        "surge": "0%",
        "unavailable": "0%",
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (0, 9),
    },
    {
        "name": (
            "For canary replicas, use setCanaryScale.replicas when specified along with trafficRouting "
            "(and ignore setWeight)"
        ),
        "replicas": 1,
        "weight": 100,
        "surge": 0,
        "unavailable": 0,
        "stable": (1, 1),
        "canary": (0, 0),
        "expected": (9, 1),
        "scs": (9, None, False),
        "traffic_routing": True,
    },
    {
        "name": (
            "Use setCanaryScale.weight for canary replicas when specified with trafficRouting "
            "(and ignore setWeight)"
        ),
        "replicas": 4,
        "weight": 100,
        "surge": 0,
        "unavailable": 0,
        "stable": (4, 4),
        "canary": (0, 0),
        "expected": (8, 4),
        "scs": (None, 200, False),
        "traffic_routing": True,
    },
    {
        "name": "Ignore setCanaryScale replicas/weight when matchTrafficWeight is true",
        "replicas": 10,
        "weight": 20,
        "surge": "20%",
        "unavailable": 0,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (2, 10),
        "scs": (9, 100, True),
        "traffic_routing": True,
    },
    {
        "name": "Ignore setCanaryScale when trafficRouting is missing and use setWeight for replicas",
        "replicas": 10,
        "weight": 20,
        "surge": "20%",
        "unavailable": 0,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (2, 10),
        "scs": (9, 100, False),
    },
    {
        "name": "honor maxSurge during scale up when stableRS unavailable",
        "replicas": 4,
        "weight": 100,
        "surge": 1,
        "unavailable": 0,
        "stable": (4, 1),
        "canary": (0, 0),
        "expected": (1, 4),
    },
    {
        "name": "scale down to maxunavailable without exceeding maxSurge",
        "replicas": 3,
        "weight": 99,
        "surge": 0,
        "unavailable": 2,
        "stable": (3, 3),
        "canary": (0, 0),
        "expected": (0, 1),
    },
    {
        "name": "honor maxUnavailable during scale down stableRS unavailable",
        "replicas": 4,
        "weight": 100,
        "surge": 1,
        "unavailable": 0,
        "stable": (4, 1),
        "canary": (1, 1),
        "expected": (1, 3),
    },
    {
        "name": "honor maxUnavailable when aborting or reducing weight part 1",
        "replicas": 4,
        "weight": 0,
        "surge": 1,
        "unavailable": 0,
        "stable": (0, 0),
        "canary": (4, 4),
        "expected": (4, 1),
    },
    {
        "name": "honor maxUnavailable when aborting or reducing weight part 2",
        "replicas": 4,
        "weight": 0,
        "surge": 1,
        "unavailable": 0,
        "stable": (1, 0),
        "canary": (4, 4),
        "expected": (4, 1),
    },
    {
        "name": "honor maxUnavailable when aborting or reducing weight part 3",
        "replicas": 4,
        "weight": 0,
        "surge": 1,
        "unavailable": 0,
        "stable": (1, 1),
        "canary": (4, 4),
        "expected": (3, 1),
    },
    {
        "name": "promote full does not consider weight",
        "replicas": 4,
        "weight": 1,
        "surge": 4,
        "unavailable": 4,
        "stable": (4, 4),
        "canary": (0, 0),
        "expected": (4, 0),
        "promote_full": True,
    },
    {
        "name": "promote full still honors maxSurge/maxUnavailable",
        "replicas": 4,
        "weight": 1,
        "surge": 3,
        "unavailable": 0,
        "stable": (4, 4),
        "canary": (0, 0),
        "expected": (3, 4),
        "promote_full": True,
    },
    {
        "name": "aborted with abortScaleDownDelaySeconds:0 and setCanaryScale",
        "replicas": 1,
        "weight": 0,
        "surge": 0,
        "unavailable": 0,
        "stable": (1, 1),
        "canary": (1, 1),
        "expected": (1, 1),
        "scs": (1, None, False),
        "traffic_routing": True,
        "abort": True,
    },
    {
        "name": "aborted with abortScaleDownDelaySeconds>0 and setCanaryScale",
        "replicas": 1,
        "weight": 0,
        "surge": 0,
        "unavailable": 0,
        "stable": (1, 1),
        "canary": (1, 1),
        "expected": (0, 1),
        "scs": (1, None, False),
        "traffic_routing": True,
        "abort_delay": 30,
        "abort": True,
    },
    {
        "name": "Honor MinPodsPerReplicaSet when using trafficRouting and starting canary",
        "replicas": 10,
        "weight": 5,
        "surge": 0,
        "unavailable": 0,
        "stable": (10, 10),
        "canary": (0, 0),
        "expected": (2, 10),
        "traffic_routing": True,
        "min_pods": 2,
    },
]
APPROX = [
    (0, 0, 100, 0, 0, 0),
    (0, 50, 100, 0, 0, 0),
    (0, 100, 100, 0, 0, 0),
    (0, 0, 100, 1, 0, 0),
    (0, 50, 100, 1, 0, 0),
    (0, 100, 100, 1, 0, 0),
    (1, 0, 100, 0, 0, 1),
    (1, 1, 100, 0, 0, 1),
    (1, 49, 100, 0, 0, 1),
    (1, 50, 100, 0, 1, 0),
    (1, 99, 100, 0, 1, 0),
    (1, 100, 100, 0, 1, 0),
    (1, 0, 100, 1, 0, 1),
    (1, 1, 100, 1, 1, 1),
    (1, 49, 100, 1, 1, 1),
    (1, 50, 100, 1, 1, 1),
    (1, 99, 100, 1, 1, 1),
    (1, 100, 100, 1, 1, 0),
    (2, 0, 100, 0, 0, 2),
    (2, 1, 100, 0, 1, 1),
    (2, 50, 100, 0, 1, 1),
    (2, 99, 100, 0, 1, 1),
    (2, 100, 100, 0, 2, 0),
    (2, 0, 100, 1, 0, 2),
    (2, 1, 100, 1, 1, 2),
    (2, 50, 100, 1, 1, 1),
    (2, 99, 100, 1, 2, 1),
    (2, 100, 100, 1, 2, 0),
    (3, 10, 100, 0, 1, 2),
    (3, 25, 100, 0, 1, 2),
    (3, 33, 100, 0, 1, 2),
    (3, 34, 100, 0, 1, 2),
    (3, 49, 100, 0, 1, 2),
    (3, 50, 100, 0, 2, 1),
    (3, 10, 100, 1, 1, 3),
    (3, 25, 100, 1, 1, 3),
    (3, 33, 100, 1, 1, 2),
    (3, 34, 100, 1, 1, 2),
    (3, 49, 100, 1, 2, 2),
    (3, 50, 100, 1, 2, 2),
    (10, 0, 100, 1, 0, 10),
    (10, 1, 100, 0, 1, 9),
    (10, 14, 100, 0, 1, 9),
    (10, 15, 100, 0, 2, 8),
    (10, 16, 100, 0, 2, 8),
    (10, 99, 100, 0, 9, 1),
    (10, 100, 100, 1, 10, 0),
    (10, 0, 100, 1, 0, 10),
    (10, 1, 100, 1, 1, 10),
    (10, 18, 100, 1, 2, 9),
    (10, 19, 100, 1, 2, 9),
    (10, 20, 100, 1, 2, 8),
    (10, 23, 100, 1, 2, 8),
    (10, 24, 100, 1, 3, 8),
    (10, 25, 100, 1, 3, 8),
    (10, 99, 100, 1, 10, 1),
    (10, 100, 100, 1, 10, 0),
]


def _run(case: dict[str, Any]) -> tuple[int, int]:
    """As the Go test's loop: newRollout(... "canary", "stable" ...) with one setWeight step."""
    scs = case.get("scs")
    scale = SetCanaryScale(*scs) if scs is not None else None
    routed = case.get("traffic_routing", False)
    explicit, weight = canary_replicas_or_weight(
        case["weight"],
        scale,
        routed,
        abort=case.get("abort", False),
        abort_scale_down_delay_s=None if case.get("abort_delay") == 0 else case.get("abort_delay"),
        promote_full=case.get("promote_full", False),
    )
    if routed:
        return traffic_routed_counts(
            case["replicas"], weight, canary_scale_replicas=explicit, min_pods_per_rs=case.get("min_pods")
        )
    older = [RS(*case["older"])] if "older" in case else []
    return basic_canary_counts(
        case["replicas"],
        weight,
        RS(*case["canary"]),
        RS(*case["stable"]),
        older,
        max_surge=case["surge"],
        max_unavailable=case["unavailable"],
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_calculate_replica_counts_for_canary(case: dict[str, Any]) -> None:
    assert _run(case) == case["expected"]


@pytest.mark.parametrize("row", APPROX, ids=[str(r) for r in APPROX])
def test_approximate_weighted_counts(row: tuple[int, ...]) -> None:
    replicas, weight, max_weight, surge, canary, stable = row
    assert approximate_counts(replicas, weight, max_weight, surge) == (canary, stable)


def test_new_deployment_goes_to_full_scale() -> None:
    """TestCalculateReplicaCountsForNewDeployment: stable RS is the new RS."""
    counts = basic_canary_counts(10, 10, RS(10, 0), RS(10, 0), max_surge=0, max_unavailable=1, same_rs=True)
    assert counts == (10, 0)


def test_traffic_routing_keeps_stable_full() -> None:
    """TestCalculateReplicaCountsForCanaryTrafficRouting: 10 replicas at 10 %: canary 1, stable 10."""
    assert traffic_routed_counts(10, 10) == (1, 10)
    assert traffic_routed_counts(10, 10, dynamic_stable_scale=True) == (1, 9)


def test_defaults_are_25_percent() -> None:
    """defaults.go DefaultMaxSurge/DefaultMaxUnavailable "25": surge rounds up, unavailable down."""
    assert fenceposts(None, None, 10) == (3, 2)
    assert fenceposts(None, None, 3) == (1, 0)
    assert fenceposts(0, None, 3) == (0, 1)  # both resolve to 0: unavailable 1


@given(
    spec=st.integers(1, 60),
    weight=st.integers(0, 100),
    surge=st.integers(0, 5),
    unavailable=st.integers(0, 5),
    new=st.integers(0, 65),
    stable=st.integers(0, 65),
)
def test_basic_canary_never_exceeds_surge_from_a_settled_state(
    spec: int, weight: int, surge: int, unavailable: int, new: int, stable: int
) -> None:
    """From ReplicaSets within spec + maxSurge and fully available, one sync stays within it."""
    if surge == 0 and unavailable == 0:
        unavailable = 1
    if new + stable > spec + surge:
        return
    n, s = basic_canary_counts(
        spec, weight, RS(new, new), RS(stable, stable), max_surge=surge, max_unavailable=unavailable
    )
    assert n >= 0 and s >= 0
    assert n + s <= spec + surge
