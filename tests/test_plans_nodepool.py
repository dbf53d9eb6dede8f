"""Node plans in the engine: EKS node-group updates (complete; PodEvictionFailure on a PDB deadlock),
GKE surge bounds, `kubectl drain` (429 retries, --timeout), one-line input errors, and tables unchanged
by a node plan that never starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import simkit
from simkit.cli import main
from simkit.control.nodepool_upgrade import eks_surge
from simkit.engine.cluster import REVISION_LABEL, Engine
from simkit.engine.simulation import run_engine
from simkit.errors import ScenarioError
from simkit.scenario.loader import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
DEADLOCK = (ROOT / "scenarios" / "upgrade-deadlock.yaml").read_text()


def _small(plan: dict[str, Any], **changes: Any) -> simkit.Scenario:
    """upgrade-deadlock.yaml's small cluster with `plan` instead of its own; `changes` patch it."""
    data = yaml.safe_load(DEADLOCK)
    data["plans"] = [plan]
    for dotted, value in changes.items():
        node: Any = data
        *path, last = dotted.split(".")
        for key in path:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return parse_scenario(yaml.safe_dump(data, sort_keys=False))


def test_eks_update_of_the_application_pool_completes() -> None:
    engines: list[Engine] = []
    sc = simkit.load_scenario(ROOT / "scenarios" / "node-upgrade-eks.yaml")
    out = run_engine(sc, hook=engines.append)
    result = simkit.simulate(sc)
    row = result.plans.iloc[0]
    assert row.outcome == "Complete" and result.passed
    assert 0 < row.duration_s < 3600
    steps = result.plan_steps
    scale_up = steps[steps.reason == "ScaleUp"].iloc[0]
    assert scale_up.to_replicas - scale_up.from_replicas == eks_surge(3, 1) == 6  # max(2 x 3 AZs, 1)
    drained = steps[steps.reason == "Drain"]
    assert len(drained) == 3 and drained.replica_set.str.startswith("application-pool-").all()
    assert (drained.start_s.diff().dropna() > 0).all()  # maxUnavailable 1: one node at a time
    assert row.peak_nodes >= 9 + 6 and row.extra_node_hours > 0 and row.extra_cost_usd_total > 0
    # every application node alive at the end runs the new revision; the old ones are gone
    engine = engines[0]
    app = [n for n in engine.state.alive_nodes() if n.pool == "application-pool"]
    assert app and all(n.labels.get(REVISION_LABEL) == "p1" for n in app)
    assert {n for n in drained.replica_set} <= {n.name for n in engine.state.nodes.values() if not n.alive}
    assert out.plan_rows[0].outcome == "Complete"


