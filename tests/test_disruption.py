"""PDB status over time with the eviction API (a drain's 429 and the 2-minute disruptedPods expiry),
and the StatefulSet update step (reverse ordinal, partition, maxUnavailable, OnDelete)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simkit.control.disruption import (
    LabelSelector,
    OwnerReference,
    Pod,
    PodDisruptionBudget,
    SelectorRequirement,
    Workload,
    evict,
    pdb_status,
)
from simkit.control.statefulset import (
    ON_DELETE,
    PARALLEL,
    StatefulPod,
    StatefulSetSpec,
    statefulset_max_unavailable,
    update_step,
)

RS = OwnerReference("apps/v1", "ReplicaSet", "web-abc", "uid-rs", controller=True)
WORKLOADS = (
    Workload("Deployment", "web", "uid-d", 3),
    Workload(
        "ReplicaSet",
        "web-abc",
        "uid-rs",
        3,
        owner_references=(OwnerReference("apps/v1", "Deployment", "web", "uid-d", True),),
    ),
)


def pods(n: int, ready: int | None = None) -> list[Pod]:
    ready = n if ready is None else ready
    return [Pod(f"web-{i}", labels={"app": "web"}, ready=i < ready, owner_references=(RS,)) for i in range(n)]


def budget(**kw: object) -> PodDisruptionBudget:
    kw.setdefault("selector", LabelSelector({"app": "web"}))
    return PodDisruptionBudget("web-pdb", **kw)  # type: ignore[arg-type]


def test_eviction_takes_the_budget_and_the_entry_expires_after_two_minutes() -> None:
    live = pods(3)
    pdb = pdb_status(budget(min_available=2), live, WORKLOADS, now=0.0).pdb
    assert (pdb.status.current_healthy, pdb.status.desired_healthy, pdb.status.disruptions_allowed) == (
        3,
        2,
        1,
    )

    first = evict(live[0], [pdb], now=10.0)
    assert (first.outcome, first.http_code, first.code) == ("evicted", 200, "BudgetDecremented")
    assert first.pdb is not None and first.pdb.status.disrupted_pods == {"web-0": 10.0}
    cond = first.pdb.status.condition("DisruptionAllowed")
    assert cond is not None and cond.reason == "InsufficientPods"
    second = evict(live[1], [first.pdb], now=11.0)
    assert (second.outcome, second.http_code) == ("rejected", 429)
    assert second.causes == ("The disruption budget web-pdb needs 2 healthy pods and has 3 currently",)

    # The pod was never deleted (say, a stuck finalizer): it is not healthy for 120 s, then counts again.
    at_129 = pdb_status(first.pdb, live, WORKLOADS, now=129.0)
    assert (at_129.pdb.status.current_healthy, at_129.pdb.status.disruptions_allowed) == (2, 0)
    assert at_129.recheck_after == pytest.approx(1.0)
    at_131 = pdb_status(at_129.pdb, live, WORKLOADS, now=131.0)
    assert at_131.pdb.status.disrupted_pods == {}
    assert (at_131.pdb.status.current_healthy, at_131.pdb.status.disruptions_allowed) == (3, 1)


def test_percent_max_unavailable_rounds_up_through_the_deployment_scale() -> None:
    status = pdb_status(budget(max_unavailable="34%"), pods(3), WORKLOADS, now=0.0).pdb.status
    # expected 3 from the Deployment (not the RS), ceil(1.02) = 2 unavailable -> desired 1
    assert (status.expected_pods, status.desired_healthy, status.disruptions_allowed) == (3, 1, 2)


def test_unhealthy_pod_eviction_policy() -> None:
    live = pods(3, ready=2)
    pdb = pdb_status(budget(min_available=2), live, WORKLOADS, now=0.0).pdb
    assert pdb.status.disruptions_allowed == 0
    unready = live[2]
    assert evict(unready, [pdb], now=1.0).code == "UnhealthyPodHealthyBudget"  # 2 >= 2 > 0
    tight = pdb_status(budget(min_available=3), live, WORKLOADS, now=0.0).pdb
    assert evict(unready, [tight], now=1.0).http_code == 429  # IfHealthyBudget: the budget is not healthy
    always = replace(tight, unhealthy_pod_eviction_policy="AlwaysAllow")
    assert evict(unready, [always], now=1.0).code == "UnhealthyPodAlwaysAllow"
    assert evict(live[0], [always], now=1.0).http_code == 429  # a ready pod is always guarded


def test_two_matching_pdbs_are_a_500_and_an_unknown_operator_fails_the_sync() -> None:
    live = pods(3)
    pdb = pdb_status(budget(min_available=1), live, WORKLOADS, now=0.0).pdb
    assert evict(live[0], [pdb, replace(pdb, name="other")], now=0.0).http_code == 500
    bad = budget(min_available=1, selector=LabelSelector({}, (SelectorRequirement("app", "Like", ("web",)),)))
    result = pdb_status(bad, live, WORKLOADS, now=0.0)
    assert result.sync_failed and result.reason == "SyncFailed"
    assert result.pdb.status.disruptions_allowed == 0


@pytest.mark.parametrize(
    ("value", "replicas", "expected"), [(None, 5, 1), ("50%", 5, 2), ("10%", 5, 1), (7, 3, 7)]
)
def test_statefulset_max_unavailable(value: int | str | None, replicas: int, expected: int) -> None:
    assert statefulset_max_unavailable(value, replicas) == expected


def roll(spec: StatefulSetSpec, n: int) -> list[tuple[str, tuple[int, ...]]]:
    """Drive update_step: a deleted pod is recreated by the next step and becomes healthy at once."""
    pods_ = {i: StatefulPod(i, "r1", healthy=True) for i in range(n)}
    trace = []
    for _ in range(4 * n + 4):
        decision = update_step(spec, list(pods_.values()), "r1", "r2")
        trace.append((decision.reason, decision.delete or tuple(o for o, _ in decision.create)))
        if decision.reason in ("UpdateComplete", ON_DELETE):
            break
        for ordinal in decision.delete:
            del pods_[ordinal]
        for ordinal, rev in decision.create:
            pods_[ordinal] = StatefulPod(ordinal, rev, healthy=True)
    return trace


def test_ordered_ready_rolling_update_goes_in_reverse_ordinal_down_to_the_partition() -> None:
    trace = roll(StatefulSetSpec(replicas=4, partition=1), 4)
    assert [t for t in trace if t[0] == "UpdatePods"] == [
        ("UpdatePods", (3,)),
        ("UpdatePods", (2,)),
        ("UpdatePods", (1,)),
    ]
    assert trace[-1][0] == "UpdateComplete"  # ordinal 0 stays at r1 (below the partition)


def test_max_unavailable_deletes_several_at_once_and_waits_for_unhealthy_pods() -> None:
    spec = StatefulSetSpec(
        replicas=5, pod_management_policy=PARALLEL, max_unavailable="40%", max_unavailable_gate=True
    )
    assert roll(spec, 5)[0] == ("UpdatePods", (4, 3))
    sick = [StatefulPod(i, "r1", healthy=i != 0) for i in range(5)]
    assert update_step(spec, sick, "r1", "r2").delete == (4,)  # one already unavailable
    waiting = [StatefulPod(i, "r1", healthy=i > 1) for i in range(5)]
    assert update_step(spec, waiting, "r1", "r2").reason == "WaitingForUpdate"


def test_ordered_ready_waits_for_the_recreated_pod_and_on_delete_never_deletes() -> None:
    spec = StatefulSetSpec(replicas=3)
    pending = [StatefulPod(0, "r1", True), StatefulPod(1, "r1", True), StatefulPod(2, "r2", healthy=False)]
    decision = update_step(spec, pending, "r1", "r2")
    assert (decision.reason, decision.waiting_for) == ("WaitingForPod", 2)
    assert roll(replace(spec, update_strategy=ON_DELETE), 3) == [(ON_DELETE, ())]
    missing = [StatefulPod(0, "r1", True), StatefulPod(2, "r1", True)]
    assert update_step(replace(spec, update_strategy=ON_DELETE), missing, "r1", "r2").create == ((1, "r2"),)
