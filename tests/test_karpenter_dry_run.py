"""`simkit.karpenter.dry_run`: the command Karpenter would compute at a time, and every non-decision
with Karpenter's own text (kubernetes-sigs/karpenter 2266468: disruption/types.go, helpers.go,
singlenodeconsolidation.go)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import simkit
from simkit.control import karpenter as k
from simkit.karpenter import explain_cluster

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "karpenter-baseline.yaml"
NOW = datetime(2025, 1, 1, 6, tzinfo=UTC)
GI = 1073741824000  # 1Gi in milli-bytes


def _type(name: str, cpu: int, price: float) -> k.InstanceType:
    offers = (k.Offering("on-demand", "z1", price),)
    return k.InstanceType(name, {"cpu": cpu * 1000, "memory": 8 * GI, "pods": 110_000}, offerings=offers)


def _node(name: str, annotations: dict[str, str] | None = None) -> k.Node:
    return k.Node(
        name,
        "default",
        "m5.large",
        "on-demand",
        "z1",
        allocatable={"cpu": 2000, "memory": 8 * GI, "pods": 110_000},
        annotations=annotations or {},
        initialized_at=NOW - timedelta(hours=1),
        created_at=NOW - timedelta(hours=1),
        consolidatable=True,
    )


def _pod(name: str, node: str, cpu: int = 1500) -> k.Pod:
    return k.Pod(name, node=node, requests={"cpu": cpu, "memory": GI}, start_time=NOW - timedelta(hours=1))


def _cluster(
    budget: str = "10%", annotations: dict[str, str] | None = None, pods: tuple[k.Pod, ...] = ()
) -> k.Cluster:
    pool = k.NodePool("default", budgets=(k.Budget(nodes=budget),))
    types = (_type("m5.large", 2, 0.096), _type("m5.xlarge", 4, 0.192))
    nodes = (_node("a", annotations), _node("b"))
    return k.Cluster(NOW, types, (pool,), nodes, pods or (_pod("p1", "a"), _pod("p2", "b")))


def test_no_cheaper_node_is_explained_per_candidate() -> None:
    out = explain_cluster(_cluster())
    assert out.command is None
    single = out.why[out.why.method == "single"].set_index("node")
    assert set(single.index) == {"a", "b"}
    assert (single.reason == "Unconsolidatable").all()
    assert single.message.str.contains("Can't replace with a cheaper node").all()


def test_budget_of_zero_blocks_with_karpenters_event_text() -> None:
    out = explain_cluster(_cluster(budget="0"))
    assert out.command is None
    blocked = out.why[out.why.reason == "DisruptionBlocked"]
    assert blocked.message.str.contains(
        "No allowed disruptions for disruption reason Underutilized due to blocking budget"
    ).any()


def test_do_not_disrupt_node_is_blocked_and_the_other_can_go() -> None:
    small = (_pod("p1", "a", 300), _pod("p2", "b", 300))
    out = explain_cluster(_cluster(annotations={"karpenter.sh/do-not-disrupt": "true"}, pods=small))
    assert out.command is not None and out.command.candidate_names == ("b",)
    a = out.why[out.why.node == "a"]
    assert a.message.str.contains(
        'Disruption is blocked through the "karpenter.sh/do-not-disrupt" annotation'
    ).all()
    assert "single delete (Underutilized) of b" in str(out)


def test_scheduler_veto_turns_the_command_into_a_non_decision() -> None:
    small = (_pod("p1", "a", 300), _pod("p2", "b", 300))
    out = explain_cluster(_cluster(pods=small), check=lambda cmd: "p2")
    assert out.command is None
    assert any("pod p2 would not schedule elsewhere" in e for e in out.events)


def test_dry_run_of_a_scenario_and_of_its_result_agree() -> None:
    by_file = simkit.karpenter.dry_run(BASE, at="2h")
    assert by_file.at_s == 7200.0
    assert set(by_file.why.columns) == {"node", "nodepool", "method", "decision", "reason", "message"}
    assert by_file.why.node.str.startswith("application-").all() and len(by_file.why) > 0
    result = simkit.simulate(BASE, duration=600.0, progress=False)
    by_result = simkit.karpenter.dry_run(result, at=7200.0)
    assert str(by_result) == str(by_file)


def test_dry_run_needs_karpenter() -> None:
    with pytest.raises(simkit.SimkitError, match="node_provisioner: karpenter"):
        simkit.karpenter.dry_run(ROOT / "scenarios" / "platform-baseline.yaml", at="1h")
