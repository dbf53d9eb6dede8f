"""Issue 11 item 5: a run starts warm (the cluster at its steady size for the load at t=0), so a
start-up transient no longer decides a plan; `simulation.start: cold` keeps the old start."""

from __future__ import annotations

import pytest

from simkit import load_scenario, simulate
from simkit.scenario.model import Scenario


def _lower_app_pool(start: str, min_nodes: int) -> Scenario:
    """The seed with the application pool's minimum (and its CA `--nodes` range) at `min_nodes`."""
    return load_scenario(
        overrides={
            "simulation.start": start,
            "cluster.node_pools.0.min_nodes": min_nodes,
            "cluster.cluster_autoscaler.nodes": [f"{min_nodes}:20:application-pool"],
        }
    )


def _availability(sc: Scenario) -> float:
    checks = simulate(sc, duration=6 * 3600, seed=1, progress=False).checks.set_index("target")
    return float(checks.loc["availability", "value"])


def test_lowering_min_nodes_no_longer_changes_availability() -> None:
    assert _availability(_lower_app_pool("warm", 1)) == _availability(_lower_app_pool("warm", 3)) == 100.0


def test_cold_start_reproduces_the_start_up_transient() -> None:
    cold = _availability(_lower_app_pool("cold", 1))
    assert cold < 100.0  # pods pending until the autoscaler's nodes join, as before warm starts
    assert _availability(_lower_app_pool("cold", 3)) == 100.0


def test_warm_start_adds_the_autoscalers_nodes_ready_at_t0() -> None:
    sc = load_scenario(overrides={"workloads.4.replicas": 40})  # 40 bff pods: the app pool is too small
    r = simulate(sc, duration=3600, seed=1, progress=False)
    assert r.pending.empty  # no pod ever waited for a node
    start = r.replicas[r.replicas["t_s"] == 0.0].set_index("workload")
    assert (start["ready"] == start["desired"]).all()
    app = r.nodes[(r.nodes["t_s"] == 0.0) & (r.nodes["pool"] == "application-pool")]
    assert app.groupby("zone")["nodes"].last().sum() > 3  # above min_nodes, within the --nodes range
    assert not (r.events["reason"] == "FailedScheduling").any()


def test_warm_start_respects_the_autoscalers_max_nodes() -> None:
    sc = load_scenario(
        overrides={"workloads.4.replicas": 80, "cluster.cluster_autoscaler.nodes": ["3:4:application-pool"]}
    )
    r = simulate(sc, duration=600, seed=1, progress=False)
    app = r.nodes[(r.nodes["t_s"] == 0.0) & (r.nodes["pool"] == "application-pool")]
    assert app.groupby("zone")["nodes"].last().sum() == 4
    assert r.pending["pending_pods"].iloc[0] > 0  # what still does not fit is pending, with its reason
    assert (r.events["reason"] == "FailedScheduling").any()


@pytest.mark.parametrize("start", ["warm", "cold"])
def test_warm_start_sets_hpa_replicas_for_the_load_at_t0(start: str) -> None:
    """growth-10x: the HPAs of llm-agent-service and workflow-orchestrator settle above 3 at t=0."""
    sc = load_scenario("scenarios/growth-10x.yaml", overrides={"simulation.start": start})
    r = simulate(sc, duration=600, seed=1, progress=False)
    start_rows = r.replicas[r.replicas["t_s"] == 0.0].set_index("workload")
    llm = int(start_rows.loc["llm-agent-service", "desired"])
    assert (llm > 3) if start == "warm" else (llm == 3)
