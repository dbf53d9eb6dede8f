"""control/replicaset.py: the replica count and the deletion order, table-driven."""

from __future__ import annotations

import pytest

from simkit.control.replicaset import CREATE, DELETE, IN_SYNC, ReplicaPod, deletion_rank, reconcile


def pod(name: str, assigned=True, ready=True, terminating=False, ready_s=0.0, created_s=0.0) -> ReplicaPod:
    return ReplicaPod(name, assigned, ready, terminating, ready_s, created_s)


CASES = [
    # (id, kind, desired, pods, create, delete, reason)
    ("in sync", "Deployment", 2, [pod("a"), pod("b")], 0, (), IN_SYNC),
    ("scale up", "Deployment", 4, [pod("a"), pod("b")], 2, (), CREATE),
    ("terminating not counted", "Deployment", 2, [pod("a"), pod("b", terminating=True)], 1, (), CREATE),
    ("statefulset waits", "StatefulSet", 2, [pod("a"), pod("b", terminating=True)], 0, (), IN_SYNC),
    (
        "unassigned first",
        "Deployment",
        1,
        [pod("a"), pod("b", assigned=False, ready=False)],
        0,
        ("b",),
        DELETE,
    ),
    ("not ready first", "Deployment", 1, [pod("a"), pod("b", ready=False)], 0, ("b",), DELETE),
    (
        "recently ready first",
        "Deployment",
        1,
        [pod("a", ready_s=5.0), pod("b", ready_s=9.0)],
        0,
        ("b",),
        DELETE,
    ),
    ("newest first", "Deployment", 1, [pod("a", created_s=3.0), pod("b", created_s=1.0)], 0, ("a",), DELETE),
    ("terminating never chosen", "StatefulSet", 1, [pod("a"), pod("b", terminating=True)], 0, ("a",), DELETE),
    ("scale to zero", "Deployment", 0, [pod("a"), pod("b")], 0, ("a", "b"), DELETE),
]


@pytest.mark.parametrize(
    ("kind", "desired", "pods", "create", "delete", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_reconcile(kind, desired, pods, create, delete, reason):
    decision = reconcile(kind, desired, pods, now=100.0)
    assert (decision.create, decision.delete, decision.reason) == (create, delete, reason)
    assert decision.message


def test_deletion_rank_orders_like_active_pods_with_ranks():
    pods = [
        pod("ready-old", ready_s=1.0),
        pod("pending", assigned=False, ready=False),
        pod("starting", ready=False),
    ]
    assert [p.name for p in sorted(pods, key=deletion_rank)] == ["pending", "starting", "ready-old"]