def test_pdb_with_min_available_equal_to_replicas_fails_the_update_after_15_minutes(capsys) -> None:
    result = simkit.simulate(ROOT / "scenarios" / "upgrade-deadlock.yaml")
    row = result.plans.iloc[0]
    assert row.outcome == "PodEvictionFailure"
    steps = result.plan_steps
    failed = steps[steps.reason == "PodEvictionFailure"].iloc[0]
    assert failed.end_s - failed.start_s == pytest.approx(900, abs=5)  # EKS's 15-minute limit
    assert failed.replica_set.startswith("application-pool-")
    assert f"node {failed.replica_set} (PDB payments-api-pdb)" in failed.waited
    assert "needs 3 healthy pods" in failed.waited
    blocked = result.events[result.events.reason == "EvictionBlocked"]
    assert len(blocked) > 150  # retried every 5 s for 15 minutes
    assert f"node {failed.replica_set} (PDB payments-api-pdb)" in row.message  # the plan row says why
    assert any(
        "plan app-pool-1-32 ended PodEvictionFailure" in f and "(PDB payments-api-pdb)" in f
        for f in result.failures
    )
    assert main(["run", str(ROOT / "scenarios" / "upgrade-deadlock.yaml"), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "PodEvictionFailure after" in out
    assert (
        f"  why: PodEvictionFailure: pods did not leave within 15 minutes: node {failed.replica_set}" in out
    )


def test_gke_surge_2_unavailable_1_keeps_4_of_5_nodes_available() -> None:
    """The UpgradeSettings reference's example: 5 nodes, maxSurge 2, maxUnavailable 1."""
    plan = {
        "name": "gke",
        "kind": "node-pool-upgrade",
        "target": "application-pool",
        "start": "1h",
        "upgradeSettings": {"strategy": "SURGE", "maxSurge": 2, "maxUnavailable": 1},
    }
    sc = _small(
        plan,
        **{
            "cluster.provider": "gcp",
            "cluster.region": "us-central1",
            "cluster.zones": ["us-central1-a", "us-central1-b", "us-central1-c"],
            "cluster.node_pools.0.instance_type": "e2-standard-4",
            "cluster.node_pools.0.min_nodes": 5,
            "cluster.cluster_autoscaler.nodes": ["5:12:application-pool"],
            "workloads.1.pdb": {"maxUnavailable": 1},
        },
    )
    out = run_engine(sc, duration_s=4 * 3600)
    record = out.plan_rows[0]
    assert record.outcome == "Complete"
    assert record.min_nodes_available >= 4


def test_drain_retries_every_5s_on_429_and_completes_once_a_replacement_is_ready() -> None:
    """Two web-frontend pods on the drained node, PDB maxUnavailable 1: the first eviction takes the
    budget, the second gets 429 every 5 s until the first one's replacement is Ready."""
    plan = {
        "name": "drain-a",
        "kind": "drain",
        "target": "topology.kubernetes.io/zone=us-east-1a",
        "start": "1h",
        "ignoreDaemonsets": True,
    }
    sc = _small(plan, **{"workloads.0.replicas": 6, "workloads.1.pdb": {"maxUnavailable": 1}})
    result = simkit.simulate(sc, duration=3 * 3600)
    row = result.plans.iloc[0]
    assert row.outcome == "Complete"
    ev = result.events
    blocked = ev[(ev.reason == "EvictionBlocked") & ev.message.str.contains("web-frontend-pdb")]
    assert len(blocked) >= 2
    pod = blocked.object.iloc[0]
    times = blocked[blocked.object == pod].t_s.to_numpy()
    assert (pd.Series(times).diff().dropna() == 5.0).all()
    evicted = ev[(ev.object == pod) & (ev.reason == "Evicted")].t_s.iloc[0]
    assert times[-1] < evicted <= times[-1] + 5.0
    rep = result.replicas[result.replicas.workload == "web-frontend"]
    back = rep[(rep.t_s > row.start_s) & (rep.t_s <= evicted) & (rep.ready == 6)]
    assert len(back)  # a replacement became Ready before the retried eviction went through
    step = result.plan_steps.iloc[0]
    assert step.reason == "Drained" and step.end_s == row.end_s
    # the drain does not wait for replacements: payments-api's cannot leave zone a's spread
    assert step.waited.startswith("pending: 0/3 nodes are available: 1 node(s) were unschedulable")


def test_drain_timeout() -> None:
    plan = {"name": "d", "kind": "drain", "target": "application-pool", "start": "1h", "timeout": "2m"}
    result = simkit.simulate(_small(plan), duration=3 * 3600)
    row = result.plans.iloc[0]
    assert row.outcome == "DrainTimeout"
    first = result.plan_steps.iloc[0]
    assert first.reason == "DrainTimeout" and first.end_s - first.start_s == pytest.approx(120, abs=1)
    assert "global timeout reached: 2m0s" in first.waited and "payments-api-pdb" in first.waited


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


UPGRADE = "  - {name: u, kind: node-pool-upgrade, target: application-pool, start: 1h"


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            "  - {name: u, kind: node-pool-upgrade, target: app-pool, start: 1h}",
            "plans[0].target: unknown node pool 'app-pool'; known: application-pool",
        ),
        (
            "  - {name: d, kind: drain, target: workload=batch, start: 1h}",
            "plans[0].target: node selector 'workload=batch' matches no node pool's nodes",
        ),
        (
            UPGRADE + ", updateConfig: {maxUnavailablePercentage: 120}}",
            "plans[0].updateConfig.maxUnavailablePercentage: "
            "input should be less than or equal to 100, got 120",
        ),
        (
            UPGRADE + ", updateConfig: {maxUnavailable: 1, maxUnavailablePercentage: 10}}",
            "plans[0].updateConfig.maxUnavailablePercentage: set maxUnavailable or "
            "maxUnavailablePercentage, not both",
        ),
        (
            UPGRADE + ", upgradeSettings: {maxSurge: 1}}",
            "plans[0].upgradeSettings: is a GKE/AKS setting; an EKS managed node group takes updateConfig",
        ),
        (
            UPGRADE + ", strategy: MINIMAL}",
            "plans[0].strategy: an EKS update strategy goes in "
            "updateConfig.updateStrategy (DEFAULT | MINIMAL)",
        ),
        (
            UPGRADE + ", updateConfig: {updateStrategy: FAST}}",
            "plans[0].updateConfig.updateStrategy: input should be 'DEFAULT' or 'MINIMAL', got 'FAST'",
        ),
        (
            "  - {name: d, kind: drain, target: application-pool, start: 1h, "
            "updateConfig: {maxUnavailable: 1}}",
            "plans[0].updateConfig: is not a setting of a drain plan",
        ),
    ],
)
def test_bad_node_plans_give_one_exact_line(plan: str, message: str) -> None:
    text = DEADLOCK.split("plans:")[0] + "plans:\n" + plan + "\nsimulation: {duration: 6h}\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="s.yaml")
    assert str(info.value) == f"s.yaml: {message} (line {_line(text, plan.strip())})"


def test_settings_of_another_provider_name_the_field() -> None:
    base = DEADLOCK.split("plans:")[0].replace("provider: aws", "provider: gcp")
    base = base.replace("us-east-1", "us-central1").replace("t3.xlarge", "e2-standard-4")
    plan = UPGRADE + ", upgradeSettings: {maxSurge: 1, drainTimeoutInMinutes: 30}}"
    text = base + "plans:\n" + plan + "\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="s.yaml")
    assert str(info.value) == (
        "s.yaml: plans[0].upgradeSettings.drainTimeoutInMinutes: is an AKS setting; GKE upgradeSettings "
        f"takes strategy, maxSurge, maxUnavailable, blueGreenSettings (line {_line(text, plan.strip())})"
    )
    zero = UPGRADE + ", upgradeSettings: {maxSurge: 0, maxUnavailable: 0}}"
    with pytest.raises(ScenarioError, match="maxSurge and maxUnavailable cannot both be 0"):
        parse_scenario(base + "plans:\n" + zero + "\n", source="s.yaml")


def test_tables_unchanged_by_a_node_plan_that_never_starts() -> None:
    """A node plan that starts after the run's end changes no table (bench/identical.py proves the
    same for every scenario without plans)."""
    plain = yaml.safe_load(DEADLOCK)
    del plain["plans"]
    a = simkit.simulate(parse_scenario(yaml.safe_dump(plain, sort_keys=False)), duration=3 * 3600)
    late = {"name": "late", "kind": "node-pool-upgrade", "target": "application-pool", "start": "5h"}
    b = simkit.simulate(_small(late), duration=3 * 3600)
    assert b.plans.iloc[0].outcome == "NotStarted"
    for name in ("services", "routes", "queues", "nodes", "replicas", "events", "decisions", "cost"):
        assert a.table(name).equals(b.table(name)), name
