"""`kubectl drain` as a pure step (simkit.control.drain): cordon, the pod filters, eviction retried
every 5 s on 429 until the PDB allows it, --timeout -> DrainTimeout, --disable-eviction."""

from __future__ import annotations

import pytest
from fake_pool import Cluster, FNode

from simkit.control.disruption import EVICTION_REJECTED_MESSAGE, OwnerReference, Pod
from simkit.control.drain import (
    DAEMONSET_FATAL,
    DRAIN_REFUSED,
    DRAIN_TIMEOUT,
    DRAINED,
    LOCAL_STORAGE_FATAL,
    UNMANAGED_FATAL,
    DrainOptions,
    DrainState,
    NodePod,
    drain_step,
    go_duration,
)

DS = OwnerReference("apps/v1", "DaemonSet", "logs", "uid-ds", controller=True)
RS = OwnerReference("apps/v1", "ReplicaSet", "web-rs", "uid-rs", controller=True)


def two_nodes(replicas: int, min_available: int | None, opts: DrainOptions | None = None) -> Cluster:
    c = Cluster({"node-a": FNode("node-a", "a"), "node-b": FNode("node-b", "b")}, replicas, min_available)
    c.drain_opts = opts or DrainOptions()
    # Put every initial pod on node-a so the drain has work to do.
    for p in c.pods.values():
        p.node = "node-a"
    return c


def run_drain(c: Cluster, node: str, until: float) -> float:
    c.drains[node] = DrainState(node)
    now = 0.0
    while now <= until:
        c.tick(now)
        if c.drains[node].phase in ("Drained", "Failed"):
            return now
        now += 1.0
    return now


def test_429_is_retried_every_5s_and_the_drain_succeeds_once_the_budget_allows() -> None:
    c = two_nodes(replicas=3, min_available=2)
    end = run_drain(c, "node-a", 600)
    st = c.drains["node-a"]
    assert st.phase == "Drained" and st.reason == DRAINED
    kinds = [(t, k, tgt) for t, k, tgt, _ in c.drain_actions]
    assert kinds[0] == (0.0, "cordon", "node-a")
    evicts = [t for t, k, _ in kinds if k == "evict"]
    blocked = [(t, tgt) for t, k, tgt in kinds if k == "blocked"]
    # One disruption allowed at t=0: one pod goes, the other two get 429s.
    assert evicts[0] == 0.0 and len(evicts) == 3
    assert blocked and blocked[0][0] == 0.0
    for pod in {tgt for _, tgt in blocked}:
        times = [t for t, tgt in blocked if tgt == pod]
        assert all(b - a == 5.0 for a, b in zip(times, times[1:], strict=False)), times
        # The successful retry is on the same 5 s grid.
        ok = next(t for t, k, tgt in kinds if k == "evict" and tgt == pod)
        assert ok - times[-1] == 5.0
    # The second eviction waits for the first replacement to be Ready (20 s) and counted healthy.
    assert 20.0 <= evicts[1] <= 25.0
    # Done when the evicted pods are gone: last eviction + 30 s grace.
    assert end == evicts[-1] + 30.0
    msg = next(m for _, m in [(0, c.blocks["node-a"][0])])
    assert EVICTION_REJECTED_MESSAGE in msg and "web-pdb" in msg and "(will retry after 5s)" in msg
    assert c.blocks["node-a"][1] == "web-pdb"


def test_timeout_gives_drain_timeout_naming_the_budget() -> None:
    c = two_nodes(replicas=2, min_available=2, opts=DrainOptions(timeout_s=60))
    end = run_drain(c, "node-a", 600)
    st = c.drains["node-a"]
    assert (st.phase, st.reason, end) == ("Failed", DRAIN_TIMEOUT, 60.0)
    assert "global timeout reached: 1m0s" in st.message
    last = c.drain_actions[-1]
    assert last[1:] == ("fail", "node-a", DRAIN_TIMEOUT)
    blocked = [t for t, k, _, _ in c.drain_actions if k == "blocked"]
    assert blocked[:3] == [0.0, 0.0, 5.0] or blocked[:2] == [0.0, 5.0]


def test_no_timeout_waits_forever_while_the_budget_blocks() -> None:
    c = two_nodes(replicas=2, min_available=2)
    end = run_drain(c, "node-a", 1800)
    assert c.drains["node-a"].phase == "Evicting" and end > 1800
    assert c.drains["node-a"].reason == ""


def test_disable_eviction_deletes_past_the_budget() -> None:
    c = two_nodes(replicas=2, min_available=2, opts=DrainOptions(disable_eviction=True))
    end = run_drain(c, "node-a", 600)
    assert c.drains["node-a"].phase == "Drained" and end == 30.0
    assert {k for _, k, _, _ in c.drain_actions} == {"cordon", "delete", "done"}


def _pod(name: str, owner: OwnerReference | None = RS, **kw: object) -> Pod:
    return Pod(name, owner_references=() if owner is None else (owner,), **kw)  # type: ignore[arg-type]


REFUSE_DS = f"cannot delete {DAEMONSET_FATAL}: default/ds-x"
REFUSE_BARE = f"cannot delete {UNMANAGED_FATAL}: default/bare"
REFUSE_TMP = f"cannot delete {LOCAL_STORAGE_FATAL}: default/tmp"


@pytest.mark.parametrize(
    ("node_pod", "opts", "reason", "message"),
    [
        (
            NodePod(_pod("ds-x", DS), "n"),
            DrainOptions(),
            DRAIN_REFUSED,
            f"cannot delete {DAEMONSET_FATAL}: default/ds-x",
        ),
        (NodePod(_pod("ds-x", DS), "n"), DrainOptions(ignore_daemonsets=True), DRAINED, ""),
        (NodePod(_pod("static", None), "n", mirror=True), DrainOptions(force=True), DRAINED, ""),
        (
            NodePod(_pod("bare", None), "n"),
            DrainOptions(),
            DRAIN_REFUSED,
            f"cannot delete {UNMANAGED_FATAL}: default/bare",
        ),
        (
            NodePod(_pod("tmp"), "n", local_storage=True),
            DrainOptions(),
            DRAIN_REFUSED,
            f"cannot delete {LOCAL_STORAGE_FATAL}: default/tmp",
        ),
        (NodePod(_pod("done", None, phase="Succeeded"), "n"), DrainOptions(), DRAINED, ""),
    ],
)
def test_pod_filters_as_kubectl(node_pod: NodePod, opts: DrainOptions, reason: str, message: str) -> None:
    step = drain_step(DrainState("n"), [node_pod], [], 0.0, opts)
    assert step.actions[0].kind == "cordon" and step.actions[0].reason == "Cordoned"
    if reason == DRAIN_REFUSED:
        assert (step.state.phase, step.reason, step.state.message) == ("Failed", DRAIN_REFUSED, message)
        return
    # Skipped pods are never evicted; evicted ones must disappear before the drain is done.
    if any(a.kind == "evict" for a in step.actions):
        step = drain_step(step.state, [], [], 1.0, opts)
    assert step.reason == reason
    assert all(a.reason for a in step.actions)


def test_go_duration() -> None:
    assert [go_duration(s) for s in (5, 60, 90, 3600, 5400)] == ["5s", "1m0s", "1m30s", "1h0m0s", "1h30m0s"]
